"""A small world for the scenarios: a registry, a CRA, a bank and a resident's wallet.

Every party is real and built only through the public APIs a deployment uses: a
registry home (SQLite, with its witness), a CRA home whose issuance service runs on a
free loopback port (the wallet fetches its status list from there), a bank home, and
a wallet home with an encrypted vault. Nothing is mocked; everything lives in one
temporary directory that disappears afterwards.
"""

from __future__ import annotations

import json
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from hash_registry.home import init_registry, open_log
from issuer_sim.cra import Cra, Issued
from issuer_sim.home import init_issuer
from issuer_sim.service import create_app
from vc.jose import PublicKey
from verifier import VerificationResult, Verifier
from verifier.home import add_issuer, add_registry, identity, init_verifier
from verifier.request import PresentationRequest
from wallet.api import Wallet
from wallet.model import CredentialSummary, Delivery, RequestReview

PASSPHRASE = "scenario passphrase: a long and honest one"  # noqa: S105 — a throwaway vault
BANK_ID = "https://loans.shenzhen-bank.example"
BANK_NAME = "Shenzhen Example Bank 深圳示例银行"
PURPOSE = "Consumer loan pre-check / 个人消费贷款预审"


def say(text: str = "") -> None:
    print(text, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: Any, port: int) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread on loopback; stop it afterwards."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the service did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class World:
    root: Path
    keys: dict[str, Any]  # the registry's `hash-registry keys --json` document
    cra: Cra
    wallet: Wallet
    stack: ExitStack = field(repr=False)
    bank_url: str  # the bank's --url (its service runs there only with serve_bank=True)

    @property
    def registry_home(self) -> Path:
        return self.root / "registry"

    @property
    def bank_home(self) -> Path:
        return self.root / "bank"

    @property
    def wallet_home(self) -> Path:
        return self.root / "wallet"

    def bank(self) -> Verifier:
        """The bank's verifier, built from its home (close it, or use it in a ``with``)."""
        return Verifier.from_home(self.bank_home)

    def start_cra(self, name: str, *, cra: str = "transunion-hk", admit: bool = True) -> Cra:
        """Another CRA with its own home and service; ``admit`` puts it on the registry."""
        port = free_port()
        home = self.root / name
        init_issuer(home, cra=cra, url=f"http://127.0.0.1:{port}",
                    registry=str(self.registry_home))
        self.stack.enter_context(serving(create_app(home), port))
        other = self.stack.enter_context(Cra(home))
        if admit:
            with_log(self.registry_home, lambda log: log.admit_issuer(other.metadata()))
        return other

    def issue_to_wallet(self, seed: int, *, cra: Cra | None = None,
                        wallet: Wallet | None = None) -> tuple[Issued, CredentialSummary]:
        """The CRA issues a report to a key the wallet reserved; the wallet checks and stores it."""
        wallet = wallet or self.wallet
        holder = PublicKey.from_jwk(wallet.reserve_holder_key())
        [issued] = (cra or self.cra).issue_batch([(seed, holder)])
        receipt = json.loads(issued.receipt.to_json())
        return issued, wallet.import_credential(issued.credential, receipt)

    def answer(self, request: PresentationRequest | dict[str, Any], *,
               wallet: Wallet | None = None, confirm_unauthenticated: bool = False
               ) -> tuple[RequestReview, Delivery]:
        """The wallet reviews the request and approves the default (minimal) selection.

        The request travels as the bank's request document (``verifier request --json``)
        and the answer comes back as the response document (``wallet present --out``).
        """
        wallet = wallet or self.wallet
        document = (request.to_json_text() if isinstance(request, PresentationRequest)
                    else json.dumps(request))
        review = wallet.open_request(document)
        if not review.candidates:
            raise RuntimeError("no credential in the wallet answers this request")
        delivery = wallet.approve(review, review.candidates[0].credential_id, deliver="none",
                                  confirm_unauthenticated=confirm_unauthenticated)
        return review, delivery

    def new_wallet(self, name: str, registry_url: str | None = None) -> Wallet:
        """Another resident's wallet, trusting this registry (at ``registry_url`` if given)."""
        other = self.stack.enter_context(Wallet.create(self.root / name, PASSPHRASE))
        other.add_registry(self.keys, registry_url or str(self.registry_home))
        return other


def with_log(registry_home: Path, action: Any) -> Any:
    """Run ``action(log)`` as the registry operator, closing the log afterwards."""
    log = open_log(registry_home)
    try:
        return action(log)
    finally:
        log.close()


@contextmanager
def build_world(*, admit_bank: bool = True, serve_bank: bool = False) -> Iterator[World]:
    """Registry, an admitted CRA (served), a bank trusting both, and an empty wallet.

    ``admit_bank=False`` leaves the bank unknown to the registry operator, so wallets
    cannot authenticate its requests. ``serve_bank=True`` also runs the bank's
    ``verifier serve`` app on a free port, so wallets can fetch requests and post answers.
    """
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="selfcarry-")))
        registry_home = root / "registry"
        init_registry(registry_home)

        port = free_port()
        init_issuer(root / "cra", url=f"http://127.0.0.1:{port}", registry=str(registry_home))
        stack.enter_context(serving(create_app(root / "cra"), port))
        cra = stack.enter_context(Cra(root / "cra"))

        bank_port = free_port()
        bank_url = f"http://127.0.0.1:{bank_port}"
        init_verifier(root / "bank", client_id=BANK_ID, name=BANK_NAME, url=bank_url)

        def admit(log: Any) -> dict[str, Any]:
            log.admit_issuer(cra.metadata())
            if admit_bank:
                log.admit_verifier(identity(root / "bank"))
            keys: dict[str, Any] = log.keys_document()
            return keys

        keys = with_log(registry_home, admit)
        add_issuer(root / "bank", cra.metadata(), "TransUnion HK (simulated)")
        add_registry(root / "bank", keys, str(registry_home))

        if serve_bank:
            from verifier.service import create_app as bank_app

            stack.enter_context(serving(bank_app(root / "bank"), bank_port))
        wallet = stack.enter_context(Wallet.create(root / "wallet", PASSPHRASE))
        wallet.add_registry(keys, str(registry_home))
        yield World(root, keys, cra, wallet, stack, bank_url)


# --- telling what happened ------------------------------------------------------------------


def tell_bank(result: VerificationResult) -> None:
    """What the bank concluded, in the words a loan officer reads."""
    if result.verified:
        say("The bank concluded: VERIFIED — the report is authentic, complete and current.")
    else:
        say(f"The bank concluded: REJECTED ({result.reason}) — {result.message}")
    for check in result.checks:
        say(f"  [{'ok' if check.ok else 'FAIL'}] {check.name}: {check.detail}")
    if result.policy is not None:
        say(f"Lending policy (reported apart from verification): "
            f"{result.policy.decision.upper()}")
        for reason in result.policy.reasons:
            say(f"  - {reason.en}")


def expect_rejection(result: VerificationResult, reason: str, why: str) -> int:
    """0 when the bank refused with exactly ``reason``; 1 (and say so) otherwise."""
    tell_bank(result)
    if not result.verified and result.reason == reason:
        say(f"As expected: {why}")
        return 0
    say(f"UNEXPECTED: the bank should have refused with {reason!r}.")
    return 1
