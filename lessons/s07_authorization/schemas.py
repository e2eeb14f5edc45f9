"""What the API accepts and answers, validated by pydantic."""

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, StringConstraints

from .passwords import password_problem

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


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


class Registration(BaseModel):
    """POST /users/register's answer: the user, and the id of the task sending the welcome email."""

    user: UserOut
    task_id: str


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


class PasswordChange(BaseModel):
    current_password: str
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
