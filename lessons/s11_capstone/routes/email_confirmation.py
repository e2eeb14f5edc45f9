"""POST /users/confirm-email: the owner of a new account sends back the code from their welcome email."""

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from ..authentication import TokenServiceDep
from ..dependencies import TenantDep, UserServiceDep
from ..tokens import MAX_TOKEN_LENGTH, InvalidToken

# No rate limit: checking a code costs one signature check, and no code can be guessed.
router = APIRouter(tags=["users"])


class EmailConfirmation(BaseModel):
    code: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH, description="The code in the welcome email")


@router.post("/users/confirm-email", status_code=status.HTTP_204_NO_CONTENT)
def confirm_email(body: EmailConfirmation, tenant: TenantDep, tokens: TokenServiceDep, users: UserServiceDep) -> None:
    try:
        claims = tokens.decode(body.code, "confirm_email")
    except InvalidToken as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"This confirmation code cannot be used: {error}") from error
    if claims.tenant != tenant.id:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "This confirmation code belongs to another tenant")
    users.confirm_email(claims.user_id)
