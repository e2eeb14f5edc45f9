"""Reading what stage 10 logs: one JSON object per line."""

import json


def json_lines(text: str) -> list[dict]:
    """Every line of `text` as a dict; fails, naming the line, if one is not JSON (a process writes one format)."""
    lines = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
    return lines


def events(lines: list[dict]) -> list[str]:
    return [line["event"] for line in lines]


def from_the_app(lines: list[dict]) -> list[dict]:
    """Leave out the test's own HTTP client's lines (httpx2, in the test's thread): the app did not write them."""
    return [line for line in lines if not (line["logger"] == "httpx2" and line["thread"] == "MainThread")]
