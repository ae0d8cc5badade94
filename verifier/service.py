"""`verifier serve`: the bank's OpenID4VP endpoints and the counter web page.

Wallet-facing (public; OpenID4VP 1.0 cross-device flow, standards.md §4):

- ``GET|POST /request/{id}`` — the signed Request Object (``request_uri``). A POST
  may carry ``wallet_nonce``; the object is then re-signed with it echoed.
- ``POST /response`` — the ``direct_post`` response endpoint. Anything that parses
  as an Authorization Response for a known ``state`` gets ``200`` (as §8.2 asks: the
  endpoint acknowledges receipt) with ``{"verified", "reason", "message"}``, so the
  wallet learns the outcome; only bodies that are not such a response get a 4xx.
  No ``redirect_uri``/``response_code`` is returned: in the cross-device flow there
  is no wallet-side browser session to continue.

Counter-facing (the bank's staff; put it behind the bank's own sign-on):
``GET /``, ``POST /counter``, ``GET /counter/{id}``, ``GET /result/{id}``.
A result holds the resident's personal data, and the request id is visible to
anyone who sees the QR code (it is in ``request_uri``), so results and the page
need a view token: an HMAC of the request id under a key derived from the bank's
request-signing key (so every worker process agrees without shared state), see
:func:`counter_token`. The browser that started the pre-check holds it in an
HttpOnly cookie; API clients send ``Authorization: Bearer``; a request made
elsewhere (``verifier request``) opens at ``/counter/{id}?token=…``, which sets
the cookie and redirects to the plain URL.

Every error is a JSON ``{"error", "error_description"}`` with a 4xx status (503
only when the nonce store is down). Bodies are bounded before they are read.
State lives in the nonce store, so several workers can serve one bank.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import html
import logging
import os
import re
import string
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime, timedelta, timezone
from hashlib import sha256
from importlib import resources
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl

import anyio
import anyio.to_thread
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from vc import strict_json
from vc.b64 import b64u_decode, b64u_encode
from vc.errors import LimitExceeded, SelfcarryError
from vc.jose import PrivateKey, decode_compact, sign_compact
from vc.presentation_response import MAX_RESPONSE_BYTES, PresentationResponse
from vc.qr import render_svg

from .errors import NonceStoreError, UnknownRequest, VerifierError
from .nonce_store import NonceRecord
from .request import BUILTIN_QUERIES, DEFAULT_TTL
from .verify import VerificationResult, Verifier
from .web.display import build_display

__all__ = [
    "MAX_FORM_BYTES",
    "REQUEST_OBJECT_MEDIA_TYPE",
    "ServiceError",
    "counter_token",
    "create_app",
    "serve",
]

log = logging.getLogger(__name__)

REQUEST_OBJECT_MEDIA_TYPE: Final = "application/oauth-authz-req+jwt"
FORM_MEDIA_TYPE: Final = "application/x-www-form-urlencoded"
MAX_FORM_BYTES: Final = 64 * 1024
MAX_WALLET_NONCE: Final = 256
MAX_PURPOSE_INPUT: Final = 500
TTL_CHOICES: Final = (300, 600, 1200)
#: Requests (and their results, which hold personal data) are purged this long after expiry.
RETENTION_S: Final = 24 * 3600
PURGE_EVERY_S: Final = 3600
VERIFY_CONCURRENCY: Final = 4
COOKIE_PREFIX: Final = "scv_"
TOKEN_INFO: Final = b"selfcarry verifier counter view token v1"
HOME_ENV: Final = "SELFCARRY_VERIFIER_SERVE_HOME"
CHINA_TIME: Final = timezone(timedelta(hours=8))
_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_WALLET_NONCE = re.compile(rf"[\x21-\x7e]{{1,{MAX_WALLET_NONCE}}}")
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")

CSP: Final = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
NO_STORE: Final = {"Cache-Control": "no-store", **SECURITY_HEADERS}

Handler = Callable[[Request], Awaitable[Response]]


class ServiceError(VerifierError):
    """A request to the service that cannot be served; ``status`` is its HTTP status."""

    code = "invalid_request"
    default_message = "the request is not valid"
    status = 400

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(message, code=code)
        if status is not None:
            self.status = status


def _status_for(exc: SelfcarryError) -> int:
    if isinstance(exc, ServiceError):
        return exc.status
    if isinstance(exc, LimitExceeded):
        return 413
    if isinstance(exc, UnknownRequest):
        return 404
    if isinstance(exc, NonceStoreError):
        return 503
    return 400


def _error(exc: SelfcarryError) -> JSONResponse:
    return JSONResponse({"error": exc.code, "error_description": exc.message},
                        status_code=_status_for(exc), headers=NO_STORE)


# --- view tokens --------------------------------------------------------------------------


def _token_key(signing_key: PrivateKey) -> bytes:
    """A key for view tokens only, derived (HKDF) from the request-signing key's secret."""
    secret = b64u_decode(signing_key.to_jwk()["d"])
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=TOKEN_INFO).derive(secret)


def counter_token(signing_key: PrivateKey, request_id: str) -> str:
    """The view token of a request's result and counter page (base64url HMAC-SHA256)."""
    mac = hmac.new(_token_key(signing_key), request_id.encode("ascii"), sha256).digest()
    return b64u_encode(mac)


# --- request bodies -----------------------------------------------------------------------


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ServiceError("Content-Length is not a number")
        if int(declared) > limit:
            raise ServiceError(f"the request body must be at most {limit} bytes",
                               code="payload_too_large", status=413)
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise ServiceError(f"the request body must be at most {limit} bytes",
                               code="payload_too_large", status=413)
        chunks.append(chunk)
    return b"".join(chunks)


def _require_form(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != FORM_MEDIA_TYPE:
        raise ServiceError(f"the body must be {FORM_MEDIA_TYPE}", status=415)


def _form(body: bytes, *, max_fields: int = 16) -> dict[str, str]:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                          strict_parsing=bool(body), max_num_fields=max_fields, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise ServiceError("the body is not UTF-8 application/x-www-form-urlencoded") from exc
    form = dict(pairs)
    if len(form) != len(pairs):
        raise ServiceError("a form parameter is repeated")
    return form


def _request_id(request: Request) -> str:
    value = str(request.path_params.get("id", ""))
    if not _REQUEST_ID.fullmatch(value):
        raise UnknownRequest()
    return value


# --- pages ----------------------------------------------------------------------------------


def _asset(name: str) -> bytes:
    return resources.files("verifier.web").joinpath(name).read_bytes()


def _render(template: str, raw: Mapping[str, str] | None = None, **text: str) -> str:
    """Fill ``$name`` slots: ``text`` values are HTML-escaped, ``raw`` ones (our own markup) not."""
    values = {k: html.escape(v, quote=True) for k, v in text.items()}
    values.update(raw or {})
    return string.Template(template).substitute(values)


def _html(text: str, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(text, status_code=status, media_type="text/html; charset=utf-8",
                    headers={**NO_STORE, "Content-Security-Policy": CSP, **(headers or {})})


def _inline_svg(svg: str) -> str:
    """segno's SVG document without its XML declaration, to sit inside HTML."""
    return svg[svg.index("<svg"):] if "<svg" in svg else ""


def _purpose_texts(purpose: Any) -> tuple[str, str]:
    if isinstance(purpose, str):
        return purpose, purpose
    if isinstance(purpose, Mapping):
        en = purpose.get("en") or next(iter(purpose.values()), "")
        zh = purpose.get("zh-Hans") or purpose.get("zh") or en
        return str(en), str(zh)
    return "", ""


def _china_time(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S (UTC+8)")


# --- the app ---------------------------------------------------------------------------------


def _may_record_failure(verifier: Verifier, request_id: str, result: VerificationResult) -> bool:
    """A failure is recorded unless the request already has its answer.

    Once a nonce is consumed, the call that consumed it owns the result: a later
    replay (or anyone who read the QR and posts junk) must not overwrite it."""
    if any(c.name == "nonce_single_use" and c.ok for c in result.checks):
        return True
    return verifier.nonce_store.get(request_id).consumed_at is None


def _respond_to_wallet(verifier: Verifier, record: NonceRecord,
                       response: PresentationResponse) -> VerificationResult:
    """Verify and record (blocking: runs in a worker thread)."""
    try:
        result = verifier.verify(response, request=record.request_json)
    except Exception:  # a bug must not reach the wallet as a 500; the result names it
        log.exception("verification of request %s failed unexpectedly", record.request_id)
        result = VerificationResult(False, "verification_error",
                                    "the verifier failed unexpectedly")
    if not result.verified and _may_record_failure(verifier, record.request_id, result):
        verifier.nonce_store.record_result(record.request_id,
                                           strict_json.dumps(result.to_json()))
    return result


def _wallet_error(verifier: Verifier, record: NonceRecord, form: Mapping[str, str]
                  ) -> VerificationResult:
    """An OpenID4VP error response (``error``, ``error_description``, ``state``)."""
    error = form["error"]
    if not _ERROR_CODE.fullmatch(error):
        raise ServiceError("error must be an error code")
    description = form.get("error_description", "")[:300]
    code = "wallet_declined" if error == "access_denied" else "wallet_error"
    message = f"the wallet answered {error}" + (f": {description}" if description else "")
    result = VerificationResult(False, code, message)
    if record.consumed_at is None:
        verifier.nonce_store.record_result(record.request_id,
                                           strict_json.dumps(result.to_json()))
    return result


def _echo_wallet_nonce(jwt: str, wallet_nonce: str, key: PrivateKey) -> str:
    """The Request Object re-signed with ``wallet_nonce`` (OpenID4VP §5.10.1)."""
    decoded = decode_compact(jwt)
    claims = {**decoded.claims(), "wallet_nonce": wallet_nonce}
    return sign_compact(decoded.header, claims, key)


def create_app(home_or_verifier: str | Path | Verifier, *, name: str | None = None,
               purge_every_s: float | None = PURGE_EVERY_S,
               verify_concurrency: int = VERIFY_CONCURRENCY) -> Starlette:
    """The ASGI app for a bank: its home (opened and closed with the app) or a
    :class:`Verifier` the caller owns. ``name`` overrides the bank name shown.

    At most ``verify_concurrency`` verifications run at once in this process: they are
    CPU-bound under the GIL, and more threads only queue on the nonce store's write
    lock (SQLite's busy handler sleeps), which stretches the latency tail."""
    owned = not isinstance(home_or_verifier, Verifier)
    if isinstance(home_or_verifier, Verifier):
        verifier = home_or_verifier
        bank_name = name or verifier.client_id
    else:
        from .home import load_config

        home = Path(home_or_verifier)
        bank_name = name or load_config(home).name
        verifier = Verifier.from_home(home)
    token_key = _token_key(verifier.signing_key)
    verify_limiter = anyio.CapacityLimiter(verify_concurrency)
    start_page = _asset("start.html").decode("utf-8")
    counter_page = _asset("counter.html").decode("utf-8")
    statics = {
        "counter.js": (_asset("counter.js"), "text/javascript; charset=utf-8"),
        "counter.css": (_asset("counter.css"), "text/css; charset=utf-8"),
    }
    openapi_doc = resources.files("verifier").joinpath("openapi.json").read_bytes()
    secure_cookie = verifier.base_url.startswith("https://")

    def token_for(request_id: str) -> str:
        return b64u_encode(hmac.new(token_key, request_id.encode("ascii"), sha256).digest())

    def valid(offered: str | None, request_id: str) -> bool:
        return offered is not None and hmac.compare_digest(
            offered.encode("utf-8", "replace"), token_for(request_id).encode())

    def authorise(request: Request, request_id: str) -> None:
        offered = request.cookies.get(COOKIE_PREFIX + request_id)
        auth = request.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            offered = auth[7:].strip()
        if not valid(offered, request_id):
            raise ServiceError("this pre-check belongs to the counter that started it",
                               code="access_denied", status=403)

    def with_view_cookie(response: Response, request_id: str, ttl: int) -> Response:
        response.set_cookie(COOKIE_PREFIX + request_id, token_for(request_id),
                            max_age=ttl + RETENTION_S, path="/", httponly=True,
                            samesite="strict", secure=secure_cookie)
        return response

    async def record_of(request_id: str) -> NonceRecord:
        return await run_in_threadpool(verifier.nonce_store.get, request_id)

    # --- wallet-facing -------------------------------------------------------------------

    async def live_request_object(request_id: str) -> str:
        record = await record_of(request_id)
        if record.expires_at <= int(time.time()):
            raise ServiceError("the request has expired", code="request_expired", status=404)
        jwt = strict_json.loads(record.request_json).get("request")
        if not isinstance(jwt, str):  # our own store: only corruption gets here
            raise VerifierError("the stored request is unreadable", code="corrupt_request")
        return jwt

    async def request_object(request: Request) -> Response:
        request_id = _request_id(request)
        jwt = await live_request_object(request_id)
        if request.method == "POST":
            body = await _body(request, MAX_FORM_BYTES)
            if body:
                _require_form(request)
            form = _form(body)
            metadata = form.get("wallet_metadata")
            if metadata is not None and not isinstance(
                    strict_json.loads(metadata, max_depth=16), dict):
                raise ServiceError("wallet_metadata must be a JSON object")
            wallet_nonce = form.get("wallet_nonce")
            if wallet_nonce is not None:
                if not _WALLET_NONCE.fullmatch(wallet_nonce):
                    raise ServiceError(f"wallet_nonce is 1-{MAX_WALLET_NONCE} printable "
                                       "ASCII characters")
                jwt = _echo_wallet_nonce(jwt, wallet_nonce, verifier.signing_key)
        return Response(jwt, media_type=REQUEST_OBJECT_MEDIA_TYPE, headers=NO_STORE)

    async def direct_post(request: Request) -> Response:
        _require_form(request)
        body = await _body(request, MAX_RESPONSE_BYTES)
        form = _form(body, max_fields=8)
        state = form.get("state")
        if state is None:
            raise ServiceError("the response has no state: which request does it answer?")
        try:
            record = await record_of(state)
        except UnknownRequest as exc:
            raise ServiceError("no request of this bank has that state",
                               code="invalid_request") from exc
        if "vp_token" not in form and "error" in form:
            result = await run_in_threadpool(_wallet_error, verifier, record, form)
        else:
            try:
                response = PresentationResponse.from_form(body)
            except SelfcarryError as exc:  # not an Authorization Response (nor within limits)
                raise ServiceError(exc.message) from exc
            result = await anyio.to_thread.run_sync(_respond_to_wallet, verifier, record,
                                                    response, limiter=verify_limiter)
        return JSONResponse({"verified": result.verified, "reason": result.reason,
                             "message": result.message}, headers=NO_STORE)

    # --- counter-facing --------------------------------------------------------------------

    async def start(request: Request) -> Response:
        options = "".join(f'<option value="{html.escape(q)}">{html.escape(q)}</option>'
                          for q in BUILTIN_QUERIES)
        ttls = "".join(
            f'<option value="{t}"{" selected" if t == DEFAULT_TTL else ""}>{t // 60} min · '
            f'{t // 60} 分钟</option>' for t in TTL_CHOICES)
        return _html(_render(start_page, {"query_options": options, "ttl_options": ttls},
                             bank_name=bank_name, client_id=verifier.client_id))

    async def start_counter(request: Request) -> Response:
        _require_form(request)
        form = _form(await _body(request, MAX_FORM_BYTES))
        query = form.get("query") or BUILTIN_QUERIES[0]
        if query not in BUILTIN_QUERIES:  # never a file name from a form
            raise ServiceError(f"query is one of {', '.join(BUILTIN_QUERIES)}",
                               code="unknown_query")
        purpose = {lang: form.get(field, "").strip()
                   for lang, field in (("en", "purpose_en"), ("zh-Hans", "purpose_zh"))}
        purpose = {k: v for k, v in purpose.items() if v}
        if not purpose or any(len(v) > MAX_PURPOSE_INPUT for v in purpose.values()):
            raise ServiceError(f"give a purpose of 1-{MAX_PURPOSE_INPUT} characters",
                               code="invalid_purpose")
        ttl_text = form.get("ttl") or str(DEFAULT_TTL)
        if not ttl_text.isdigit() or int(ttl_text) not in TTL_CHOICES:
            raise ServiceError(f"ttl is one of {TTL_CHOICES} seconds")
        ttl = int(ttl_text)
        created = await run_in_threadpool(verifier.create_request, query, purpose, ttl=ttl)
        redirect = RedirectResponse(f"/counter/{created.id}", status_code=303, headers=NO_STORE)
        return with_view_cookie(redirect, created.id, ttl)

    async def counter(request: Request) -> Response:
        request_id = _request_id(request)
        if "token" in request.query_params:  # a link for a request made elsewhere (CLI, API)
            if not valid(request.query_params["token"], request_id):
                raise ServiceError("the token does not open this pre-check",
                                   code="access_denied", status=403)
            record = await record_of(request_id)
            clean = RedirectResponse(f"/counter/{request_id}", status_code=303, headers=NO_STORE)
            return with_view_cookie(clean, request_id, max(record.expires_at - int(time.time()), 0))
        authorise(request, request_id)
        record = await record_of(request_id)
        doc = strict_json.loads(record.request_json)
        purpose_en, purpose_zh = _purpose_texts(doc.get("purpose"))
        svg = await run_in_threadpool(render_svg, doc["uri"], scale=6)
        return _html(_render(
            counter_page, {"qr_svg": _inline_svg(svg)},
            bank_name=bank_name, client_id=verifier.client_id, request_id=request_id,
            uri=doc["uri"], purpose_en=purpose_en, purpose_zh=purpose_zh,
            expires_at=str(record.expires_at), expires_text=_china_time(record.expires_at),
        ))

    async def result(request: Request) -> Response:
        request_id = _request_id(request)
        authorise(request, request_id)
        stored = await run_in_threadpool(verifier.nonce_store.result, request_id)
        if stored is None:
            return JSONResponse({"status": "pending", "result": None, "display": None},
                                headers=NO_STORE)
        doc = strict_json.loads(stored)
        return JSONResponse({"status": "done", "result": doc, "display": build_display(doc)},
                            headers=NO_STORE)

    async def static(request: Request) -> Response:
        found = statics.get(str(request.path_params.get("name")))
        if found is None:
            raise HTTPException(404)
        return Response(found[0], media_type=found[1],
                        headers={"Cache-Control": "max-age=300", **SECURITY_HEADERS})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "client_id": verifier.client_id}, headers=NO_STORE)

    async def openapi(request: Request) -> Response:
        return Response(openapi_doc, media_type="application/json")

    # --- plumbing --------------------------------------------------------------------------

    def endpoint(handler: Handler) -> Handler:
        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except SelfcarryError as exc:
                return _error(exc)
        return wrapped

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse({"error": code, "error_description": str(exc.detail)},
                            status_code=exc.status_code, headers=NO_STORE)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.error("unexpected error", exc_info=exc)
        return JSONResponse({"error": "internal_error",
                             "error_description": "the verifier service failed unexpectedly"},
                            status_code=500, headers=NO_STORE)

    async def purger(interval: float) -> None:
        while True:
            with contextlib.suppress(SelfcarryError):
                await run_in_threadpool(verifier.nonce_store.purge_expired,
                                        int(time.time()) - RETENTION_S)
            await asyncio.sleep(interval)

    def warm_up() -> None:
        for view in verifier.registries:  # open clients before threads race to do it
            if view.url is not None:
                with contextlib.suppress(SelfcarryError):
                    view.client()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(warm_up)
        task = asyncio.create_task(purger(purge_every_s)) if purge_every_s else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if owned:
                verifier.close()

    routes = [
        Route("/request/{id}", endpoint(request_object), methods=["GET", "POST"]),
        Route("/response", endpoint(direct_post), methods=["POST"]),
        Route("/result/{id}", endpoint(result), methods=["GET"]),
        Route("/", endpoint(start), methods=["GET"]),
        Route("/counter", endpoint(start_counter), methods=["POST"]),
        Route("/counter/{id}", endpoint(counter), methods=["GET"]),
        Route("/static/{name}", endpoint(static), methods=["GET"]),
        Route("/healthz", endpoint(healthz), methods=["GET"]),
        Route("/openapi.json", endpoint(openapi), methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={HTTPException: on_http_error, Exception: on_unexpected})
    app.router.redirect_slashes = False  # an unknown path is a 404, not a redirect
    return app


def _app_from_environment() -> Starlette:
    """uvicorn's factory in each worker process: the home comes from the environment."""
    return create_app(Path(os.environ[HOME_ENV]))


def serve(home: str | Path, host: str = "127.0.0.1", port: int = 8702, workers: int = 1) -> None:
    """``verifier serve``: run the app with uvicorn until interrupted. With ``workers`` > 1,
    uvicorn starts that many processes; they share state through the home's nonce store."""
    import uvicorn

    home = Path(home).resolve()
    if workers <= 1:
        app = create_app(home)
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
        return
    os.environ[HOME_ENV] = str(home)
    uvicorn.run("verifier.service:_app_from_environment", factory=True, host=host, port=port,
                workers=workers, log_level="warning", access_log=False)
