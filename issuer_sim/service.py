"""`issuer-sim serve`: the CRA's OpenID4VCI endpoints, issuer metadata and status list.

Every bad request gets its OpenID4VCI error code in a JSON body with a 4xx status;
a registry outage is a 503 with a named code. Nothing here holds logic of its own:
it calls :mod:`issuer_sim.oid4vci` and :class:`issuer_sim.cra.Cra`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hash_registry.errors import RegistryError
from vc import strict_json
from vc.errors import SelfcarryError

from . import oid4vci
from .cra import Cra
from .errors import InvalidCredentialRequest, InvalidRequest, IssuerError

MAX_BODY = 64 * 1024
NO_STORE = {"Cache-Control": "no-store"}


def _error(exc: SelfcarryError, status: int) -> JSONResponse:
    return JSONResponse({"error": exc.code, "error_description": exc.message}, status_code=status,
                        headers=NO_STORE)


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise InvalidRequest(f"the request body must be at most {MAX_BODY} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise InvalidRequest(f"the request body must be at most {MAX_BODY} bytes")
    return body


def _form(body: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(body.decode("utf-8"), strict_parsing=bool(body), max_num_fields=20)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest("the body must be application/x-www-form-urlencoded") from exc
    form = dict(pairs)
    if len(form) != len(pairs):
        raise InvalidRequest("a form parameter is repeated")
    return form


Handler = Callable[[Request, Cra], Awaitable[Response]]


def create_app(home: Path) -> Starlette:
    cra = Cra(home)
    lock = asyncio.Lock()  # one SQLite connection; the registry append is blocking I/O

    def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def wrapped(request: Request) -> Response:
            try:
                async with lock:
                    return await handler(request, cra)
            except RegistryError as exc:
                return _error(IssuerError(f"the registry is unavailable: {exc.message}",
                                          code="registry_unavailable"), 503)
            except IssuerError as exc:
                return _error(exc, exc.http_status)
            except SelfcarryError as exc:
                return _error(exc, 400)
        return wrapped

    async def credential_issuer(request: Request, cra: Cra) -> Response:
        return JSONResponse(oid4vci.issuer_metadata(cra))

    async def authorization_server(request: Request, cra: Cra) -> Response:
        return JSONResponse(oid4vci.authorization_server_metadata(cra))

    async def jwt_vc_issuer(request: Request, cra: Cra) -> Response:
        return JSONResponse(cra.metadata())

    async def token(request: Request, cra: Cra) -> Response:
        form = _form(await _body(request))
        return JSONResponse(await asyncio.to_thread(oid4vci.token, cra, form), headers=NO_STORE)

    async def nonce(request: Request, cra: Cra) -> Response:
        return JSONResponse(oid4vci.nonce(cra), headers=NO_STORE)

    async def credential(request: Request, cra: Cra) -> Response:
        raw = await _body(request)
        try:
            body: Any = strict_json.loads(raw, max_depth=16)
        except SelfcarryError as exc:
            raise InvalidCredentialRequest("the body must be a JSON object") from exc
        result = await asyncio.to_thread(
            oid4vci.credential, cra, request.headers.get("authorization"), body)
        return JSONResponse(result, headers=NO_STORE)

    async def status_list(request: Request, cra: Cra) -> Response:
        token = await asyncio.to_thread(cra.status_list_token)
        return Response(token, media_type="application/statuslist+jwt",
                        headers={"Cache-Control": f"max-age={cra.config.status_ttl // 2}"})

    routes = [
        Route("/.well-known/openid-credential-issuer", endpoint(credential_issuer)),
        Route("/.well-known/oauth-authorization-server", endpoint(authorization_server)),
        Route("/.well-known/jwt-vc-issuer", endpoint(jwt_vc_issuer)),
        Route("/token", endpoint(token), methods=["POST"]),
        Route("/nonce", endpoint(nonce), methods=["POST"]),
        Route("/credential", endpoint(credential), methods=["POST"]),
        Route("/status/1", endpoint(status_list)),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        cra.close()

    return Starlette(routes=routes, lifespan=lifespan)


def serve(home: Path, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(create_app(home), host=host, port=port, log_level="warning")
