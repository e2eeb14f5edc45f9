"""Exercise 06/token_info: what does my token say about me?

`GET /token/info` (with an X-Tenant-ID header and a bearer ACCESS token)
answers what the token carries, read from its checked claims:

    {"user_id": 2, "tenant": "acme", "scopes": ["me"], "expires_in": 899}

- `user_id`: the token's subject, as an integer (claims.user_id).
- `tenant`, `scopes`: as in the token.
- `expires_in`: seconds until the token expires (claims.seconds_left()).

Every refusal comes from the dependency, not from you: no token, a refresh
token, a token of another tenant or a logged-out token answer 401 before your
code runs. Ask for the claims, not the raw token: the raw token is unchecked.
"""

from fastapi import APIRouter
from pydantic import BaseModel

from ..authentication import AccessClaimsDep

router = APIRouter(tags=["exercises"])


class TokenInfo(BaseModel):
    user_id: int
    tenant: str
    scopes: list[str]
    expires_in: int


@router.get("/token/info")
async def token_info(claims: AccessClaimsDep) -> TokenInfo:
    raise NotImplementedError("exercise 06/token_info: write this part")
