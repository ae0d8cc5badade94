"""What every wallet screen shares: translation, the wallet API, errors in words, busy state.

A screen keeps what it shows in plain attributes and builds its widgets from them in
``compose``, so switching language is just a recompose: nothing typed or chosen is lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen

from vc.errors import SelfcarryError

from ..widgets.status import Busy, ErrorLine

if TYPE_CHECKING:
    from ...api import Wallet
    from ..app import WalletApp

T = TypeVar("T")


class Failed:
    """Returned by :meth:`Helpers.call` when the call failed (its error is already shown)."""

    def __init__(self, code: str | None) -> None:
        self.code = code


class Helpers:
    """Mixed into screens: everything here reads ``self.app`` and the screen's own widgets."""

    app: WalletApp

    def t(self, key: str, /, **params: Any) -> str:
        return self.app.tr(key, **params)

    @property
    def wallet(self) -> Wallet:
        wallet = self.app.wallet
        if wallet is None:
            raise SelfcarryError("the wallet is not open", code="vault_locked")
        return wallet

    def error_text(self, exc: BaseException) -> str:
        if isinstance(exc, SelfcarryError):
            return self.app.tr.error(exc.code, exc.message)
        return self.app.tr.error("internal_error", str(exc) or type(exc).__name__)

    last_error: str = ""

    def show_error(self, text: str) -> None:
        self.last_error = text
        for line in self.query(ErrorLine):  # type: ignore[attr-defined]
            line.show(text)
            return
        self.app.show_error(text)

    def clear_error(self) -> None:
        for line in self.query(ErrorLine):  # type: ignore[attr-defined]
            line.clear()

    async def call(self, fn: Callable[..., T], *args: Any, busy: str | None = None,
                   **kwargs: Any) -> T | Failed:
        """Run a wallet call in a worker thread; on failure show why, in words.

        The UI stays live meanwhile (network and Argon2id calls take a while), and no
        exception ever reaches Textual's traceback screen.
        """
        busy_widget = next(iter(self.query(Busy)), None)  # type: ignore[attr-defined]
        if busy is not None and busy_widget is not None:
            busy_widget.start(busy)
        self.app.busy += 1
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except SelfcarryError as exc:
            self.show_error(self.error_text(exc))
            return Failed(exc.code)
        except Exception as exc:  # noqa: BLE001 - a bug must still read as words, not a crash
            self.show_error(self.error_text(exc))
            return Failed("internal_error")
        finally:
            self.app.busy -= 1
            if busy_widget is not None:
                busy_widget.stop()

    def guarded(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | Failed:
        """A quick, local wallet call on the UI thread, with the same error handling."""
        try:
            return fn(*args, **kwargs)
        except SelfcarryError as exc:
            self.show_error(self.error_text(exc))
            return Failed(exc.code)
        except Exception as exc:  # noqa: BLE001 - a bug must still read as words, not a crash
            self.show_error(self.error_text(exc))
            return Failed("internal_error")


class Redraw:
    """Serialised recomposition: a reload and a language switch must not interleave."""

    _redraw_lock: asyncio.Lock | None = None

    async def redraw(self) -> None:
        if self._redraw_lock is None:
            self._redraw_lock = asyncio.Lock()
        async with self._redraw_lock:
            await self.recompose()  # type: ignore[attr-defined]


class WalletScreen(Helpers, Redraw, Screen[Any]):  # type: ignore[misc]  # app: WalletApp
    """A full screen of the wallet."""

    #: the catalogue key of the screen's title (shown in the title bar and the help screen)
    TITLE_KEY: ClassVar[str] = ""
    #: the catalogue key of the help screen's paragraph about this screen
    HELP_KEY: ClassVar[str] = ""

    async def relabel(self) -> None:
        """Rebuild the widgets in the current language (state lives in attributes)."""
        await self.redraw()
        self.after_relabel()

    def after_relabel(self) -> None:
        if self.is_current:
            self.app.call_after_refresh(self._refocus)

    def _refocus(self) -> None:
        for widget in self.query(self.AUTO_FOCUS or "*"):
            if widget.focusable:
                widget.focus()
                return


class WalletModal(Helpers, Redraw, ModalScreen[Any]):  # type: ignore[misc]  # app: WalletApp
    """A dialog over the current screen (the app's own keys are blocked; help still works)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("f1", "app.help", "key.help")]

    TITLE_KEY: ClassVar[str] = ""
    HELP_KEY: ClassVar[str] = ""

    async def relabel(self) -> None:
        await self.redraw()
