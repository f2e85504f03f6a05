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
