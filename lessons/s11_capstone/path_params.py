"""The numbers a URL may carry, bounded where the request is parsed.

An id is stored in an INTEGER column: PostgreSQL's holds up to 2**31 - 1, and a
larger number in a path would travel to the database driver and fail there with
a 500. Declared here, the bound answers 422 before any code runs, and /docs and
the OpenAPI schema show clients the range.
"""

from typing import Annotated

from fastapi import Path

MAX_ID = 2**31 - 1  # the largest value of PostgreSQL's INTEGER, the type of every id column

UserId = Annotated[int, Path(ge=1, le=MAX_ID, description="The user's id")]
# A thumbnail's longest side in pixels; only the sizes the settings list exist.
ThumbnailSize = Annotated[int, Path(ge=1, le=10_000, description="The thumbnail's longest side, in pixels")]
