"""The web service: JSON API (`/api/...`) and server-rendered pages, over the same registry.

`eudr-check serve` runs `create_app()` under uvicorn.
"""

from eudr_check.api.app import create_app

__all__ = ["create_app"]
