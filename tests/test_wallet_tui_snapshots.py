"""Snapshots of the key screens (unlock, credentials, request review, preview, history) in
each language, at 80×24, from fixed data and a fixed clock.

The SVGs under ``tests/snapshots/wallet_tui/`` are committed and compared exactly. To
regenerate after an intended change: ``SELFCARRY_UPDATE_SNAPSHOTS=1 pytest
tests/test_wallet_tui_snapshots.py`` (never under ``CI``, where a missing or different
snapshot fails).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from tests.test_wallet_tui_support import (
    FIXED_NOW,
    anyio_backend,  # noqa: F401 - the fixture the anyio marker uses
    fixed_history,
    fixed_preview,
    fixed_review,
    fixed_summaries,
    make_wallet,
    screen_text,
    wait_screen,
)
from wallet.tui.app import WalletApp
from wallet.tui.i18n import LANGUAGES
from wallet.tui.screens.credentials import CredentialsScreen
from wallet.tui.screens.history import HistoryScreen
from wallet.tui.screens.preview import PreviewScreen
from wallet.tui.screens.review import ReviewScreen
from wallet.tui.screens.unlock import UnlockScreen

pytestmark = pytest.mark.anyio

SNAPSHOTS = Path(__file__).parent / "snapshots" / "wallet_tui"
SIZE = (80, 24)

SCREENS: dict[str, Callable[[], Any] | None] = {
    "unlock": None,  # the real unlock screen of a real vault
    "credentials": lambda: CredentialsScreen(fixed_summaries()),
    "review": lambda: ReviewScreen(fixed_review(), fixed=True),
    "preview": lambda: PreviewScreen(fixed_review(), fixed_preview(),
                                     ["ld.credentialSubject.identity.nameZh"], fixed=True),
    "history": lambda: HistoryScreen(fixed_history()),
}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    os.environ.setdefault("SELFCARRY_UNSAFE_TEST_KDF", "1")
    path = tmp_path_factory.mktemp("snap") / "resident"
    make_wallet(path, None, None)
    return path


def _normalise(svg: str) -> str:
    """Textual names the SVG's CSS classes after a hash of the content: keep them stable."""
    return re.sub(r"terminal-\d+", "terminal", svg)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", list(SCREENS))
async def test_snapshot(home: Path, name: str, language: str, tmp_path: Path) -> None:
    app = WalletApp(home=home, language=language, clock=lambda: FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, UnlockScreen)
        make = SCREENS[name]
        if make is not None:
            await app.push_screen(make())
            await pilot.pause()
        for field in app.screen.query(Input):
            field.cursor_blink = False
        await pilot.pause()
        await pilot.pause()
        svg = _normalise(app.export_screenshot(title=f"selfcarry {name} {language}"))
        text = screen_text(app)
    path = SNAPSHOTS / f"{name}-{language}.svg"
    if not path.exists() or os.environ.get("SELFCARRY_UPDATE_SNAPSHOTS") == "1":
        if os.environ.get("CI"):
            pytest.fail(f"snapshot {path.name} is missing: generate it locally and commit it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(svg, encoding="utf-8")
        path.with_suffix(".txt").write_text(text + "\n", encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    if svg != expected:
        before = path.with_suffix(".txt").read_text(encoding="utf-8").splitlines()
        diff = "\n".join(difflib.unified_diff(before, (text + "\n").splitlines(),
                                              "committed", "now", lineterm=""))
        actual = tmp_path / path.name
        actual.write_text(svg, encoding="utf-8")
        pytest.fail(f"{path.name} differs (now: {actual}); text diff:\n{diff or '(styles only)'}")
