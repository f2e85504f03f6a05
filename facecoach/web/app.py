"""The web application factory."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse


def create_app() -> FastAPI:
    app = FastAPI(title="facecoach")

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        return (
            "<!doctype html><title>facecoach</title>"
            "<h1>facecoach</h1><p>Facial fitness, the educated way.</p>"
        )

    return app
