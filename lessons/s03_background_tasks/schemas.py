"""What the API accepts and answers, validated by pydantic."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class UserCreate(BaseModel):
    email: EmailStr
    name: Name


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str


class ProfileImageOut(BaseModel):
    """A profile image and the thumbnails made from it so far."""

    user_id: int
    format: str
    width: int
    height: int
    # The sizes whose thumbnail exists now; the rest are still being made (or were lost).
    thumbnails: list[int]
