"""The 422 for a request that does not fit its schema: a problem listing each invalid part, made safe to send.

FastAPI answers `{"detail": [{"type", "loc", "msg", "input", "ctx"}, ...]}`. Here
the answer is a problem like every other error (problems.py): `detail` a sentence,
and FastAPI's list, entry for entry, in the extension member `errors`. FastAPI
repeats in `input` whatever the client sent. Three things go wrong with a verbatim
echo, so each entry keeps its members and changes only what is repeated:

- size: a 5 MB invalid body would come back as a 5 MB error. Only short text
  and numbers are echoed, text cut to ECHO_LIMIT characters; a whole object or
  list is left out (its `loc` already says where the problem is);
- encoding: JSON allows a lone surrogate escape ("\\ud800"), which no UTF-8
  response can carry; echoing it raised, and the client got a 500. Such a
  character is sent as its escape sequence instead;
- secrets: a field whose name mentions a password or a token (a card token, a
  refresh token) is never echoed at all, since error bodies end up in logs and
  browser consoles.
"""

from typing import Any

from fastapi import Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from .problems import problem_response

ECHO_LIMIT = 100  # characters of a rejected value repeated back: enough to recognise it
SECRET_NAMES = ("password", "token")  # a field whose name holds one of these is never echoed


def encodable(text: str) -> str:
    """`text` with anything UTF-8 cannot carry (a lone surrogate) written as its escape sequence."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def printable(text: str) -> str:
    """A rejected value cut to ECHO_LIMIT characters, and encodable."""
    return encodable(text[:ECHO_LIMIT] + "…" if len(text) > ECHO_LIMIT else text)


def safe(value: Any) -> Any:
    """A value fit to repeat in an error: short text and numbers; None for anything larger."""
    if isinstance(value, str):
        return printable(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return None


def safe_problem(problem: dict[str, Any]) -> dict[str, Any]:
    """One entry of the 422's `errors`, with only safe things repeated."""
    answer = {"type": problem["type"], "loc": [safe(part) for part in problem["loc"]], "msg": encodable(problem["msg"])}
    if any(name in str(part) for part in problem["loc"] for name in SECRET_NAMES):
        return answer
    if safe(problem.get("input")) is not None:
        answer["input"] = safe(problem["input"])
    if problem.get("ctx"):
        # ctx holds the rule that failed (ge=1, max_length=72, an error message): each value made safe.
        answer["ctx"] = {
            key: safe(value) if not isinstance(value, Exception) else printable(str(value))
            for key, value in problem["ctx"].items()
        }
    return answer


def summary(count: int) -> str:
    return "1 part of the request is invalid" if count == 1 else f"{count} parts of the request are invalid"


async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
    problems = [safe_problem(problem) for problem in error.errors()]
    return problem_response(
        request,
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        f"{summary(len(problems))}; `errors` says where and why",
        slug="invalid-request",
        title="The request does not fit its schema",
        errors=jsonable_encoder(problems),
    )
