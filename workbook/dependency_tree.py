"""Draw a route's dependency graph from the app itself, for the notebooks."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts


def _name(call) -> str:
    return getattr(call, "__name__", None) or type(call).__name__


def api_routes(app: FastAPI) -> Iterator[APIRoute]:
    """Every route of the app, those of the routers it includes too (FastAPI keeps them nested)."""
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context.original_route


def dependency_tree(app: FastAPI, method: str, path: str) -> str:
    """The tree FastAPI resolves for one route, marking providers it reuses."""
    route = next(r for r in api_routes(app) if r.path == path and method.upper() in (r.methods or ()))
    lines = [f"{method.upper()} {path} -> {route.endpoint.__name__}"]
    called: set = set()

    def walk(dependant, prefix: str) -> None:
        children = [d for d in dependant.dependencies if d.call is not None]
        for index, child in enumerate(children):
            last = index == len(children) - 1
            note = ""
            if not child.use_cache:
                note = "  (use_cache=False: called again)"
            elif child.call in called:
                note = "  (cached: the value built above is reused)"
            called.add(child.call)
            lines.append(f"{prefix}{'└── ' if last else '├── '}{_name(child.call)}{note}")
            walk(child, prefix + ("    " if last else "│   "))

    walk(route.dependant, "")
    return "\n".join(lines)
