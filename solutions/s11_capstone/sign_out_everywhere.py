"""Exercise 11/sign_out_everywhere: DELETE /users/me/tokens, and every token of yours stops working.

A lost phone, a shared computer: a user wants every log-in of theirs ended, the
ones on other devices too. DELETE /users/me/tokens is routed already (any
logged-in user, for themselves, with the "me" scope). Write `end_every_log_in`,
run in the thread pool with the request's session: once it has committed, every
access token AND every refresh token the user was ever issued, by any of the API's
processes, is refused by every process (401), the caller's own included; a log-in
afterwards works as before, and nobody else's tokens are touched. Answer 204.

The denylist of POST /logout cannot do this: it needs each token's jti, and the
tokens of other log-ins were never seen by this request (nor, maybe, by this
process). Find what every token carries and every request checks against the
database (authentication.py, and POST /token/refresh in routes/auth.py), and change
it for this user alone.
"""

from fastapi import APIRouter, Depends, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import update
from sqlalchemy.orm import Session

from ..authentication import MeDep
from ..dependencies import SessionDep
from ..models import User
from ..rate_limiting import rate_limiter

router = APIRouter(tags=["exercises"], dependencies=[Depends(rate_limiter)])


def end_every_log_in(session: Session, user_id: int) -> None:
    # BEGIN SOLUTION
    # Every token carries the version it was issued at (its `ver` claim); every process reads the
    # user's current version from the database on every request. One more, and none of them matches.
    # Added by the database, not read then written: a password change at the same moment counts too.
    session.execute(update(User).where(User.id == user_id).values(token_version=User.token_version + 1))
    session.commit()
    # END SOLUTION


@router.delete(
    "/users/me/tokens",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={401: {"description": "No valid token: there is no log-in to end"}},
)
async def sign_out_everywhere(user: MeDep, session: SessionDep) -> None:
    await run_in_threadpool(end_every_log_in, session, user.id)
