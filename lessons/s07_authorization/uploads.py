"""Reading an uploaded file safely: never more than the limit allows."""

from typing import BinaryIO

from fastapi import HTTPException, status


def read_upload(file: BinaryIO, limit: int) -> bytes:
    """The upload's bytes; 422 if there are none, 413 if there are more than `limit`.

    Reading `limit + 1` bytes is enough to tell "too big" without holding a huge
    file in memory. (The multipart parser has already spooled the whole body to a
    temporary file by now; cap the request size at the proxy in front of the app
    as well, so an oversized body is refused before it is even received.)
    """
    data = file.read(limit + 1)
    if not data:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "The uploaded file is empty")
    if len(data) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"The file is larger than the limit of {limit:,} bytes")
    return data
