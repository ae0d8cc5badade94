"""Shared parts of the verifier-service tests: a real bank served over loopback.

No tests here. :func:`running_bank` builds a real world (registry, CRA, bank
homes), serves the bank's app with uvicorn on a free port, and yields a
:class:`Bank` whose ``verifier`` shares the service's nonce store.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.live_server import free_port, serve_app
from tests.world import World, make_world
from vc.jose import decode_compact
from vc.presentation_response import PresentationResponse
from verifier.request import PresentationRequest
from verifier.service import counter_token, create_app
from verifier.verify import Verifier

BANK_NAME = "Shenzhen Example Bank 深圳示例银行"
FORM = {"content-type": "application/x-www-form-urlencoded"}


@dataclass
class Bank:
    world: World
    verifier: Verifier
    url: str
    http: httpx.Client

    def auth(self, request_id: str) -> dict[str, str]:
        return {"authorization": "Bearer " + counter_token(self.verifier.signing_key, request_id)}

    def post_response(self, response: PresentationResponse) -> httpx.Response:
        return self.http.post("/response", content=response.to_form_body(), headers=FORM)

    def result(self, request_id: str) -> httpx.Response:
        return self.http.get(f"/result/{request_id}", headers=self.auth(request_id))


@contextmanager
def running_bank(root: Path) -> Iterator[Bank]:
    world = make_world(root)
    port = free_port()
    verifier = world.verifier(base_url=f"http://127.0.0.1:{port}")
    try:
        with serve_app(create_app(verifier, name=BANK_NAME, purge_every_s=None), port) as url, \
                httpx.Client(base_url=url, timeout=30) as http:
            yield Bank(world, verifier, url, http)
    finally:
        verifier.close()
        world.cra.close()


def request_as_wallet_sees_it(uri: str, *, http: httpx.Client | None = None) -> PresentationRequest:
    """What a wallet learns from an ``openid4vp://`` URI: fetch ``request_uri`` over HTTP and
    read the signed Request Object (the document is rebuilt from it, nothing else)."""
    query = parse_qs(urlsplit(uri).query)
    request_uri = query["request_uri"][0]
    client = http or httpx.Client(timeout=30)
    try:
        fetched = client.get(request_uri)
    finally:
        if http is None:
            client.close()
    assert fetched.status_code == 200, fetched.text
    assert fetched.headers["content-type"].startswith("application/oauth-authz-req+jwt")
    claims = decode_compact(fetched.text).claims()
    doc = {
        "id": claims["state"], "nonce": claims["nonce"], "client_id": claims["client_id"],
        "response_uri": claims["response_uri"], "dcql_query": claims["dcql_query"],
        "purpose": claims["purpose"], "request": fetched.text, "uri": uri,
    }
    return PresentationRequest.from_json(doc)
