"""The app's route table, read from the app itself (so a route added later cannot escape the tests)."""

from __future__ import annotations

from typing import Any

from starlette.routing import Mount, Route, WebSocketRoute


def route_table(app: Any) -> list[tuple[str, str]]:
    """``(method, path template)`` of every HTTP route, and ``("WS", path)`` of every WebSocket route.
    Static mounts are not routes; ``HEAD`` is served wherever ``GET`` is."""
    found: set[tuple[str, str]] = set()

    def add(route: Any, path: str) -> None:
        if isinstance(route, WebSocketRoute) or type(route).__name__ == "APIWebSocketRoute":
            found.add(("WS", route.path))
        elif isinstance(route, Route) or hasattr(route, "methods"):
            for method in route.methods or ():
                if method != "HEAD":
                    found.add((method, path or route.path))

    for route in app.routes:
        if isinstance(route, Mount):
            continue
        if hasattr(route, "effective_route_contexts"):  # FastAPI ≥ 0.16x: included routers stay nested
            for ctx in route.effective_route_contexts():
                add(ctx.original_route, ctx.path)
        else:
            add(route, getattr(route, "path", ""))
    return sorted(found)


def _dependants(app: Any) -> list[tuple[str, str, Any]]:
    """``(method, path, dependant)`` of every HTTP route with a FastAPI dependant."""
    found: list[tuple[str, str, Any]] = []

    def add(route: Any, path: str) -> None:
        dependant = getattr(route, "dependant", None)
        if dependant is not None and not isinstance(route, WebSocketRoute):
            for method in getattr(route, "methods", None) or ():
                if method != "HEAD":
                    found.append((method, path or route.path, dependant))

    for route in app.routes:
        if isinstance(route, Mount):
            continue
        if hasattr(route, "effective_route_contexts"):
            for ctx in route.effective_route_contexts():
                add(ctx.original_route, ctx.path)
        else:
            add(route, getattr(route, "path", ""))
    return found


def int_path_routes(app: Any) -> list[tuple[str, str, list[str]]]:
    """``(method, path template, names of its integer path parameters)`` for every route that has one."""
    routes = []
    for method, path, dependant in _dependants(app):
        names = [p.name for p in dependant.path_params if p.field_info.annotation is int]
        if names:
            routes.append((method, path, names))
    return sorted(routes)
