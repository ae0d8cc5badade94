"""Shared parts of the wallet TUI tests (no tests here).

A *live* world is real: a witnessed registry (SQLite home), a CRA served by
``issuer_sim.service`` and a bank served by ``verifier.service``, each on its own
free loopback port, and a resident's wallet home created through ``wallet.api``.
The app is the real :class:`wallet.tui.app.WalletApp` under Textual's pilot.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from hash_registry.home import init_registry, open_log
from issuer_sim.cra import Cra
from issuer_sim.home import init_issuer
from tests.live_server import free_port, serve_app
from tests.world import BANK_ID, World
from verifier.home import add_issuer, add_registry, identity, init_verifier
from verifier.verify import Verifier
from wallet.api import Wallet
from wallet.tui.app import WalletApp

PASS = "correct horse battery staple"
BANK_NAME = "Shenzhen Example Bank"
SIZES = [(80, 24), (132, 43)]


@pytest.fixture
def anyio_backend() -> str:
    """Pilot tests are coroutines; anyio's pytest plugin runs them on asyncio (Textual's)."""
    return "asyncio"


@dataclass
class Live:
    world: World
    cra_url: str
    bank_url: str
    home: Path  # the resident's wallet home

    def offer(self, seed: int) -> Any:
        from issuer_sim.oid4vci import create_offer

        return create_offer(self.world.cra, seed)

    def request(self, **kwargs: Any) -> Any:
        with Verifier.from_home(self.world.bank_home) as bank:
            return bank.create_request(**kwargs)


def build_world(root: Path, cra_url: str, bank_url: str, *, admit_bank: bool = True) -> World:
    """tests.world.make_world, with the bank's URL on a free port too."""
    init_registry(root / "reg")
    init_issuer(root / "cra", registry=str(root / "reg"), url=cra_url)
    cra = Cra(root / "cra")
    init_verifier(root / "bank", client_id=BANK_ID, name=BANK_NAME, url=bank_url)
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


def make_wallet(home: Path, keys: dict[str, Any] | None, registry: Path | None) -> None:
    """A resident's wallet that trusts the registry (as a shipped wallet would)."""
    wallet = Wallet.create(home, PASS)
    try:
        if keys is not None:
            wallet.add_registry(keys, str(registry))
    finally:
        wallet.close()


@contextmanager
def live_world(root: Path, *, admit_bank: bool = True) -> Iterator[Live]:
    """Registry + CRA service + bank service on loopback, and a wallet home that trusts them."""
    from issuer_sim.service import create_app as cra_app
    from verifier.service import create_app as bank_app

    cra_port, bank_port = free_port(), free_port()
    cra_url, bank_url = f"http://127.0.0.1:{cra_port}", f"http://127.0.0.1:{bank_port}"
    world = build_world(root, cra_url, bank_url, admit_bank=admit_bank)
    home = root / "resident"
    make_wallet(home, world.keys, world.registry_home)
    with ExitStack() as stack:
        stack.callback(world.cra.close)
        stack.enter_context(serve_app(cra_app(root / "cra"), cra_port))
        stack.enter_context(serve_app(bank_app(root / "bank"), bank_port))
        yield Live(world, cra_url, bank_url, home)


# --- driving the app -------------------------------------------------------------------------


async def wait_for(pilot: Pilot[Any], predicate: Callable[[], Any], what: str = "",
                   timeout: float = 60.0) -> None:
    """Let the app run until ``predicate()`` holds (a bound, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        await pilot.pause(0.02)
        if predicate():
            return
        if getattr(pilot.app, "_exception", None) is not None:
            raise AssertionError(f"the app crashed: {pilot.app._exception!r}")
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what or predicate}: "
                                 f"screen {type(pilot.app.screen).__name__}\n"
                                 + screen_text(pilot.app))


async def wait_screen(pilot: Pilot[Any], cls: type, timeout: float = 60.0) -> Any:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, cls), cls.__name__, timeout)
    await pilot.pause()
    return pilot.app.screen


def screen_text(app: Any) -> str:
    """Every character on the terminal now, line by line (what the resident sees)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text.rstrip() for strip in strips)


def flat(text: str) -> str:
    """Screen text with line breaks, box sides and runs of spaces collapsed (sentences wrap)."""
    return " ".join(text.replace("│", " ").split())


def squeeze(text: str) -> str:
    """Screen text without any whitespace (long paths wrap anywhere)."""
    return "".join(text.split())


async def fill(pilot: Pilot[Any], selector: str, text: str, *, typed: bool = False) -> None:
    """Put ``text`` into an input: typed key by key, or pasted whole (long URIs)."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    await pilot.pause()
    if typed:
        await pilot.press(*text)
    else:
        field.value = text
        field.cursor_position = len(text)
    await pilot.pause()


async def unlock(pilot: Pilot[Any], passphrase: str = PASS) -> None:
    from wallet.tui.screens.credentials import CredentialsScreen
    from wallet.tui.screens.unlock import UnlockScreen

    await wait_screen(pilot, UnlockScreen)
    await fill(pilot, "#passphrase", passphrase)
    await pilot.press("enter")
    await wait_screen(pilot, CredentialsScreen)


def new_app(home: Path, **kwargs: Any) -> WalletApp:
    kwargs.setdefault("language", "en")
    return WalletApp(home=home, **kwargs)


# --- reading QR codes off the terminal -------------------------------------------------------

HALF_BLOCKS = {" ": (False, False), "▀": (True, False), "▄": (False, True), "█": (True, True)}


def halfblocks_to_png(lines: list[str], scale: int = 4) -> bytes:
    """The half-block drawing as a PNG (dark modules black), for a real QR decoder."""
    import io

    from PIL import Image

    rows: list[list[bool]] = []
    for line in lines:
        pairs = [HALF_BLOCKS[ch] for ch in line]
        rows.append([top for top, _ in pairs])
        rows.append([bottom for _, bottom in pairs])
    width, height = len(rows[0]), len(rows)
    quiet = 4
    image = Image.new("L", ((width + 2 * quiet) * scale, (height + 2 * quiet) * scale), 255)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                image.paste(0, ((x + quiet) * scale, (y + quiet) * scale,
                                (x + quiet + 1) * scale, (y + quiet + 1) * scale))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def code_on_screen(app: Any, view: Any) -> list[str]:
    """The characters the terminal shows where the QR widget is (not the widget's model)."""
    region = view.region
    lines = screen_text_lines(app)
    return [lines[y][region.x: region.x + region.width].ljust(region.width)
            for y in range(region.y, region.y + region.height)]


def screen_text_lines(app: Any) -> list[str]:
    strips = app.screen._compositor.render_strips()
    return [strip.text for strip in strips]


async def decode_terminal_frames(pilot: Pilot[Any], screen: Any) -> str:
    """Read every frame off the screen with zxing-cpp and reassemble the presentation."""
    from vc.qr import decode_images, decode_presentation

    view = screen.view
    codes: list[bytes] = []
    if view.animated:
        start = view.frame
        await wait_for(pilot, lambda: view.frame != start, "the animation to move")
        await pilot.press("space")  # pause, then step through the loop
        await pilot.pause()
        assert not view.playing
        for index in range(len(view.codes)):
            view.frame = index
            await pilot.pause()
            codes.extend(decode_images([halfblocks_to_png(code_on_screen(pilot.app, view))]))
            try:
                return decode_presentation(codes)
            except Exception:  # noqa: BLE001, S112 - not enough frames yet: read the next
                continue
        raise AssertionError(f"{len(codes)} frames did not reassemble")
    codes = decode_images([halfblocks_to_png(code_on_screen(pilot.app, view))])
    return decode_presentation(codes)


# --- fixed data for snapshots (and extra states for the translation walk) ----------------------

FIXED_NOW = 1_800_000_000  # 2027-01-15 16:00 HKT
DAY = 86_400
CLIENT = "https://bank.shenzhen.example"
CRA_ISS = "https://cra.transunion-hk.example"
VCT_REPORT = "https://w3id.org/selfcarry/vct/hk-credit-report/v1"
PURPOSE = {"en": "consumer loan pre-check", "zh-Hant-HK": "個人貸款預先審查",
           "zh-Hans": "个人贷款预审"}


def fixed_summaries() -> list[Any]:
    from wallet.model import CredentialSummary, Provenance

    return [
        CredentialSummary(
            id="c-5d41402abc4b2a76", issuer=CRA_ISS,
            issuer_name="TransUnion Hong Kong (simulated)", cra="transunion-hk",
            vct=VCT_REPORT, issued_at=FIXED_NOW - 30 * DAY, expires_at=FIXED_NOW + 60 * DAY,
            anchored=True, revoked=False, status_checked_at=FIXED_NOW - 3600,
            expiring_soon=False, shown_to=(CLIENT,),
            provenance=Provenance("registry.selfcarry.example/log", 41, 57,
                                  ("witness.hk.example/dvp", "witness.sz.example/dvp"))),
        CredentialSummary(
            id="c-7d793037a0760186", issuer="https://cra.nova-credit-hk.example",
            issuer_name="Nova Credit Hong Kong (simulated)", cra="nova-credit-hk",
            vct=VCT_REPORT, issued_at=FIXED_NOW - 80 * DAY, expires_at=FIXED_NOW + 10 * DAY,
            anchored=True, revoked=None, status_checked_at=None, expiring_soon=True,
            shown_to=(), provenance=Provenance("registry.selfcarry.example/log", 12, 57,
                                               ("witness.hk.example/dvp",))),
    ]


def _choice(path: str, value: Any, required: bool) -> Any:
    from wallet.model import ClaimChoice

    parts = tuple(int(p) if p.isdigit() else p for p in path.split("."))
    return ClaimChoice(parts, path, value, required)


def fixed_review(*, authenticated: bool = True, warnings: tuple[Any, ...] | None = None,
                 candidates: int = 1) -> Any:
    from wallet.model import Candidate, RequestReview
    from wallet.model import Warning as ReviewWarning

    subject = "ld.credentialSubject."
    required = (
        _choice(subject + "identity.nameEn", {"surname": "CHAN", "givenNames": "Tai Man"}, True),
        _choice(subject + "identity.birthDate", "1985-07-01", True),
        _choice(subject + "assessment.riskGrade", "B", True),
        _choice(subject + "assessment.noMaterialDefault60m", True, True),
        _choice(subject + "assessment.lateMonths24m", 0, True),
        _choice(subject + "assessment.enquiries3m", 1, True),
    )
    optional = (
        _choice(subject + "identity.nameZh", "陳大文", False),
        _choice(subject + "score.value", 3450, False),
    )
    first = Candidate("c-5d41402abc4b2a76", "TransUnion Hong Kong (simulated)", required,
                      optional)
    second = Candidate("c-7d793037a0760186", "Nova Credit Hong Kong (simulated)", required, ())
    if warnings is None:
        warnings = (ReviewWarning(
            "linkable", "This credential was already shown to another bank.",
            {"credential_id": "c-5d41402abc4b2a76", "banks": ["https://loans.other.example"]}),)
    return RequestReview(
        request_id="req-8f14e45f", client_id=CLIENT,
        bank_name="Shenzhen Example Bank" if authenticated else None,
        authenticated=authenticated, auth_detail="fixed", purpose=PURPOSE,
        expires_at=FIXED_NOW + 600, response_uri=CLIENT + "/response", nonce="fixed-nonce",
        dcql_query={}, candidates=(first, second)[:candidates], warnings=warnings,
        request_object="e30.e30.sig")


def fixed_preview() -> Any:
    from wallet.model import Preview

    disclosed = {
        "iss": CRA_ISS, "vct": VCT_REPORT, "iat": FIXED_NOW - 30 * DAY,
        "exp": FIXED_NOW + 60 * DAY,
        "status": {"status_list": {"idx": 4711, "uri": CRA_ISS + "/status/1"}},
        "cnf": {"jwk": {"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}},
        "ld": {
            "@context": ["https://www.w3.org/ns/credentials/v2",
                         "https://w3id.org/selfcarry/credit-report/v1"],
            "type": ["VerifiableCredential", "CreditReportCredential"],
            "issuer": CRA_ISS, "validFrom": "2026-12-16T08:00:00Z",
            "validUntil": "2027-03-16T08:00:00Z",
            "credentialSubject": {
                "identity": {"nameEn": {"surname": "CHAN", "givenNames": "Tai Man"},
                             "birthDate": "1985-07-01", "nameZh": "陳大文"},
                "score": {"scale": "1000-4000:A-J"},
                "assessment": {"riskGrade": "B", "noMaterialDefault60m": True,
                               "lateMonths24m": 0, "enquiries3m": 1},
                "contact": {},
            },
        },
    }
    paths = (*(c.dotted for c in fixed_review().candidates[0].required),
             "ld.credentialSubject.identity.nameZh")
    return Preview("c-5d41402abc4b2a76", disclosed, paths, 4321)


def fixed_history() -> list[Any]:
    from wallet.model import HistoryRow

    subject = "ld.credentialSubject."
    return [
        HistoryRow(FIXED_NOW - 3600, "req-8f14e45f", CLIENT, "Shenzhen Example Bank", True,
                   "consumer loan pre-check", "approved", "delivered", "c-5d41402abc4b2a76",
                   (subject + "assessment.riskGrade", subject + "identity.nameEn"),
                   {"verified": True, "reason": "ok"}, "eyJhbGciOiJFUzI1NiJ9.eyJzZXEiOjF9.c2ln"),
        HistoryRow(FIXED_NOW - 2 * DAY, "req-c9f0f895", "https://loans.unknown.example", None,
                   False, None, "declined", "not_sent", None, (), None,
                   "eyJhbGciOiJFUzI1NiJ9.eyJzZXEiOjB9.c2ln"),
        HistoryRow(FIXED_NOW - 5 * DAY, "req-45c48cce", CLIENT, "Shenzhen Example Bank", True,
                   "consumer loan pre-check", "approved", "rejected_by_bank",
                   "c-7d793037a0760186", (subject + "assessment.riskGrade",),
                   {"verified": False, "reason": "revoked"},
                   "eyJhbGciOiJFUzI1NiJ9.eyJzZXEiOjJ9.c2ln"),
    ]


def fixed_detail() -> Any:
    from wallet.model import ClaimNode, CredentialDetail

    def node(path: str, value: Any, disclosable: bool) -> ClaimNode:
        parts = tuple(int(p) if p.isdigit() else p for p in path.split("."))
        return ClaimNode(parts, path, str(parts[-1]), value, disclosable, len(parts))

    s = "ld.credentialSubject."
    claims = (
        node(s + "score", None, False), node(s + "score.value", 3450, True),
        node(s + "score.grade", "B", True), node(s + "score.scale", "1000-4000:A-J", False),
        node("iss", CRA_ISS, False), node("iat", FIXED_NOW - 30 * DAY, False),
        node("ld", None, False), node(s[:-1], None, False),
        node(s + "identity", None, False), node(s + "identity.nameZh", "陳大文", True),
        node(s + "assessment", None, False), node(s + "assessment.riskGrade", "B", True),
        node(s + "assessment.noMaterialDefault60m", True, True),
        node(s + "accounts", None, True), node(s + "accounts.0", None, True),
        node(s + "accounts.0.creditProvider", "Example Finance Ltd", True),
        node(s + "publicRecords", None, True),
    )
    return CredentialDetail(fixed_summaries()[0], claims)
