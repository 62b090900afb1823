"""How errors become HTTP responses: one table, one JSON shape, both languages.

Body: {"detail": English text, "code": short code, "message": {"es": ..., "en": ...}}.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from eudr_check.errors import (
    AccessError,
    ApiError,
    ConfigError,
    DdsError,
    EudrCheckError,
    OptionError,
    PlotFileError,
    ReviewError,
    StoreError,
    TracesAuthError,
    TracesError,
    TracesNotFound,
    TracesPermissionDenied,
    TracesUnavailable,
)

log = logging.getLogger(__name__)


def not_found(what: str, what_es: str) -> ApiError:
    # The same answer whether the thing does not exist or belongs to someone else.
    return ApiError(404, "not_found", f"No se encontró {what_es}.", f"{what} not found.")


def error_body(code: str, es: str, en: str) -> dict[str, object]:
    return {"detail": en, "code": code, "message": {"es": es, "en": en}}


def _response(err: ApiError) -> JSONResponse:
    return JSONResponse(
        error_body(err.code, err.text.es, err.text.en), status_code=err.status, headers=err.headers
    )


# Library errors the service lets through, by type: status, code, Spanish lead-in.
_TABLE: list[tuple[type[Exception], int, str, str]] = [
    (AccessError, 422, "refused", "Solicitud rechazada"),
    (StoreError, 409, "conflict", "No se pudo completar"),
    (ConfigError, 500, "configuration", "Error de configuración del servidor"),
]


TOO_DEEP = ApiError(
    422, "too_deep",
    "Los datos anidan objetos o geometrías a demasiada profundidad para leerlos.",
    "The data nests objects or geometries too deeply to be read.",
)  # fmt: skip


def _traces_status(exc: TracesError) -> tuple[int, str]:
    """The EU system's answers: its refusal of the data is the user's to fix (422); its
    refusal of our credentials, or no answer, is the instance's (502, 503)."""
    if isinstance(exc, TracesUnavailable):
        return 503, "eu_unavailable"
    if isinstance(exc, TracesAuthError | TracesPermissionDenied):
        return 502, "eu_auth"
    if isinstance(exc, TracesNotFound):
        return 404, "eu_not_found"
    return 422, "eu_refused"


def as_api_error(exc: Exception) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, PlotFileError):
        return ApiError(422, "bad_file", exc.message("es"), exc.message("en"))
    if isinstance(exc, TracesError):
        status, code = _traces_status(exc)
        return ApiError(status, code, exc.text.es, exc.text.en)
    if isinstance(exc, OptionError):
        return ApiError(422, exc.code, exc.text.es, exc.text.en)
    if isinstance(exc, DdsError):
        return ApiError(422, "dds_refused", exc.text.es, exc.text.en)
    if isinstance(exc, ReviewError):  # a decision or evidence file refused: the user's to fix
        status = 413 if exc.code == "too_large" else 422  # as for plot uploads
        return ApiError(status, exc.code, exc.text.es, exc.text.en)
    for kind, status, code, lead in _TABLE:
        if isinstance(exc, kind):
            return ApiError(status, code, f"{lead}: {exc}", str(exc))
    if isinstance(exc, EudrCheckError):
        return ApiError(409, "refused", exc.text.es, exc.text.en)
    return ApiError(409, "refused", str(exc), str(exc))


def json_safe(value: Any) -> Any:
    """What a refused request sent, made fit to echo back in JSON: NaN and infinities as text,
    lone surrogates replaced (else rendering the 422 itself fails with a 500)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(value, dict):
        return {json_safe(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def _field(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


async def on_invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 shape (`detail`: the list of errors, as the OpenAPI schema says), safe to
    render, plus the code and a message in both languages like every other refusal."""
    assert isinstance(exc, RequestValidationError)
    errors = json_safe(jsonable_encoder(exc.errors(), custom_encoder={bytes: _bytes_text}))
    fields = ", ".join(dict.fromkeys(_field(e.get("loc", ())) for e in errors)) or "body"
    body = {
        "detail": errors,
        "code": "invalid_request",
        "message": {
            "es": f"Datos de la solicitud no válidos: {fields}.",
            "en": f"Invalid request data: {fields}.",
        },
    }
    return JSONResponse(body, status_code=422)


def _bytes_text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def install(app: FastAPI) -> None:
    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        err = as_api_error(exc)
        if err.status >= 500:
            log.error("%s %s: %s", request.method, request.url.path, exc)
        return _response(err)

    async def on_too_deep(request: Request, exc: Exception) -> JSONResponse:
        # Whatever nesting got past the readers (a property object in a registered plot):
        # the input's fault, never a 500.
        log.warning("%s %s: input nested too deeply", request.method, request.url.path)
        return _response(TOO_DEEP)

    app.add_exception_handler(EudrCheckError, on_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(RecursionError, on_too_deep)
