"""Every screen of the wallet app under Textual's pilot, at 80×24 and larger: first run,
unlock, auto-lock, help, the key bar, settings (language at run time), backup and
restore, passphrase change, and the QR screen (static and animated codes that a real
decoder reads off the terminal)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import RadioSet, Select

from tests.test_wallet_tui_support import (
    PASS,
    SIZES,
    anyio_backend,  # noqa: F401 - the fixture the anyio marker uses
    decode_terminal_frames,
    fill,
    flat,
    make_wallet,
    new_app,
    screen_text,
    squeeze,
    unlock,
    wait_for,
    wait_screen,
)
from wallet.api import Wallet
from wallet.tui.screens.backup import BackupScreen, RestoreScreen
from wallet.tui.screens.credentials import CredentialsScreen
from wallet.tui.screens.first_run import FirstRunScreen
from wallet.tui.screens.help import HelpScreen
from wallet.tui.screens.passphrase import ChangePassphraseScreen
from wallet.tui.screens.qr import QRScreen, codes_for
from wallet.tui.screens.settings import SettingsScreen
from wallet.tui.screens.unlock import UnlockScreen
from wallet.tui.widgets.keybar import KeyBar, ordered_bindings

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def _fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELFCARRY_UNSAFE_TEST_KDF", "1")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    make_wallet(tmp_path / "resident", None, None)
    return tmp_path / "resident"


# --- first run ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_first_run_checks_then_creates_the_wallet(tmp_path: Path, size: tuple[int, int]
                                                        ) -> None:
    home = tmp_path / "new"
    app = new_app(home)
    async with app.run_test(size=size) as pilot:
        await wait_screen(pilot, FirstRunScreen)
        assert "Choose a passphrase to protect your wallet" in flat(screen_text(app))
        # too short
        await fill(pilot, "#passphrase", "short", typed=True)
        assert "too short" in flat(screen_text(app))
        await pilot.press("enter")  # to the confirmation field
        await fill(pilot, "#confirm", "short", typed=True)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "needs at least 8 characters" in flat(screen_text(app)))
        # mismatch
        await fill(pilot, "#passphrase", PASS)
        await fill(pilot, "#confirm", PASS + "!")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "two passphrases are different" in flat(screen_text(app)))
        assert not Wallet.exists(home)
        # weak: a warning first, and only a second press keeps it
        await fill(pilot, "#passphrase", "password1", typed=True)
        assert "very weak" in flat(screen_text(app))
        await fill(pilot, "#confirm", "password1")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "This passphrase is very weak" in flat(screen_text(app)))
        assert not Wallet.exists(home)
        # a strong one goes straight through
        await fill(pilot, "#passphrase", PASS, typed=True)
        assert "very strong" in flat(screen_text(app))
        await fill(pilot, "#confirm", PASS)
        await pilot.press("enter")
        await wait_screen(pilot, CredentialsScreen)
    assert Wallet.exists(home)
    Wallet.open(home, PASS).close()


async def test_weak_passphrase_kept_after_the_warning(tmp_path: Path) -> None:
    home = tmp_path / "weak"
    app = new_app(home)
    async with app.run_test() as pilot:
        await wait_screen(pilot, FirstRunScreen)
        await fill(pilot, "#passphrase", "aaaaaaaa")
        await fill(pilot, "#confirm", "aaaaaaaa")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "press Create wallet again" in flat(screen_text(app)))
        await pilot.press("enter")
        await wait_screen(pilot, CredentialsScreen)
    Wallet.open(home, "aaaaaaaa").close()


# --- unlock, lock, auto-lock -------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_unlock_wrong_then_right(home: Path, size: tuple[int, int]) -> None:
    app = new_app(home)
    async with app.run_test(size=size) as pilot:
        await wait_screen(pilot, UnlockScreen)
        assert "Your wallet is locked" in flat(screen_text(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Enter your passphrase." in flat(screen_text(app)))
        await fill(pilot, "#passphrase", "not the passphrase", typed=True)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "That passphrase is wrong." in flat(screen_text(app)))
        assert app.wallet is None
        assert app.screen.query_one("#passphrase").value == ""  # cleared for the next try
        await fill(pilot, "#passphrase", PASS, typed=True)
        await pilot.press("enter")
        await wait_screen(pilot, CredentialsScreen)
        assert app.wallet is not None and not app.wallet.locked


async def test_auto_lock_after_idle_then_resume(home: Path) -> None:
    app = new_app(home, idle_poll=0.05)
    async with app.run_test() as pilot:
        await unlock(pilot)
        await pilot.press("h")  # somewhere other than home
        from wallet.tui.screens.history import HistoryScreen

        await wait_screen(pilot, HistoryScreen)
        app.auto_lock_seconds = 0.3  # the vault refuses < 10 s as a setting; a test may not wait
        relock = await wait_screen(pilot, UnlockScreen)
        assert relock.relock and app.wallet is not None and app.wallet.locked
        assert "locked itself after a period of inactivity" in flat(screen_text(app))
        app.auto_lock_seconds = 300
        await fill(pilot, "#passphrase", "wrong passphrase")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "That passphrase is wrong." in flat(screen_text(app)))
        assert app.wallet.locked
        await fill(pilot, "#passphrase", PASS)
        await pilot.press("enter")
        await wait_screen(pilot, HistoryScreen)  # back where the resident was
        assert not app.wallet.locked


async def test_lock_key_and_activity_keeps_it_open(home: Path) -> None:
    app = new_app(home, idle_poll=0.05)
    async with app.run_test() as pilot:
        await unlock(pilot)
        assert "^l Lock" in flat(screen_text(app))
        await pilot.press("ctrl+l")
        await wait_screen(pilot, UnlockScreen)
        assert app.wallet is not None and app.wallet.locked
        assert "Lock" not in [item.label for item in app.screen.query_one(KeyBar).items()]
        await fill(pilot, "#passphrase", PASS)
        await pilot.press("enter")
        await wait_screen(pilot, CredentialsScreen)


# --- help and the key bar ---------------------------------------------------------------------


async def test_help_lists_every_key_and_the_key_bar_shows_them(home: Path) -> None:
    app = new_app(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        screen = app.screen
        bar = flat(screen_text(app))
        for _node, binding, _enabled in ordered_bindings(screen):
            label = app.tr(binding.description)
            if binding.show:  # shown in the footer, even at 80 columns
                assert f"{app.get_key_display(binding)} {label}" in bar, label
        await pilot.press("f1")
        help_screen = await wait_screen(pilot, HelpScreen)
        await pilot.resize_terminal(100, 50)  # the whole list in view (it scrolls at 80×24)
        await pilot.pause()
        text = flat(screen_text(app))
        assert "Help — My credentials" in text
        for _node, binding, _enabled in ordered_bindings(screen):  # all, hidden ones too
            assert app.tr(binding.description) in text
        for binding in app.BINDINGS:
            assert app.tr(binding.description) in text  # type: ignore[union-attr]
        assert help_screen.about is screen
        await pilot.press("escape")
        await wait_screen(pilot, CredentialsScreen)
        # the mouse: a click on a key in the bar runs it
        bar_widget = app.screen.query_one(KeyBar)
        row, start = next((y, x) for y, line in enumerate(bar_widget._lines)
                          for x, item in line if item.action == "receive")
        await pilot.click(KeyBar, offset=(start + 2, row))
        from wallet.tui.screens.receive import ReceiveScreen

        await wait_screen(pilot, ReceiveScreen)


# --- settings -----------------------------------------------------------------------------------


async def test_settings_language_switch_relabels_every_screen(home: Path) -> None:
    app = new_app(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("s")
        await wait_screen(pilot, SettingsScreen)
        english = screen_text(app)
        assert "Lock the wallet after this long without use" in flat(english)
        radios = app.screen.query_one("#language", RadioSet)
        radios.focus()
        await pilot.press("down")  # 繁體中文（香港）
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.tr.language == "zh-Hant-HK")
        await pilot.pause()
        chinese = flat(screen_text(app))
        for label in ("設定", "語言", "閒置多久後自動上鎖", "備份與還原", "返回", "說明"):
            assert label in chinese, label
        for label in ("Settings", "Language", "Lock the wallet", "Backup and restore", "Back"):
            assert label not in chinese, label
        # the screen underneath changed too
        await pilot.press("escape")
        await wait_screen(pilot, CredentialsScreen)
        home_text = flat(screen_text(app))
        assert "我的憑證" in home_text and "My credentials" not in home_text
        # F2 cycles: 简体中文
        await pilot.press("f2")
        await wait_for(pilot, lambda: "我的凭证" in flat(screen_text(app)))
        # remembered in the vault
        assert app.wallet is not None and app.wallet.settings()["language"] == "zh-Hans"
    app = new_app(home, language=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await wait_for(pilot, lambda: "我的凭证" in flat(screen_text(app)), "the saved language")


async def test_settings_auto_lock_is_saved(home: Path) -> None:
    app = new_app(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("s")
        await wait_screen(pilot, SettingsScreen)
        select = app.screen.query_one("#auto-lock", Select)
        assert select.value == 300
        select.value = 60
        await wait_for(pilot, lambda: app.auto_lock_seconds == 60)
        assert app.wallet is not None and app.wallet.settings()["auto_lock_seconds"] == 60


async def test_backup_then_restore_into_a_new_home(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "backup.scb"
    app = new_app(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("s")
        await wait_screen(pilot, SettingsScreen)
        await pilot.press("b")
        backup = await wait_screen(pilot, BackupScreen)
        await fill(pilot, "#path", str(target))
        await fill(pilot, "#passphrase", "backup passphrase one")
        await fill(pilot, "#confirm", "backup passphrase two")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "two passphrases are different" in flat(screen_text(app)))
        await fill(pilot, "#confirm", "backup passphrase one")
        await pilot.press("enter")
        await wait_for(pilot, lambda: backup.done is not None, "the backup")
        assert squeeze(f"Backup saved to {target}") in squeeze(screen_text(app))
    assert target.is_file()

    restored = tmp_path / "restored"
    app = new_app(restored)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_screen(pilot, FirstRunScreen)
        await pilot.press("ctrl+r")
        await wait_screen(pilot, RestoreScreen)
        await fill(pilot, "#path", str(target))
        await fill(pilot, "#backup_passphrase", "not it at all")
        await fill(pilot, "#passphrase", "a new passphrase here")
        await fill(pilot, "#confirm", "a new passphrase here")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "backup's passphrase is wrong" in flat(screen_text(app)))
        await fill(pilot, "#backup_passphrase", "backup passphrase one")
        await pilot.press("ctrl+s")
        await wait_screen(pilot, CredentialsScreen)
    Wallet.open(restored, "a new passphrase here").close()


async def test_change_passphrase(home: Path) -> None:
    app = new_app(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("s")
        await wait_screen(pilot, SettingsScreen)
        await pilot.press("c")
        screen = await wait_screen(pilot, ChangePassphraseScreen)
        await fill(pilot, "#old", "wrong old passphrase")
        await fill(pilot, "#new", "brand new passphrase")
        await fill(pilot, "#confirm", "brand new passphrase")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "That passphrase is wrong." in flat(screen_text(app)))
        await fill(pilot, "#old", PASS)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.done, "the change")
        assert "Passphrase changed." in flat(screen_text(app))
    Wallet.open(home, "brand new passphrase").close()


# --- QR ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def presentation(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real SD-JWT+KB presentation (CRA-issued, holder-signed), made offline."""
    from tests.world import make_world

    world = make_world(tmp_path_factory.mktemp("qr-world"))
    try:
        issued, holder = world.issue(41)
        with world.verifier() as bank:
            request = bank.create_request()
        response = world.present(issued, holder, request)
    finally:
        world.cra.close()
    return next(iter(response.vp_token.values()))[0]


@pytest.mark.parametrize(("size", "animated"), [((80, 24), True), ((200, 90), False)])
async def test_qr_screen_codes_decode_off_the_terminal(home: Path, presentation: str,
                                                       size: tuple[int, int], animated: bool,
                                                       tmp_path: Path) -> None:
    app = new_app(home)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await app.push_screen(QRScreen(presentation, bank="Shenzhen Example Bank"))
        screen = await wait_screen(pilot, QRScreen)
        await wait_for(pilot, lambda: screen.view is not None, "the code")
        view = screen.view
        assert view.animated is animated
        for line in view.frame_text().split("\n"):
            assert set(line) <= {" ", "▀", "▄", "█"}
        assert view.styles.width is not None
        text = flat(screen_text(app))
        if animated:
            assert f"Show these {len(view.codes)} codes" in text and "Code 1 of" in text
        else:
            assert "Show this code to the scanner of Shenzhen Example Bank" in text
        # the whole drawing is inside the terminal
        region = view.region
        assert region.right <= size[0] and region.bottom <= size[1]
        assert await decode_terminal_frames(pilot, screen) == presentation

        # save as PNG (several files for an animation) and SVG
        await pilot.press("s")
        await wait_for(pilot, lambda: app.screen.query("#path"), "the path dialog")
        await fill(pilot, "#path", str(tmp_path / "code.png"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.saved, "the PNG files")
        from vc.qr import decode_images, decode_presentation

        assert decode_presentation(decode_images(screen.saved)) == presentation
        await pilot.press("v")
        await wait_for(pilot, lambda: app.screen.query("#path"), "the path dialog")
        await fill(pilot, "#path", str(tmp_path / "code.svg"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.saved and screen.saved[0].suffix == ".svg")
        assert all(p.read_text().lstrip().startswith("<?xml") or "<svg" in p.read_text()
                   for p in screen.saved)
        await pilot.press("escape")
        await wait_screen(pilot, CredentialsScreen)


def test_codes_fit_the_area_or_there_are_none(presentation: str) -> None:
    from vc.qr import terminal_size

    for cols, rows in ((80, 20), (60, 18), (200, 86)):
        codes = codes_for(presentation, cols, rows)
        assert codes
        for code in codes[:3]:
            width, height = terminal_size(code)
            assert width <= cols and height <= rows
    assert codes_for(presentation, 20, 8) == []


async def test_qr_screen_too_small_says_so(home: Path, presentation: str) -> None:
    app = new_app(home)
    async with app.run_test(size=(30, 12)) as pilot:
        await unlock(pilot)
        await app.push_screen(QRScreen(presentation, bank="B"))
        screen = await wait_screen(pilot, QRScreen)
        await wait_for(pilot, lambda: "too small" in flat(screen_text(app)))
        assert screen.view is None


@pytest.mark.parametrize("language", ["en", "zh-Hant-HK", "zh-Hans"])
async def test_the_key_bar_fits_80_columns_in_every_language(home: Path, language: str) -> None:
    """The busiest screens keep every key visible at 80×24 (at most three lines)."""
    from tests.test_wallet_tui_support import fixed_review, fixed_summaries
    from wallet.tui.screens.review import ReviewScreen

    app = new_app(home, language=language)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        for screen in (CredentialsScreen(fixed_summaries()), ReviewScreen(fixed_review(),
                                                                          fixed=True)):
            await app.push_screen(screen)
            await pilot.pause()
            bar = app.screen.query_one(KeyBar)
            shown = [item for line in bar._lines for _x, item in line]
            assert len(bar._lines) <= 3 and bar.size.height == len(bar._lines)
            assert len(shown) == len(bar.items())
            text = flat(screen_text(app))
            for item in shown:
                assert f"{item.key} {item.label}" in text
            app.pop_screen()
            await pilot.pause()
