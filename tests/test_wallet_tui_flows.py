"""The wallet app end to end against real services on loopback: receive a credential from
the CRA service, open the bank's request, choose, preview, approve → delivered (the bank's
own verdict shown), decline → history, QR delivery, export, revocation badges."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Checkbox, Input

from tests.test_wallet_tui_support import (
    BANK_NAME,
    SIZES,
    Live,
    anyio_backend,  # noqa: F401 - the fixture the anyio marker uses
    fill,
    flat,
    live_world,
    new_app,
    screen_text,
    squeeze,
    unlock,
    wait_for,
    wait_screen,
)
from wallet.api import Wallet
from wallet.history import verify_history_export
from wallet.tui.screens.credentials import CredentialsScreen
from wallet.tui.screens.delivery import DeliveryScreen
from wallet.tui.screens.detail import DetailScreen
from wallet.tui.screens.history import HistoryDetailScreen, HistoryScreen
from wallet.tui.screens.open_request import OpenRequestScreen
from wallet.tui.screens.preview import PreviewScreen
from wallet.tui.screens.qr import QRScreen
from wallet.tui.screens.receive import ReceiveScreen
from wallet.tui.screens.review import ReviewScreen

from .test_wallet_tui_support import PASS

pytestmark = pytest.mark.anyio

@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SELFCARRY_UNSAFE_TEST_KDF", "1")
    with live_world(tmp_path) as world:
        yield world


async def receive(pilot: Any, live: Live, seed: int) -> DetailScreen:
    """Credentials → R → paste the offer → the code → received and shown in detail."""
    offer = live.offer(seed)
    await pilot.press("r")
    await wait_screen(pilot, ReceiveScreen)
    await fill(pilot, "#offer", offer.uri)
    await pilot.press("enter")
    await wait_for(pilot, lambda: pilot.app.screen.query("#tx-code"), "the code field")
    if pilot.app.tr.language == "en":
        assert "6-digit code" in flat(screen_text(pilot.app))
    await fill(pilot, "#tx-code", offer.tx_code, typed=True)
    await pilot.press("enter")
    return await wait_screen(pilot, DetailScreen)


@pytest.mark.parametrize("size", SIZES)
async def test_receive_review_choose_preview_approve_delivered(live: Live, size: tuple[int, int]
                                                               ) -> None:
    app = new_app(live.home)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        assert "You have no credentials yet" in flat(screen_text(app))

        detail = await receive(pilot, live, 31)
        await wait_for(pilot, lambda: detail.detail is not None, "the credential detail")
        text = flat(screen_text(app))
        assert "Received, checked and stored" in text
        assert "Anchored on the registry" in text and "Not revoked" in text
        summary = detail.detail.summary
        assert f"entry #{summary.provenance.index}" in text
        assert "Cosigned by:" in text and summary.provenance.cosigners[0] in text
        # the tree: score and grade first, then the rest; disclosable parts marked
        tree_lines = [line for line in screen_text(app).splitlines() if "◆" in line or "·" in line]
        first_claims = " ".join(tree_lines[:6])
        assert "Credit score" in first_claims and "Grade" in first_claims

        await pilot.press("escape")
        credentials = await wait_screen(pilot, CredentialsScreen)
        await wait_for(pilot, lambda: credentials.items, "the credential in the list")
        text = flat(screen_text(app))
        assert "Credit report" in text and "TransUnion Hong Kong (simulated)" in text
        assert "Anchored on the registry" in text and "Not revoked" in text

        # the bank's request, by its openid4vp:// URI (fetched from the bank's service)
        request = live.request()
        await pilot.press("o")
        await wait_screen(pilot, OpenRequestScreen)
        await fill(pilot, "#source", request.uri)
        await pilot.press("enter")
        review = await wait_screen(pilot, ReviewScreen)
        text = flat(screen_text(app))
        assert BANK_NAME in text and "Identity checked" in text
        assert "consumer loan pre-check" in text
        assert "Required — the bank needs these 12" in text
        assert "Risk grade" in text
        cand = review.review.candidates[0]
        grade = next(c for c in cand.required if c.dotted.endswith("riskGrade")).value
        assert f"Risk grade: {grade}" in text
        # the one optional claim: the Chinese name, unticked by default, ticked here
        optional = cand.optional[0]
        assert optional.dotted == "ld.credentialSubject.identity.nameZh"
        box = app.screen.query_one(Checkbox)
        await pilot.press("tab")  # from the scrolling review to the first choice
        await pilot.pause()
        assert box.has_focus and box.value is False
        assert f"Name (Chinese): {optional.value}" in flat(screen_text(app))
        await pilot.press("space")
        assert review.chosen_optional() == [optional.dotted]

        await pilot.press("p")
        preview = await wait_screen(pilot, PreviewScreen)
        text = flat(screen_text(app))
        assert f"{BANK_NAME} will see exactly this" in text
        assert set(preview.preview.paths) >= {optional.dotted,
                                              "ld.credentialSubject.assessment.riskGrade"}
        subject = preview.preview.disclosed["ld"]["credentialSubject"]
        assert subject["identity"]["nameZh"] == optional.value
        assert "hkid" not in subject.get("identity", {})
        assert "Approve and send" in text

        await pilot.press("a")
        delivery = await wait_screen(pilot, DeliveryScreen)
        await wait_for(pilot, lambda: delivery.delivery is not None or delivery.failed,
                       "the bank's answer")
        assert delivery.delivery is not None and delivery.delivery.outcome == "delivered", \
            screen_text(app)
        assert delivery.delivery.bank_verdict["verified"] is True
        text = flat(screen_text(app))
        assert f"Delivered to {BANK_NAME}" in text
        assert "checked your report: authentic, complete and not revoked" in text

        await pilot.press("h")
        history = await wait_screen(pilot, HistoryScreen)
        await wait_for(pilot, lambda: history.rows, "the history rows")
        text = flat(screen_text(app))
        assert BANK_NAME in text and "Approved" in text and "Delivered" in text
        await pilot.press("enter")
        await wait_screen(pilot, HistoryDetailScreen)
        text = flat(screen_text(app))
        assert "Shared (13):" in text and "Name (Chinese)" in text


async def test_decline_is_recorded_and_history_exports(live: Live, tmp_path: Path) -> None:
    app = new_app(live.home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await receive(pilot, live, 32)
        await pilot.press("escape")
        await wait_screen(pilot, CredentialsScreen)
        request = live.request(purpose="mortgage pre-check")
        await pilot.press("o")
        await wait_screen(pilot, OpenRequestScreen)
        await fill(pilot, "#source", request.uri)
        await pilot.press("enter")
        await wait_screen(pilot, ReviewScreen)
        await pilot.press("d")
        history = await wait_screen(pilot, HistoryScreen)
        await wait_for(pilot, lambda: history.rows, "the history rows")
        text = flat(screen_text(app))
        assert "You declined. Nothing was sent" in text
        assert "Declined" in text and "Nothing sent" in text
        row = history.rows[0]
        assert row.decision == "declined" and row.disclosed == ()
        assert row.purpose == "mortgage pre-check"

        # export the whole history; it verifies on its own
        target = tmp_path / "history.json"
        await pilot.press("e")
        await wait_for(pilot, lambda: app.screen.query("#path"), "the path dialog")
        await fill(pilot, "#path", str(target))
        await pilot.press("enter")
        await wait_for(pilot, lambda: history.exported is not None, "the export")
        assert squeeze(f"History exported to {target}") in squeeze(screen_text(app))
        verify_history_export(json.loads(target.read_text()))

        # and one receipt
        await pilot.press("enter")
        detail = await wait_screen(pilot, HistoryDetailScreen)
        assert "Declined" in flat(screen_text(app))
        receipt = tmp_path / "receipt.jwt"
        await pilot.press("x")
        await wait_for(pilot, lambda: app.screen.query("#path"), "the path dialog")
        await fill(pilot, "#path", str(receipt))
        await pilot.press("enter")
        await wait_for(pilot, lambda: detail.exported is not None, "the receipt export")
        assert receipt.read_text().strip() == row.receipt


async def test_qr_delivery_shows_codes_the_bank_can_read(live: Live) -> None:
    from tests.test_wallet_tui_support import decode_terminal_frames

    app = new_app(live.home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await receive(pilot, live, 33)
        await pilot.press("escape")
        await wait_screen(pilot, CredentialsScreen)
        request = live.request()
        await pilot.press("o")
        await wait_screen(pilot, OpenRequestScreen)
        await fill(pilot, "#source", request.uri)
        await pilot.press("enter")
        await wait_screen(pilot, ReviewScreen)
        await pilot.press("p")
        await wait_screen(pilot, PreviewScreen)
        await pilot.press("m")  # deliver by QR
        await pilot.press("a")
        qr = await wait_screen(pilot, QRScreen)
        await wait_for(pilot, lambda: qr.view is not None, "the code")
        assert qr.view is not None and qr.view.animated  # 80×24 holds v6 at most
        text = await decode_terminal_frames(pilot, qr)
        assert text == qr.presentation
        # what was shown verifies at the bank
        with live.world.verifier() as bank:
            from vc.presentation_response import PresentationResponse

            rows = Wallet.open(live.home, PASS)
            try:
                history = rows.history()
            finally:
                rows.close()
            assert history[0].outcome == "qr"
            qid = request.query.ids[0]
            result = bank.verify(PresentationResponse({qid: [text]}, request.state),
                                 request=request)
        assert result.verified, result.to_json()


async def test_errors_read_as_words(live: Live) -> None:
    app = new_app(live.home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("r")
        await wait_screen(pilot, ReceiveScreen)
        await fill(pilot, "#offer", "openid-credential-offer://?credential_offer=%7Bnot-json")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "not a valid credential offer" in flat(screen_text(app)),
                       "the offer error")
        # a used-up offer: the CRA refuses, the wallet says so in words
        offer = live.offer(34)
        await fill(pilot, "#offer", offer.uri)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.query("#tx-code"), "the code field")
        await fill(pilot, "#tx-code", "000000" if offer.tx_code != "000000" else "111111",
                   typed=True)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "refused the offer" in flat(screen_text(app)),
                       "the issuance error")
        assert "Traceback" not in screen_text(app)
        await pilot.press("escape")
        await wait_screen(pilot, CredentialsScreen)
        await pilot.press("o")
        await wait_screen(pilot, OpenRequestScreen)
        await fill(pilot, "#source", "https://example.com/not-a-request")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "not a valid bank request" in flat(screen_text(app)),
                       "the request error")
        assert isinstance(app.screen.query_one("#source", Input), Input)


async def test_revoked_credential_shows_its_badge(live: Live) -> None:
    app = new_app(live.home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        detail = await receive(pilot, live, 35)
        await wait_for(pilot, lambda: detail.detail is not None, "the detail")
        digest = None
        wallet = app.wallet
        assert wallet is not None
        digest = wallet.vault.get("credential", detail.credential_id)["digest"]
        live.world.cra.revoke(digest)
        await pilot.press("u")
        await wait_for(pilot, lambda: detail.detail is not None
                       and detail.detail.summary.revoked is True, "the revoked status")
        assert "Revoked" in flat(screen_text(app))


async def test_request_from_a_file_chosen_in_the_picker_and_from_a_qr_image(
        live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.widgets import DirectoryTree

    from vc.qr import render_png
    from wallet.tui.screens.file_picker import FilePickerScreen

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    request = live.request()
    (inbox / "request.json").write_text(json.dumps(request.to_json()))
    monkeypatch.chdir(inbox)
    app = new_app(live.home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await receive(pilot, live, 36)
        await pilot.press("escape")
        await wait_screen(pilot, CredentialsScreen)
        await pilot.press("o")
        await wait_screen(pilot, OpenRequestScreen)
        await pilot.press("ctrl+o")
        await wait_screen(pilot, FilePickerScreen)
        tree = app.screen.query_one(DirectoryTree)
        await wait_for(pilot, lambda: tree.root.children, "the folder listing")
        await pilot.press("down")  # from the folder to its only file
        await pilot.press("enter")
        review = await wait_screen(pilot, ReviewScreen)
        assert review.review.nonce == request.nonce and review.review.authenticated
        await pilot.press("escape")
        await wait_screen(pilot, CredentialsScreen)

        # a photo of the bank's QR code (the request URI), typed as a path
        second = live.request()
        picture = tmp_path / "bank-qr.png"
        picture.write_bytes(render_png(second.uri))
        await pilot.press("o")
        await wait_screen(pilot, OpenRequestScreen)
        await fill(pilot, "#source", str(picture))
        await pilot.press("enter")
        review = await wait_screen(pilot, ReviewScreen)
        assert review.review.nonce == second.nonce

        # a picture without a code says so
        blank = tmp_path / "blank.png"
        from PIL import Image

        Image.new("L", (64, 64), 255).save(blank)
        await pilot.press("escape")
        await wait_screen(pilot, CredentialsScreen)
        await pilot.press("o")
        await wait_screen(pilot, OpenRequestScreen)
        await fill(pilot, "#source", str(blank))
        await pilot.press("enter")
        await wait_for(pilot, lambda: "No QR code was found" in flat(screen_text(app)))


async def test_start_with_a_request_opens_its_review_after_unlocking(live: Live) -> None:
    request = live.request()
    app = new_app(live.home, request=request.uri)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock_to(pilot, ReviewScreen)
        assert app.screen.review.nonce == request.nonce
        await pilot.press("escape")  # back to the home screen underneath
        await wait_screen(pilot, CredentialsScreen)


async def unlock_to(pilot: Any, cls: type) -> Any:
    from wallet.tui.screens.unlock import UnlockScreen

    await wait_screen(pilot, UnlockScreen)
    await fill(pilot, "#passphrase", PASS)
    await pilot.press("enter")
    return await wait_screen(pilot, cls)


@pytest.fixture
def rogue_bank(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A bank the registry never admitted (it still trusts the CRA and the registry)."""
    monkeypatch.setenv("SELFCARRY_UNSAFE_TEST_KDF", "1")
    with live_world(tmp_path, admit_bank=False) as world:
        yield world


async def test_unauthenticated_bank_needs_an_explicit_confirmation(rogue_bank: Live) -> None:
    from wallet.tui.screens.dialogs import ConfirmDialog

    live = rogue_bank
    app = new_app(live.home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await receive(pilot, live, 37)
        await pilot.press("escape")
        await wait_screen(pilot, CredentialsScreen)
        request = live.request()
        await pilot.press("o")
        await wait_screen(pilot, OpenRequestScreen)
        await fill(pilot, "#source", request.uri)
        await pilot.press("enter")
        review = await wait_screen(pilot, ReviewScreen)
        assert not review.review.authenticated
        text = flat(screen_text(app))
        assert "Identity NOT checked" in text and "It may be a fake page" in text
        await pilot.press("p")
        await wait_screen(pilot, PreviewScreen)
        await pilot.press("a")
        await wait_screen(pilot, ConfirmDialog)
        assert "its identity was not checked" in flat(screen_text(app))
        await pilot.press("escape")  # the safe answer: nothing sent
        await wait_screen(pilot, PreviewScreen)
        assert app.wallet is not None and app.wallet.history() == []
        await pilot.press("a")
        await wait_screen(pilot, ConfirmDialog)
        await pilot.click("#yes")
        delivery = await wait_screen(pilot, DeliveryScreen)
        await wait_for(pilot, lambda: delivery.delivery is not None or delivery.failed)
        assert delivery.delivery is not None
        assert delivery.delivery.outcome in ("delivered", "rejected_by_bank")
        assert app.wallet.history()[0].authenticated is False

        # the wallet itself refuses an unconfirmed answer; the screen says why, in words
        await pilot.press("enter")
        await wait_screen(pilot, CredentialsScreen)
        unconfirmed = DeliveryScreen(review.review, review.review.candidates[0].credential_id,
                                     [], confirm_unauthenticated=False)
        await app.push_screen(unconfirmed)
        await wait_for(pilot, lambda: unconfirmed.failed, "the refusal")
        text = flat(screen_text(app))
        assert "confirm explicitly before sending" in text and "Nothing was sent." in text
        assert len(app.wallet.history()) == 1
