"""The resident's terminal app: ``wallet`` with no arguments runs :func:`run`.

The app holds no business logic: every decision (what a request asks, what may be
disclosed, whether a credential verifies) is :class:`wallet.api.Wallet`'s. The app
shows it, in the resident's language, and asks before anything leaves the wallet.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType

from ..home import resolve_home, vault_path
from .i18n import LANGUAGES, Translator, language_from_env

if TYPE_CHECKING:
    from ..api import Wallet

__all__ = ["WalletApp", "run"]

DEFAULT_AUTO_LOCK = 300


class WalletApp(App[int]):
    """The wallet in a terminal: unlock, credentials, requests, history, settings."""

    CSS_PATH = "app.tcss"
    TITLE = "selfcarry"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "key.help"),
        Binding("f2", "language", "key.language"),
        Binding("ctrl+l", "lock", "key.lock"),
        Binding("ctrl+q", "quit", "key.quit", priority=True),
    ]

    def __init__(
        self,
        home: str | Path | None = None,
        *,
        request: str | None = None,
        language: str | None = None,
        clock: Callable[[], float] = time.time,
        idle_poll: float = 1.0,
    ) -> None:
        super().__init__()
        self.home = resolve_home(home)
        self.tr = Translator(language or language_from_env())
        self.clock = clock
        self.pending_request = request
        self.wallet: Wallet | None = None
        self.auto_lock_seconds = DEFAULT_AUTO_LOCK
        self.busy = 0  # wallet calls in flight (no auto-lock in the middle of one)
        self._language_chosen = language is not None
        self._last_input = time.monotonic()
        self._idle_poll = idle_poll

    # --- start ---------------------------------------------------------------------

    def on_mount(self) -> None:
        from .screens.first_run import FirstRunScreen
        from .screens.unlock import UnlockScreen

        # (the same test as Wallet.exists, without importing the wallet core before the
        # first screen: that import is most of a cold start, so it is done meanwhile)
        if vault_path(self.home).exists():
            self.push_screen(UnlockScreen())
        else:
            self.push_screen(FirstRunScreen())
        self.set_interval(self._idle_poll, self._check_idle)
        self.call_after_refresh(self.run_worker, _preload, thread=True, group="preload",
                                exit_on_error=False)

    def opened(self, wallet: Wallet) -> None:
        """The vault is open (created, unlocked or restored): apply settings, go home."""
        from .screens.credentials import CredentialsScreen

        self.wallet = wallet
        self._apply_settings()
        self._last_input = time.monotonic()
        self.switch_screen(CredentialsScreen())  # it opens ``pending_request``, if any

    def take_pending_request(self) -> str | None:
        request, self.pending_request = self.pending_request, None
        return request

    def go_home(self) -> None:
        """Back to the credentials list (everything above it closes)."""
        from .screens.credentials import CredentialsScreen

        while len(self.screen_stack) > 1 and not isinstance(self.screen, CredentialsScreen):
            self.pop_screen()

    def _apply_settings(self) -> None:
        assert self.wallet is not None
        try:
            settings = self.wallet.settings()
        except Exception as exc:  # noqa: BLE001 - settings are a nicety; never block unlocking
            self.show_error(self.tr.error(getattr(exc, "code", None), str(exc)))
            return
        seconds = settings.get("auto_lock_seconds")
        if isinstance(seconds, int) and not isinstance(seconds, bool):
            self.auto_lock_seconds = seconds
        saved = settings.get("language")
        if self._language_chosen and saved != self.tr.language:
            self._save_setting("language", self.tr.language)
        elif saved in LANGUAGES and saved != self.tr.language:
            self.tr.language = saved  # before the home screen is built: nothing to relabel

    def _save_setting(self, key: str, value: Any) -> None:
        if self.wallet is None or self.wallet.locked:
            return
        try:
            self.wallet.set_setting(key, value)
        except Exception as exc:  # noqa: BLE001 - shown in words, the app carries on
            self.show_error(self.tr.error(getattr(exc, "code", None), str(exc)))

    # --- language --------------------------------------------------------------------

    async def set_language(self, language: str, save: bool = True) -> None:
        """Switch every screen to ``language`` now (and remember it in the vault)."""
        if language not in LANGUAGES:
            return
        self.tr.language = language
        self._language_chosen = True
        if save:
            self._save_setting("language", language)
        for screen in list(self.screen_stack):
            relabel = getattr(screen, "relabel", None)
            if relabel is not None:
                await relabel()

    async def action_language(self) -> None:
        i = LANGUAGES.index(self.tr.language)
        await self.set_language(LANGUAGES[(i + 1) % len(LANGUAGES)])

    # --- help, lock, quit -----------------------------------------------------------------

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "lock":
            return self.wallet is not None and not self.wallet.locked
        return True

    def action_lock(self) -> None:
        from .screens.unlock import UnlockScreen

        if self.wallet is None or self.wallet.locked:
            return
        self.wallet.lock()
        self.push_screen(UnlockScreen(relock=True))
        self.refresh_bindings()

    def unlocked(self) -> None:
        self._last_input = time.monotonic()
        if self._language_chosen:  # a language picked on the lock screen is kept
            self._save_setting("language", self.tr.language)
        self.refresh_bindings()

    async def action_quit(self) -> None:
        self.exit(0)

    def on_unmount(self) -> None:
        if self.wallet is not None:
            try:
                self.wallet.close()
            except Exception:  # noqa: BLE001, S110 - closing on the way out; nothing to report to
                pass

    # --- idle auto-lock ------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown | events.MouseScrollDown
                      | events.MouseScrollUp | events.Paste):
            self._last_input = time.monotonic()
        await super().on_event(event)

    def idle_for(self) -> float:
        return time.monotonic() - self._last_input

    def _check_idle(self) -> None:
        if (self.wallet is None or self.wallet.locked or self.busy
                or self.auto_lock_seconds <= 0):
            return
        if self.idle_for() >= self.auto_lock_seconds:
            self.action_lock()

    # --- errors without a screen of their own -----------------------------------------------

    def show_error(self, text: str) -> None:
        """Last resort for an error no screen line can hold: a dialog in words."""
        from .screens.dialogs import MessageDialog

        self.push_screen(MessageDialog(text))


def _preload() -> None:
    """Import the wallet core and the screens while the resident types the passphrase."""
    from .. import api  # noqa: F401
    from .screens import credentials, detail, review  # noqa: F401


def run(home: Path | str | None = None, request: str | None = None) -> int:
    """Start the app (``request``: open straight at its review after unlocking)."""
    app = WalletApp(home=home, request=request)
    result = app.run()
    return int(result or 0)
