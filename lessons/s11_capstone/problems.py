"""Problem details (RFC 9457): the one shape of every error the API sends.

    HTTP/1.1 404 Not Found
    Content-Type: application/problem+json

    {"type": "https://storefront.example/problems/product-not-found", "title": "Product not found",
     "status": 404, "detail": "No product 'NOPE-1'", "instance": "/products/NOPE-1"}

`detail` is the sentence for a human (and stays the string clients already read);
`instance` is the path the problem happened at; anything else a client may act on
is an extension member beside them (`errors` for a 422, `correlation_id` for a 500).

What `type` is: a problem a client may want to tell apart from others with the
same status (a missing product, a busy database, an invalid request) gets a URI of
its own, built from one base; a client compares it as a string, and it never
changes. The base is under `.example`, a name reserved for documentation: the URIs
identify, they are not promised to resolve (the RFC allows both). A problem that
says nothing beyond its status (401, 403, a route that does not exist) is
`about:blank`, and then its title is the status's own phrase, as the RFC asks.
"""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

MEDIA_TYPE = "application/problem+json"
TYPES = "https://storefront.example/problems/"


def problem_type(slug: str) -> str:
    return TYPES + slug


def problem_response(
    request: Request,
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A problem answer; without a slug it is about:blank, titled with the status's phrase."""
    body = {
        "type": problem_type(slug) if slug else "about:blank",
        "title": title if slug and title else HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        # The path as the server decoded it: bounded by its limit on a request's head, and
        # undecodable bytes already replaced (U+FFFD), so it is always short enough and encodable.
        "instance": request.url.path,
        **extensions,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


class Problem(BaseModel):
    """What every error of the API answers, for the API description (extension members allowed)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=[problem_type("product-not-found")])
    title: str = Field(examples=["Product not found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["No product 'NOPE-1'"])
    instance: str | None = Field(default=None, examples=["/products/NOPE-1"])


class InvalidPart(BaseModel):
    """One part of a request that does not fit its schema: where it is, and what is wrong."""

    type: str
    loc: list[str | int]
    msg: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class ValidationProblem(Problem):
    """The 422: a problem whose `errors` lists each invalid part of the request."""

    errors: list[InvalidPart]


def documented(model: type[BaseModel], description: str) -> dict[str, Any]:
    """A `responses=` entry: the model, sent as application/problem+json.

    FastAPI lists a `responses=` model under the route's own media type as well
    (application/json): the schema is the same under both.
    """
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"model": model, "description": description, "content": {MEDIA_TYPE: {"schema": schema}}}


# Every route documents its errors: a 422 lists what was invalid, any other status is a Problem.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: documented(ValidationProblem, "The request does not fit its schema; `errors` says where"),
    "default": documented(Problem, "An error, as problem details (RFC 9457)"),
}
