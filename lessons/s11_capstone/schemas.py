"""What the API accepts and answers, validated by pydantic."""

from typing import Annotated, Any, Literal

from fastapi import Form
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, StringConstraints

from .passwords import password_problem


def _storable(text: str) -> str:
    """Refuse text the database cannot store, as a 422 here rather than a 500 at the INSERT.

    PostgreSQL's text types cannot hold the NUL character. SQLite can, so this
    only ever fails on the real database: exactly the bug a test on SQLite misses.
    """
    if "\x00" in text:
        raise ValueError("The text must not contain the NUL character")
    return text


# Every free-text field a client sends, in a body, a path or a form, is StorableText.
StorableText = Annotated[str, AfterValidator(_storable)]
# The constraints first: the NUL check then sees the stripped text.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(_storable)]


def _acceptable_password(password: str) -> str:
    problem = password_problem(password)
    if problem is not None:
        raise ValueError(problem)
    return password


# Checked as it arrives, so a password bcrypt cannot take whole is a 422, never a silent truncation.
NewPassword = Annotated[str, AfterValidator(_acceptable_password)]


class UserCreate(BaseModel):
    email: EmailStr
    name: Name
    password: NewPassword


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: str


class ProfileImageOut(BaseModel):
    """A profile image and the thumbnails made from it so far."""

    user_id: int
    format: str
    width: int
    height: int
    # The sizes whose thumbnail exists now; the rest are still being made (or were lost).
    thumbnails: list[int]


class RegistrationReceived(BaseModel):
    """POST /users/register's answer, the same for a new email and a known one: no id, no task."""

    detail: str = "Check your inbox: the email on its way says how to go on"


TaskState = Literal["PENDING", "STARTED", "RETRY", "SUCCESS", "FAILURE", "REVOKED"]


class TaskStatus(BaseModel):
    task_id: str
    state: TaskState
    # How many retries have happened so far (None while PENDING: nothing is known yet).
    retries: int | None = None
    # The task's answer when it succeeded, the last error when it is retrying or failed.
    result: dict[str, Any] | None = None
    error: str | None = None


class ProfileUpdate(BaseModel):
    """PATCH /users/{user_id}: the fields a profile edit may change; all optional."""

    name: Name | None = None


class RoleChange(BaseModel):
    role: Literal["customer", "staff", "admin"]


class PasswordLoginForm(OAuth2PasswordRequestForm):
    """The OAuth2 password form of POST /token, its username and password checked like all other text.

    FastAPI's own form takes any text: a NUL in the username reached PostgreSQL
    (a 500), and one in the password reached bcrypt, which refuses it (a 500).
    Here both are a 422. The fields, and so the Authorize dialog of /docs, are
    the same; only the two annotations differ.
    """

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[StorableText, Form()],
        password: Annotated[StorableText, Form(json_schema_extra={"format": "password"})],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form(json_schema_extra={"format": "password"})] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


class PasswordChange(BaseModel):
    # Not checked against the password rules (it was set under them), but it must be text bcrypt can take.
    current_password: StorableText
    new_password: NewPassword


class TokenPair(BaseModel):
    """The token response of RFC 6749, section 5.1."""

    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int  # seconds until the access token expires
    scope: str  # the scopes granted, space-separated


class RefreshRequest(BaseModel):
    refresh_token: str
