"""Serving the web console: ``GET /`` is the page, ``/console/...`` its modules, styles and catalogues.

The files ship inside the package (``pyproject.toml`` package-data), so an installed engine
serves them from wherever the package is. Nothing here reads the engine's state: the page
asks the API. The routes stay out of the OpenAPI document (they are not the API).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC", "mount_console"]

STATIC = Path(__file__).parent / "static"
# The page is small and changes with the package: always revalidated, never stale after an upgrade.
_NO_CACHE = {"Cache-Control": "no-cache"}


def mount_console(app: FastAPI) -> None:
    """Add the console to ``app``: the page at ``/`` and the static files under ``/console``."""

    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html", headers=_NO_CACHE)

    app.add_api_route("/", page, methods=["GET"], include_in_schema=False)
    app.mount("/console", StaticFiles(directory=STATIC), name="console")
