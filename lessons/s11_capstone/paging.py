"""Paging a list: how many items, and from where, chosen by the client as plain query parameters.

When a dependency pays for itself, and when a parameter is the better tool:

- a dependency owns something (a session, a client from the pool), needs the
  request's scope or a clean-up after it (`yield`), is shared by many routes (the
  tenant, the rate limit), or must be swapped in tests (`dependency_overrides`);
- a value the client chooses is a parameter. `limit: Limit = 20` is validated and
  documented in /docs where the route is declared, and a test sets it with
  `?limit=5`. A `get_page_size()` that only returns 20 through `Depends` does none
  of that: the client cannot choose it, /docs does not show it, and changing it in
  a test takes an override where a query string would do.
"""

from typing import Annotated

from fastapi import Query

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# Bounded too: an offset past any catalogue is a 422, not an integer the database cannot hold.
MAX_OFFSET = 100_000

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many items at most")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="How many items to skip first")]
