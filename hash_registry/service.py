"""The registry's HTTP API (Starlette): signed appends for admitted issuers, public reads.

Every failure is a JSON body ``{"error": code, "message": …}`` with a 4xx status
for anything the caller got wrong (never a 5xx or a traceback); 503 only when the
store or the witnesses fail. Request bodies and query parameters are bounded and
validated before any work is done. See ``openapi.json`` for the contract.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from vc.errors import JoseError, LimitExceeded, SelfcarryError

from .entries import parse_digest_hex
from .errors import (
    InconsistentCheckpoint,
    InvalidRange,
    NotAnchored,
    NotFound,
    RegistryError,
    StoreError,
    Unauthorized,
    WitnessQuorumNotMet,
    WitnessRefused,
)
from .log import AlreadyAnchored, AlreadyRevoked, Forbidden, Log

MAX_BODY_BYTES = 4 * 1024 * 1024
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")
_T = TypeVar("_T")


class PayloadTooLarge(RegistryError):
    code = "payload_too_large"
    default_message = "the request body is too large"


class InvalidParameter(InvalidRange):
    code = "invalid_parameter"
    default_message = "a path or query parameter is not valid"


def status_for(exc: SelfcarryError) -> int:
    """The HTTP status of a named error: 4xx for the caller's faults, 503 for ours."""
    if isinstance(exc, PayloadTooLarge | LimitExceeded):
        return 413
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, Unauthorized | JoseError):
        return 401
    if isinstance(exc, NotFound | NotAnchored) or exc.code == "not_found":
        return 404
    if isinstance(exc, AlreadyAnchored | AlreadyRevoked) or exc.code == "already_admitted":
        return 409
    if isinstance(exc, StoreError | WitnessQuorumNotMet | WitnessRefused | InconsistentCheckpoint):
        return 503
    return 400


def error_response(exc: SelfcarryError) -> JSONResponse:
    return JSONResponse({"error": exc.code, "message": exc.message}, status_code=status_for(exc))


def _int_param(value: str | None, name: str, *, required: bool) -> int | None:
    if value is None or value == "":
        if required:
            raise InvalidParameter(f"the parameter {name!r} is required")
        return None
    if not _DECIMAL.fullmatch(value) or int(value) >= 2**63:
        raise InvalidParameter(f"{name} must be a non-negative decimal integer below 2**63")
    return int(value)


def _required(value: str | None, name: str) -> int:
    result = _int_param(value, name, required=True)
    assert result is not None
    return result


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise PayloadTooLarge(f"the request body must be at most {limit} bytes")
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(f"the request body must be at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _openapi() -> bytes:
    return resources.files("hash_registry").joinpath("openapi.json").read_bytes()


def republish_if_behind(log: Log) -> bool:
    """Publish when the stored tree is ahead of its cosigned checkpoint (a witness was down,
    or a crash fell between append and publish). True if the checkpoint is current."""
    st = log.store.state()
    if st.cosigned_size is not None and st.cosigned_size >= st.size:
        return True
    try:
        log.publish()
    except SelfcarryError:
        return False
    return True


def create_app(
    log: Log,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    close_on_shutdown: bool = False,
    republish_every_s: float | None = 10.0,
) -> Starlette:
    """The ASGI app serving ``log`` (which it retries publishing every ``republish_every_s``)."""

    async def call(fn: Callable[..., _T], *args: Any) -> _T:
        return await run_in_threadpool(fn, *args)

    async def checkpoint(request: Request) -> Response:
        note = await call(log.checkpoint)
        return PlainTextResponse(
            note, media_type="text/plain; charset=utf-8", headers={"cache-control": "no-cache"}
        )

    async def inclusion(request: Request) -> Response:
        index = _required(request.query_params.get("index"), "index")
        size = _int_param(request.query_params.get("size"), "size", required=False)
        proof = await call(log.inclusion_proof, index, size)
        return JSONResponse(proof.to_dict())

    async def consistency(request: Request) -> Response:
        old = _required(request.query_params.get("old"), "old")
        new = _int_param(request.query_params.get("new"), "new", required=False)
        proof = await call(log.consistency_proof, old, new)
        return JSONResponse(proof.to_dict())

    async def entry(request: Request) -> Response:
        index = _required(request.path_params["index"], "index")
        found = await call(log.entry, index)
        return JSONResponse(found.to_dict())

    async def lookup(request: Request) -> Response:
        digest = parse_digest_hex(request.path_params["digest"])
        status = await call(log.lookup, digest)
        return JSONResponse(status.to_dict())

    async def receipt(request: Request) -> Response:
        index = _required(request.path_params["index"], "index")
        found = await call(log.receipt, index)
        return JSONResponse(found.to_dict())

    async def keys(request: Request) -> Response:
        return JSONResponse(log.keys_document())

    async def issuers(request: Request) -> Response:
        return JSONResponse({"issuers": await call(log.issuers)})

    async def verifiers(request: Request) -> Response:
        return JSONResponse({"verifiers": await call(log.verifiers)})

    async def append(request: Request) -> Response:
        body = await _body(request, max_body_bytes)
        try:
            token = body.decode("ascii")
        except UnicodeDecodeError:
            raise Unauthorized(
                "the request body must be a compact JWS", code="invalid_jws"
            ) from None
        appended = await call(log.append_signed, token)
        return JSONResponse(appended.to_dict())

    async def openapi(request: Request) -> Response:
        return Response(_openapi(), media_type="application/json")

    async def on_selfcarry_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SelfcarryError)
        return error_response(exc)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            {"error": code, "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        return JSONResponse(
            {"error": "internal_error", "message": "the registry failed unexpectedly"},
            status_code=500,
        )

    async def republisher(interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            with contextlib.suppress(SelfcarryError):
                await call(republish_if_behind, log)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(republisher(republish_every_s)) if republish_every_s else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if close_on_shutdown:
                log.close()

    routes = [
        Route("/checkpoint", checkpoint, methods=["GET"]),
        Route("/proof/inclusion", inclusion, methods=["GET"]),
        Route("/proof/consistency", consistency, methods=["GET"]),
        Route("/entries/{index}", entry, methods=["GET"]),
        Route("/lookup/{digest}", lookup, methods=["GET"]),
        Route("/receipt/{index}", receipt, methods=["GET"]),
        Route("/keys", keys, methods=["GET"]),
        Route("/issuers", issuers, methods=["GET"]),
        Route("/verifiers", verifiers, methods=["GET"]),
        Route("/append", append, methods=["POST"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            SelfcarryError: on_selfcarry_error,
            HTTPException: on_http_error,
            Exception: on_unexpected,
        },
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # an unknown path is a 404, not a redirect
    return app


def run_server(app: Any, host: str, port: int) -> None:
    """Serve an ASGI app with uvicorn until interrupted (SIGINT/SIGTERM)."""
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    uvicorn.Server(config).run()


def serve(home: str, host: str = "127.0.0.1", port: int = 8700) -> None:
    """``hash-registry serve``: the HTTP API of the registry in ``home``."""
    from .home import open_log

    log = open_log(home)
    republish_if_behind(log)  # finish what a crash or a down witness left unpublished
    run_server(create_app(log, close_on_shutdown=True), host, port)
