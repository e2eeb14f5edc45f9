"""Receiving an uploaded file safely: never more than the limit, and never on disk.

FastAPI's `UploadFile` parameter reads the WHOLE request body before the route
runs, spooling every byte past the first megabyte to a temporary file: a 60 MB
upload is received and written to disk, only for the route to answer 413. So the
upload route reads its body itself, here: the multipart stream is parsed as it
arrives, the file part is kept in memory, and the request is refused the moment
it passes the limit, with the rest of it never read.
"""

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header

from .dependencies import SettingsDep

if TYPE_CHECKING:
    # python-multipart defines the type of its callback table for type checkers only.
    from python_multipart.multipart import MultipartCallbacks

# The form field that carries the file, as FastAPI would name it from `file: UploadFile`.
FIELD = "file"
# Room for what surrounds the file in a multipart body: boundaries, part headers
# and the filename. Generous; the file itself is held to the limit exactly.
FORM_OVERHEAD_BYTES = 16 * 1024

# /docs cannot infer the form from the route's parameters (there is no UploadFile
# parameter any more), so the route states it: one required binary field, "file".
UPLOAD_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FIELD],
                    "properties": {FIELD: {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


def too_large(limit: int) -> HTTPException:
    return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"The file is larger than the limit of {limit:,} bytes")


def invalid_file(kind: str, message: str) -> RequestValidationError:
    """A 422 in the shape of every other one: `detail` is a list of problems, each with its `loc`."""
    return RequestValidationError([{"type": kind, "loc": ("body", FIELD), "msg": message, "input": None}])


def missing_file() -> RequestValidationError:
    # The same 422 FastAPI gives for a missing `file: UploadFile`, so clients see no difference.
    return invalid_file("missing", "Field required")


class FilePart:
    """Callbacks for python-multipart's streaming parser: keeps the data of the part named FIELD."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()
        self.found = False
        self.ended = False  # the closing boundary arrived: the body was not cut off
        self._header = bytearray()
        self._value = bytearray()
        self._is_file = False

    def callbacks(self) -> "MultipartCallbacks":
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": lambda data, start, end: self._header.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._value.extend(data[start:end]),
            "on_header_end": self.on_header_end,
            "on_part_data": self.on_part_data,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self._is_file = False

    def on_header_end(self) -> None:
        if bytes(self._header).lower() == b"content-disposition":
            _, options = parse_options_header(bytes(self._value))
            self._is_file = options.get(b"name") == FIELD.encode()
            if self._is_file and self.found:
                raise invalid_file("value_error", "Send one file, not several")
            self.found = self.found or self._is_file
        self._header.clear()
        self._value.clear()

    def on_end(self) -> None:
        self.ended = True

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._is_file:
            self.data.extend(data[start:end])
            if len(self.data) > self.limit:
                raise too_large(self.limit)


async def receive_upload(request: Request, settings: SettingsDep) -> bytes:
    """The uploaded file's bytes; 413 as soon as there are more than the limit, 422 if there are none."""
    limit = settings.max_upload_bytes
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in options:
        raise missing_file()
    # A declared length says "too big" before a single byte is read.
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + FORM_OVERHEAD_BYTES:
        raise too_large(limit)
    part = FilePart(limit)
    parser = MultipartParser(options[b"boundary"], part.callbacks())
    received = 0
    try:
        # A chunked request declares no length: count what arrives, and stop reading at the limit.
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit + FORM_OVERHEAD_BYTES:
                raise too_large(limit)
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "The multipart body is malformed") from None
    if not part.ended:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "The multipart body is incomplete (no closing boundary)")
    if not part.found:
        raise missing_file()
    if not part.data:
        raise invalid_file("value_error", "The uploaded file is empty")
    return bytes(part.data)


UploadDep = Annotated[bytes, Depends(receive_upload)]
