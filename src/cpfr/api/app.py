"""The FastAPI application: middleware (body limit, security headers, idempotency), errors, docs, dashboard.

Routes live in :mod:`cpfr.api.routes_read`, :mod:`cpfr.api.routes_write` and
:mod:`cpfr.api.routes_insight` (trade-in, C2M); each receives the
caller and a store handle already bound to the caller's partner (:func:`context`), so no route
filters by partner itself. Domain errors map to HTTP here, once.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from cpfr.api.keys import Principal
from cpfr.api.service import RateLimited, Service, ServiceConfig, Unauthenticated, requests_context
from cpfr.data.store import Store
from cpfr.exceptions import (
    AccessError,
    CpfrError,
    InputError,
    NotFoundError,
    StoreBusyError,
    ValidationError,
)
from cpfr.web import STATIC_DIR

API = "/api/v1"
IDEMPOTENCY_SECONDS = 24 * 3600.0
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
}


class Context:
    """What a route receives: the authenticated caller, its partner-bound store and the service."""

    def __init__(self, principal: Principal, store: Store, service: Service) -> None:
        self.principal = principal
        self.store = store
        self.service = service


def context(request: Request) -> Iterator[Context]:
    """Authenticate the request's bearer key and yield the caller's context (its store closed after)."""
    service: Service = request.app.state.service
    header = request.headers.get("authorization", "")
    key = header[7:].strip() if header.lower().startswith("bearer ") else ""
    client = request.client.host if request.client else "unknown"
    for principal, store in requests_context(service, key, client):
        yield Context(principal, store, service)


Ctx = Annotated[Context, Depends(context)]


def _error(status: int, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def create_app(store: Store, config: ServiceConfig | None = None) -> FastAPI:
    """Return the cpfr service over ``store`` (which the app owns and closes on shutdown)."""
    from cpfr.api import routes_insight, routes_read, routes_write

    service = Service(store, config)
    app = FastAPI(
        title="cpfr",
        version="1",
        summary="Collaborative planning, forecasting and replenishment between a platform and its brands.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    app.router.add_event_handler("shutdown", service.close)
    app.include_router(routes_read.router, prefix=API)
    app.include_router(routes_write.router, prefix=API)
    app.include_router(routes_insight.router, prefix=API)
    _add_errors(app)
    _add_middleware(app, service)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="cpfr API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    @app.get("/", include_in_schema=False)
    def dashboard() -> Response:
        index = STATIC_DIR / "index.html"
        if index.is_file():
            return HTMLResponse(index.read_text(encoding="utf-8"))
        return RedirectResponse("/docs")

    return app


def _add_errors(app: FastAPI) -> None:
    @app.exception_handler(Unauthenticated)
    def unauthenticated(request: Request, error: Unauthenticated) -> JSONResponse:
        response = _error(401, str(error))
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(RateLimited)
    def limited(request: Request, error: RateLimited) -> JSONResponse:
        response = _error(429, str(error))
        response.headers["Retry-After"] = str(int(error.retry_after + 0.999))
        return response

    @app.exception_handler(ValidationError)
    def invalid(request: Request, error: ValidationError) -> JSONResponse:
        problems = [
            {"file": p.file, "row": p.row, "column": p.column, "value": p.value, "expected": p.expected}
            for p in error.problems
        ]
        return _error(422, "the input was refused; nothing was written", problems=problems, total=error.total)

    @app.exception_handler(NotFoundError)
    def not_found(request: Request, error: NotFoundError) -> JSONResponse:
        return _error(404, str(error))

    @app.exception_handler(AccessError)
    def forbidden(request: Request, error: AccessError) -> JSONResponse:
        return _error(403, str(error))

    @app.exception_handler(InputError)
    def bad_input(request: Request, error: InputError) -> JSONResponse:
        return _error(400, str(error))

    @app.exception_handler(StoreBusyError)
    def busy(request: Request, error: StoreBusyError) -> JSONResponse:
        return _error(503, str(error))

    @app.exception_handler(CpfrError)
    def failed(request: Request, error: CpfrError) -> JSONResponse:
        return _error(500, str(error))

    @app.exception_handler(RequestValidationError)
    def malformed(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "file": "request",
                "row": 0,
                "column": ".".join(str(part) for part in item.get("loc", ())),
                "value": _shown(item.get("input")),
                "expected": str(item.get("msg", "")),
            }
            for item in error.errors()
        ]
        return _error(422, "the request was refused", problems=problems, total=len(problems))


def _shown(value: object) -> object:
    if value is None or isinstance(value, str | int | float | bool):
        return value if not isinstance(value, str) else value[:200]
    return str(value)[:200]


def _add_middleware(app: FastAPI, service: Service) -> None:
    limit = service.config.max_body_bytes
    remembered: dict[str, tuple[float, str, int, bytes, str]] = {}
    lock = threading.Lock()

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return _headers(_error(413, f"the body is larger than {limit:,} bytes"))
        body = b""
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            body = await request.body()  # read once (Starlette caches it for the route)
            if len(body) > limit:
                return _headers(_error(413, f"the body is larger than {limit:,} bytes"))
        key = request.headers.get("idempotency-key")
        if key and request.method in ("POST", "PATCH", "DELETE"):
            return _headers(await _idempotent(request, call_next, key, body, remembered, lock))
        return _headers(await call_next(request))

    if service.config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(service.config.cors_origins),
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        )


def _headers(response: Response) -> Response:
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


async def _idempotent(
    request: Request,
    call_next: Callable[[Request], Awaitable[Response]],
    key: str,
    body: bytes,
    remembered: dict[str, tuple[float, str, int, bytes, str]],
    lock: threading.Lock,
) -> Response:
    """Replay the stored response of a POST already made with this Idempotency-Key by the same caller.

    The key is remembered per credential (a hash of the Authorization header), method and path for
    24 hours; the same key with a different body is refused (422), as the IETF draft
    "The Idempotency-Key HTTP Header Field" asks.
    """
    credential = hashlib.sha256(request.headers.get("authorization", "").encode()).hexdigest()
    slot = f"{credential}|{request.method}|{request.url.path}|{key}"
    fingerprint = hashlib.sha256(body + request.url.query.encode()).hexdigest()
    now = time.monotonic()
    with lock:
        for stale in [name for name, entry in remembered.items() if now - entry[0] > IDEMPOTENCY_SECONDS]:
            del remembered[stale]
        seen = remembered.get(slot)
    if seen is not None:
        if seen[1] != fingerprint:
            return _error(422, "this Idempotency-Key was used with another request body")
        replay = Response(seen[3], status_code=seen[2], media_type=seen[4])
        replay.headers["Idempotent-Replayed"] = "true"
        return replay
    response = await call_next(request)
    if response.status_code in (401, 429) or response.status_code >= 500:
        return response  # not an answer to the request: a retry must run it
    chunks = [chunk async for chunk in response.body_iterator]  # type: ignore[attr-defined]
    content = b"".join(chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in chunks)
    media = response.headers.get("content-type", "application/json")
    with lock:
        remembered[slot] = (now, fingerprint, response.status_code, content, media)
    replayed = Response(content, status_code=response.status_code, media_type=media)
    for name, value in response.headers.items():
        if name.lower() not in ("content-length", "content-type"):
            replayed.headers[name] = value
    return replayed
