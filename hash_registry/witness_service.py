"""The witness over HTTP: C2SP tlog-witness ``POST /add-checkpoint``, in its own process.

Status codes as tlog-witness defines them: 200 with the cosignature line; 400
malformed request or old size beyond the checkpoint; 403 not signed by a log key
we know for that origin; 404 unknown origin; 409 with ``text/x.tlog.size`` when
the old size is not ours (the body is our size), or a plain 409 for a split view
(same size, different root); 422 when the consistency proof does not verify.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from vc.errors import SelfcarryError

from .errors import (
    InvalidNote,
    InvalidProof,
    StoreError,
    UnknownLogKey,
    UnknownOrigin,
    WitnessConflict,
    WitnessSplitView,
)
from .witness import MAX_PROOF_LINES, Witness, parse_add_checkpoint_request

MAX_BODY_BYTES = 64 * 1024 + 80 * (MAX_PROOF_LINES + 2)


def witness_status(exc: SelfcarryError) -> int:
    if isinstance(exc, WitnessSplitView | WitnessConflict):
        return 409
    if isinstance(exc, UnknownOrigin):
        return 404
    if isinstance(exc, UnknownLogKey | InvalidNote):
        return 403
    if isinstance(exc, InvalidProof):
        return 422
    if isinstance(exc, StoreError):
        return 503
    return 400


def create_witness_app(
    witness: Witness, *, max_body_bytes: int = MAX_BODY_BYTES, close_on_shutdown: bool = False
) -> Starlette:
    """The ASGI app of one witness."""

    async def add_checkpoint(request: Request) -> Response:
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_body_bytes):
            return PlainTextResponse("request body too large\n", status_code=413)
        chunks: list[bytes] = []
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
            if total > max_body_bytes:
                return PlainTextResponse("request body too large\n", status_code=413)
            chunks.append(chunk)
        try:
            old, proof, note = parse_add_checkpoint_request(b"".join(chunks))
            line = await run_in_threadpool(witness.add_checkpoint, old, proof, note)
        except WitnessConflict as exc:  # our size is not the caller's old size: tell it ours
            return Response(f"{exc.current_size}\n", status_code=409, media_type="text/x.tlog.size")
        except SelfcarryError as exc:
            return PlainTextResponse(f"{exc}\n", status_code=witness_status(exc))
        return PlainTextResponse(line, media_type="text/plain; charset=utf-8")

    async def info(request: Request) -> Response:
        return JSONResponse({"name": witness.name, "vkey": witness.vkey})

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return PlainTextResponse(f"{exc.detail}\n", status_code=exc.status_code)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("internal error\n", status_code=500)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            close = getattr(witness.state, "close", None)
            if close_on_shutdown and callable(close):
                close()

    app = Starlette(
        routes=[
            Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
            Route("/", info, methods=["GET"]),
        ],
        exception_handlers={HTTPException: on_http_error, Exception: on_unexpected},
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # an unknown path is a 404, not a redirect
    return app


def serve_witness(home: str | Path, host: str = "127.0.0.1", port: int = 8703) -> None:
    """``hash-registry witness serve``: the witness of ``home`` over HTTP."""
    from .home import open_witness
    from .service import run_server

    witness = open_witness(home)
    run_server(create_witness_app(witness, close_on_shutdown=True), host, port)
