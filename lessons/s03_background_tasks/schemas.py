"""What the API accepts and answers, validated by pydantic."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, StringConstraints


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
