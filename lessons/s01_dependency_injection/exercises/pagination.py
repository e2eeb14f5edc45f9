"""Exercise 01/pagination: list users a page at a time.

`GET /users?limit=2&offset=4` answers the users in the order they registered,
at most `limit` of them, skipping the first `offset`.

Two parts to write:
1. `page_params`, a dependency that gathers the two query parameters into a
   `Page`. FastAPI already validates them from the signature (limit 1-100,
   default 20; offset 0 or more, default 0): any list endpoint can reuse it.
2. The route body: select the users ordered by id, apply the page, return them.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from ..dependencies import SessionDep
from ..models import User
from ..schemas import UserOut

router = APIRouter()


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def page_params(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    # Bounded too: an offset past what SQLite or PostgreSQL can count would fail in the
    # database (a 500) instead of answering 422 here.
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page:
    raise NotImplementedError("exercise 01/pagination: write this part")


@router.get("/users")
def list_users(page: Annotated[Page, Depends(page_params)], session: SessionDep) -> list[UserOut]:
    raise NotImplementedError("exercise 01/pagination: write this part")
