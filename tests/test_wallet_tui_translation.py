"""No screen shows an untranslated string: every screen of the app, walked in each language
against real services (plus the states real services rarely produce, from fixed data).

Three checks on every screen's visible text:

* no ``⟦key⟧`` — the app's mark for a key missing from the catalogue;
* in Chinese, no English catalogue text (every English sentence fragment of a key whose
  translation differs);
* in Chinese, no English word at all except data (claim values, names, identifiers,
  paths — gathered from what the screens were given), key names and a short list of
  proper names.
"""

from __future__ import annotations

import dataclasses
import re
import string
from pathlib import Path
from typing import Any

import pytest

from tests.test_wallet_tui_support import (
    FIXED_NOW,
    Live,
    anyio_backend,  # noqa: F401 - the fixture the anyio marker uses
    fill,
    fixed_detail,
    fixed_history,
    fixed_preview,
    fixed_review,
    fixed_summaries,
    live_world,
    new_app,
    screen_text,
    wait_for,
    wait_screen,
)
from wallet.api import Wallet
from wallet.model import Delivery
from wallet.model import Warning as ReviewWarning
from wallet.tui.i18n import LANGUAGE_NAMES, LANGUAGES, MISSING_OPEN, catalogue
from wallet.tui.screens.backup import BackupScreen, RestoreScreen
from wallet.tui.screens.credentials import CredentialsScreen
from wallet.tui.screens.delivery import DeliveryScreen
from wallet.tui.screens.detail import DetailScreen
from wallet.tui.screens.dialogs import ConfirmDialog, MessageDialog, PathDialog
from wallet.tui.screens.file_picker import FilePickerScreen
from wallet.tui.screens.first_run import FirstRunScreen
from wallet.tui.screens.help import HelpScreen
from wallet.tui.screens.history import HistoryDetailScreen, HistoryScreen
from wallet.tui.screens.open_request import OpenRequestScreen
from wallet.tui.screens.passphrase import ChangePassphraseScreen
from wallet.tui.screens.preview import PreviewScreen
from wallet.tui.screens.qr import QRScreen
from wallet.tui.screens.receive import ReceiveScreen
from wallet.tui.screens.review import ReviewScreen
from wallet.tui.screens.settings import SettingsScreen
from wallet.tui.screens.unlock import UnlockScreen

from .test_wallet_tui_support import PASS

pytestmark = pytest.mark.anyio

SIZE = (120, 50)
KEY_NAMES = {"ctrl", "esc", "enter", "tab", "shift", "space", "del", "delete", "backspace",
             "Tab", "Shift", "Enter", "Space", "Esc"}
PROPER_NAMES = {"selfcarry", "QR", "PNG", "SVG", "JSON", "KB", "HKID", "English"}
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S*")
PATH = re.compile(r"(?<![\w])/[\w./~-]+")
DOMAIN = re.compile(r"\b[\w-]+(?:\.[\w-]+)+\b")
WORD = re.compile(r"[A-Za-z][A-Za-z'’]{2,}")
WITH_DIGITS = re.compile(r"\S*\d\S*")  # identifiers, base64, dates: not words of a language


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SELFCARRY_UNSAFE_TEST_KDF", "1")
    with live_world(tmp_path) as world:
        yield world


def _strings(obj: Any) -> list[str]:
    """Every string inside a value (dataclasses, dicts, lists), keys included."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _strings(dataclasses.asdict(obj))
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, Path):
        return [str(obj)]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(obj, list | tuple | set):
        return [s for v in obj for s in _strings(v)]
    return []


class Walk:
    """Captures each screen's visible text, and the data the screens were given."""

    def __init__(self, pilot: Any) -> None:
        self.pilot = pilot
        self.texts: dict[str, str] = {}
        self.data: list[Any] = []
        self.helped: set[type] = set()  # one help screen per kind of screen is enough

    async def capture(self, name: str, *, help_too: bool = True) -> None:
        app = self.pilot.app
        await self.pilot.pause()
        self.texts[name] = screen_text(app)
        for attr in ("review", "preview", "detail", "delivery", "items", "rows", "row",
                     "presentation", "bank", "message", "path", "folder", "source", "offer"):
            if hasattr(app.screen, attr):
                self.data.append(getattr(app.screen, attr))
        if isinstance(app.screen, FilePickerScreen):  # file names are the resident's data
            self.data.extend(p.name for p in app.screen.folder.iterdir())
        if help_too and type(app.screen) not in self.helped:
            self.helped.add(type(app.screen))
            await self.pilot.press("f1")
            await wait_screen(self.pilot, HelpScreen)
            self.texts[name + "/help"] = screen_text(app)
            await self.pilot.press("escape")
            await self.pilot.pause()

    async def push(self, screen: Any, name: str, *, help_too: bool = True) -> None:
        app = self.pilot.app
        await app.push_screen(screen)
        await wait_screen(self.pilot, type(screen))
        await self.capture(name, help_too=help_too)
        app.pop_screen()
        await self.pilot.pause()


async def walk_everything(live: Live, language: str, tmp_path: Path) -> Walk:
    app = new_app(tmp_path / "fresh", language=language)
    async with app.run_test(size=SIZE) as pilot:
        walk = Walk(pilot)
        await wait_screen(pilot, FirstRunScreen)
        await fill(pilot, "#passphrase", "password1", typed=True)
        await fill(pilot, "#confirm", "password2")
        await pilot.press("enter")
        await walk.capture("first_run mismatch")
        await fill(pilot, "#confirm", "password1")
        await pilot.press("enter")
        await walk.capture("first_run weak")
        await pilot.press("ctrl+r")
        await wait_screen(pilot, RestoreScreen)
        await fill(pilot, "#path", str(tmp_path / "nothing.scb"))
        await pilot.press("ctrl+s")
        await walk.capture("restore")

    app = new_app(live.home, language=language, clock=lambda: FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        walk.pilot = pilot
        await wait_screen(pilot, UnlockScreen)
        await fill(pilot, "#passphrase", "not the passphrase")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.query_one("#error").has_class("-shown"))
        await walk.capture("unlock wrong")
        await fill(pilot, "#passphrase", PASS)
        await pilot.press("enter")
        await wait_screen(pilot, CredentialsScreen)
        await walk.capture("credentials empty")

        offer = live.offer(51)
        await pilot.press("r")
        await wait_screen(pilot, ReceiveScreen)
        await walk.capture("receive")
        await fill(pilot, "#offer", offer.uri)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.query("#tx-code"))
        await walk.capture("receive code")
        await fill(pilot, "#tx-code", offer.tx_code)
        await pilot.press("enter")
        detail = await wait_screen(pilot, DetailScreen)
        await wait_for(pilot, lambda: detail.detail is not None)
        await pilot.press("e")
        await walk.capture("detail")
        await pilot.press("delete")
        await wait_screen(pilot, ConfirmDialog)
        await walk.capture("confirm delete")
        await pilot.press("escape")
        await pilot.press("escape")
        credentials = await wait_screen(pilot, CredentialsScreen)
        await wait_for(pilot, lambda: credentials.items)
        await walk.capture("credentials")

        request = live.request()
        await pilot.press("o")
        await wait_screen(pilot, OpenRequestScreen)
        await walk.capture("open request")
        await pilot.press("ctrl+o")
        await wait_screen(pilot, FilePickerScreen)
        await walk.capture("file picker")
        await pilot.press("escape")
        await fill(pilot, "#source", "garbage")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.query_one("#error").has_class("-shown"))
        await walk.capture("open request error", help_too=False)
        await fill(pilot, "#source", request.uri)
        await pilot.press("enter")
        await wait_screen(pilot, ReviewScreen)
        await walk.capture("review")
        await pilot.press("p")
        await wait_screen(pilot, PreviewScreen)
        await walk.capture("preview")
        await pilot.press("a")
        delivery = await wait_screen(pilot, DeliveryScreen)
        await wait_for(pilot, lambda: delivery.delivery is not None)
        await walk.capture("delivered")
        await pilot.press("h")
        history = await wait_screen(pilot, HistoryScreen)
        await wait_for(pilot, lambda: history.rows)
        await walk.capture("history")
        await pilot.press("enter")
        await wait_screen(pilot, HistoryDetailScreen)
        await walk.capture("history detail")
        await pilot.press("x")
        await wait_screen(pilot, PathDialog)
        await walk.capture("path dialog")
        await pilot.press("escape")
        await pilot.press("escape")
        await pilot.press("escape")
        await wait_screen(pilot, CredentialsScreen)
        await pilot.press("s")
        await wait_screen(pilot, SettingsScreen)
        await walk.capture("settings")
        await pilot.press("b")
        await wait_screen(pilot, BackupScreen)
        await walk.capture("backup")
        await pilot.press("escape")
        await pilot.press("c")
        await wait_screen(pilot, ChangePassphraseScreen)
        await walk.capture("passphrase")
        await pilot.press("escape")
        await pilot.press("escape")
        await wait_screen(pilot, CredentialsScreen)

        # states the live services rarely produce, from fixed data
        every_warning = (
            ReviewWarning("unauthenticated", "x", {"client_id": "https://loans.unknown.example"}),
            ReviewWarning("over_request", "x", {"paths": ["ld.credentialSubject.identity.hkid",
                                                         "ld.credentialSubject.accounts"]}),
            ReviewWarning("linkable", "x", {"credential_id": "c-5d41402abc4b2a76",
                                            "banks": ["https://loans.other.example"]}),
            ReviewWarning("expiring_soon", "x", {"credential_id": "c-5d41402abc4b2a76"}),
            ReviewWarning("expired_request", "x", {}),
            ReviewWarning("no_match", "x", {}),
        )
        review = fixed_review(authenticated=False, warnings=every_warning, candidates=2)
        await walk.push(ReviewScreen(review, fixed=True), "review unauthenticated")
        await walk.push(ReviewScreen(dataclasses.replace(review, candidates=()), fixed=True),
                        "review no candidate")
        await walk.push(PreviewScreen(review, fixed_preview(), [], fixed=True),
                        "preview fixed")
        await walk.push(CredentialsScreen(fixed_summaries()), "credentials fixed")
        await walk.push(DetailScreen("c-5d41402abc4b2a76", detail=fixed_detail()),
                        "detail fixed")
        await walk.push(HistoryScreen(fixed_history()), "history fixed")
        for row in fixed_history():
            await walk.push(HistoryDetailScreen(row, fixed=True), f"history {row.outcome}",
                            help_too=False)
        for outcome, verdict, error in (
                ("rejected_by_bank", {"verified": False, "reason": "revoked"}, "revoked"),
                ("rejected_by_bank", {"verified": False, "reason": "some_new_code"}, None),
                ("failed", None, "bank_unreachable: [Errno 111] Connection refused")):
            result = Delivery(outcome, "x", {}, verdict, error)
            await walk.push(DeliveryScreen(review, "c", [], delivery=result),
                            f"delivery {outcome} {error}", help_too=False)
        await walk.push(QRScreen(delivery.delivery.presentation, bank="Shenzhen Example Bank"),
                        "qr")
        await walk.push(MessageDialog(app.tr("error.vault_busy")), "message", help_too=False)
        walk.data.extend([every_warning, fixed_summaries(), fixed_history(), fixed_detail(),
                          fixed_preview(), review])
        await pilot.press("ctrl+l")
        await wait_screen(pilot, UnlockScreen)
        await walk.capture("relocked")
    with Wallet.open(live.home, PASS) as wallet:
        walk.data.extend(wallet.credentials())
        walk.data.extend(wallet.credential(s.id) for s in wallet.credentials())
        walk.data.extend(wallet.history())
    walk.data.append(str(tmp_path))
    return walk


def _english_fragments(language: str) -> dict[str, list[str]]:
    """English catalogue text (between placeholders) whose translation differs, by key."""
    en, other = catalogue("en"), catalogue(language)
    out: dict[str, list[str]] = {}
    for key, text in en.items():
        if other[key] == text:
            continue
        parts = [literal for literal, *_ in string.Formatter().parse(text)]
        keep = [p.strip(" .,:;()—-…") for p in parts]
        keep = [p for p in keep if WORD.search(p) and (" " in p or len(p) >= 4)]
        if keep:
            out[key] = keep
    return out


def _leftover_words(text: str, allowed: set[str]) -> set[str]:
    text = URI.sub(" ", text)
    text = PATH.sub(" ", text)
    text = DOMAIN.sub(" ", text)
    text = WITH_DIGITS.sub(" ", text)
    return {w for w in WORD.findall(text) if w not in allowed and w.lower() not in allowed}


@pytest.mark.parametrize("language", LANGUAGES)
async def test_no_screen_shows_an_untranslated_string(live: Live, language: str,
                                                      tmp_path: Path) -> None:
    walk = await walk_everything(live, language, tmp_path)
    assert len(walk.texts) > 40
    for name, text in walk.texts.items():
        assert MISSING_OPEN not in text, f"{name}: a catalogue key is missing\n{text}"
        assert "Traceback" not in text, name
    if language == "en":
        return
    fragments = _english_fragments(language)
    data_words: set[str] = set()
    for value in _strings(walk.data):
        data_words.update(WORD.findall(value))
        data_words.update(w.lower() for w in WORD.findall(value))
    allowed = data_words | KEY_NAMES | PROPER_NAMES | set(LANGUAGE_NAMES.values())
    problems: list[str] = []
    for name, text in walk.texts.items():
        flat_text = " ".join(text.split())
        for key, parts in fragments.items():
            for part in parts:
                if re.search(rf"(?<![A-Za-z]){re.escape(part)}(?![A-Za-z])", flat_text) \
                        and part not in data_words:
                    problems.append(f"{name}: English text of {key!r}: {part!r}")
        leftover = _leftover_words(text, allowed)
        if leftover:
            problems.append(f"{name}: English words {sorted(leftover)}")
    assert not problems, "\n".join(problems)


def test_the_check_itself_sees_english() -> None:
    """The word check is not vacuous: a plain English sentence is caught."""
    assert _leftover_words("你好 Press Enter to continue", KEY_NAMES) == {"Press", "continue"}
    assert _leftover_words("見 https://example.com/a-b /tmp/x/y registry.selfcarry.local", set()) \
        == set()
    assert "Anchored on the registry" in _english_fragments("zh-Hant-HK")["badge.anchored"][0]
