"""A small, real world for tests: a registry, a CRA, a bank and a resident's keys.

Every party is real (SQLite registry home, CRA home, bank home); nothing is mocked.
Build one with :func:`make_world`, then :meth:`World.present` answers a request the
way a wallet would (DCQL match → disclose the required claims → KB-JWT → staples).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hash_registry.home import init_registry, open_log
from issuer_sim.cra import Cra, Issued
from issuer_sim.home import init_issuer
from vc import dcql
from vc.jose import PrivateKey
from vc.presentation_response import PresentationResponse, Staple
from vc.sdjwt import HolderCredential
from verifier.home import add_issuer, add_registry, identity, init_verifier
from verifier.request import PresentationRequest
from verifier.verify import Verifier

CRA_URL = "http://127.0.0.1:8701"
BANK_ID = "https://bank.shenzhen.example"
BANK_URL = "http://127.0.0.1:8702"


@dataclass
class World:
    root: Path
    cra: Cra
    keys: dict[str, Any]

    @property
    def bank_home(self) -> Path:
        return self.root / "bank"

    @property
    def registry_home(self) -> Path:
        return self.root / "reg"

    def verifier(self, **overrides: Any) -> Verifier:
        return Verifier.from_home(self.bank_home, **overrides)

    def issue(self, seed: int = 1) -> tuple[Issued, PrivateKey]:
        holder = PrivateKey.generate()
        return self.cra.issue(seed, holder.public_key()), holder

    def present(
        self,
        issued: Issued,
        holder: PrivateKey,
        request: PresentationRequest,
        *,
        extra_paths: list[list[Any]] | None = None,
        staple_receipt: bool = True,
        staple_status: bool = True,
        iat: int | None = None,
    ) -> PresentationResponse:
        wallet = HolderCredential.from_issuance(issued.credential)
        matches = dcql.match(request.dcql_query, [("c", wallet.claims["vct"], wallet.claims)])
        paths = [list(p) for p in matches[0].required] + (extra_paths or [])
        text = wallet.present(paths, holder_key=holder, aud=request.client_id,
                              nonce=request.nonce, iat=iat or int(time.time()))
        staple = Staple(
            json.loads(issued.receipt.to_json()) if staple_receipt else None,
            self.cra.status_list_token() if staple_status else None,
        )
        qid = request.query.ids[0]
        return PresentationResponse({qid: [text]}, request.state, {qid: [staple]})


def make_world(root: Path, *, admit_bank: bool = True, cra_url: str = CRA_URL) -> World:
    """Registry (SQLite, witnessed), an admitted CRA, and a bank that trusts both.

    Give ``cra_url`` a free loopback port when the test serves the CRA (status list,
    issuance) with :func:`serve_cra`.
    """
    init_registry(root / "reg")
    init_issuer(root / "cra", registry=str(root / "reg"), url=cra_url)
    cra = Cra(root / "cra")
    init_verifier(root / "bank", client_id=BANK_ID, name="Shenzhen Example Bank", url=BANK_URL)
    log = open_log(root / "reg")
    try:
        log.admit_issuer(cra.metadata())
        if admit_bank:
            log.admit_verifier(identity(root / "bank"))
        keys = log.keys_document()
    finally:
        log.close()
    add_issuer(root / "bank", cra.metadata(), "TransUnion HK (simulated)")
    add_registry(root / "bank", keys, str(root / "reg"))
    return World(root, cra, keys)


@contextmanager
def serving_world(root: Path, **kwargs: Any) -> Iterator[World]:
    """A world whose CRA service runs on a free loopback port for the test's duration."""
    from issuer_sim.service import create_app
    from tests.live_server import free_port, serve_app

    port = free_port()
    world = make_world(root, cra_url=f"http://127.0.0.1:{port}", **kwargs)
    try:
        with serve_app(create_app(root / "cra"), port):
            yield world
    finally:
        world.cra.close()
