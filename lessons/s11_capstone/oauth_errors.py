"""The errors of POST /token, in the shape RFC 6749 (section 5.2) gives them.

An OAuth2 client, Swagger UI's Authorize dialog among them, reads `error`, one of
the codes the RFC fixes, and `error_description`, a sentence for a human. Given
only FastAPI's usual {"detail": ...}, the dialog could say no more than "Bad
Request"; given these, it prints why the log-in failed.

The answer is also a problem (RFC 9457) like every other error of the API: type,
title, status and `detail` (the same sentence) beside the RFC's two members, which
a problem may carry as extension members. Its media type stays application/json:
RFC 6749 fixes it for this endpoint, and an OAuth2 client may check it. The type
is the RFC section that defines these errors; `error` tells them apart.

    invalid_request         a field is missing or malformed, or two fields contradict each other
    invalid_client          the client_id (here: the tenant) is unknown or malformed
    invalid_grant           the email and password do not belong to an account
    unsupported_grant_type  a grant_type other than "password"
    slow_down               too many attempts: RFC 6749 has no code for it, RFC 8628 registered this one

Each answers 400, except slow_down (429, with Retry-After). RFC 6749 would have
invalid_client answer 401 with a `WWW-Authenticate: Basic` challenge when the
client_id came in an Authorization: Basic header, as the Authorize dialog sends
it; a browser meets that challenge with its own password box, on top of /docs.
Here client_id has no secret and only names the tenant, so it gets a 400 too.

A description is printable ASCII with no " and no \\ (the RFC's rule, which clients
may rely on), so none quotes back what a client sent unless it has been checked.
"""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

TOKEN_ERROR_TYPE = "https://www.rfc-editor.org/rfc/rfc6749#section-5.2"


class OAuthErrorBody(BaseModel):
    """What every failed request to the token endpoint answers, for the API description."""

    type: str = TOKEN_ERROR_TYPE
    title: str = "The token request failed"
    status: int
    error: str
    error_description: str
    detail: str


class OAuthError(HTTPException):
    def __init__(
        self,
        error: str,
        description: str,
        status_code: int = status.HTTP_400_BAD_REQUEST,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code, description, headers)
        self.error = error

    def response(self) -> JSONResponse:
        body = OAuthErrorBody(
            status=self.status_code, error=self.error, error_description=self.detail, detail=self.detail
        )
        # The RFC's own rule for token responses, applied to failures as well: no cache keeps them.
        headers = {"Cache-Control": "no-store", **(self.headers or {})}
        return JSONResponse(body.model_dump(), status_code=self.status_code, headers=headers)


def from_validation(error: RequestValidationError) -> OAuthError:
    """FastAPI's 422 for the log-in form, as the RFC says it: 400 and a code.

    The description names each field and what is wrong with it, never the value
    sent: that could be a password.
    """
    problems = error.errors()
    if any(problem["loc"][-1] == "grant_type" for problem in problems):
        return OAuthError("unsupported_grant_type", "The only grant_type supported here is password")
    # Each dependency that reads the form reports the same missing field again: say each once.
    sentences = dict.fromkeys(describe(problem) for problem in problems)
    return OAuthError("invalid_request", "; ".join(sentences))


def describe(problem: dict[str, Any]) -> str:
    field = problem["loc"][-1]
    return f"{field} is required" if problem["type"] == "missing" else f"{field}: {problem['msg']}"


class OAuthErrorRoute(APIRoute):
    """A route whose failures answer in the RFC's shape: its own OAuthErrors and FastAPI's validation errors.

    FastAPI's documented way to change how one route handles requests: the handler
    it builds is wrapped, so the rest of the app keeps its usual error bodies.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_with_oauth_errors(request: Request) -> Response:
            try:
                return await handle(request)
            except RequestValidationError as error:
                return from_validation(error).response()
            except OAuthError as error:
                return error.response()

        return handle_with_oauth_errors
