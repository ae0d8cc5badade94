"""Unlock: the passphrase opens the vault; also what covers everything after auto-lock."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Center, Vertical
from textual.widgets import Button, Input, Label, Static

from ..widgets.keybar import KeyBar
from ..widgets.status import Busy, ErrorLine
from ..widgets.title_bar import TitleBar
from .base import Failed, WalletScreen


class UnlockScreen(WalletScreen):
    TITLE_KEY = "unlock.title"
    HELP_KEY = "help.unlock"
    AUTO_FOCUS = "#passphrase"
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, *, relock: bool = False) -> None:
        super().__init__()
        self.relock = relock  # True: the open wallet was locked; unlocking returns to it

    def compose(self) -> ComposeResult:
        yield TitleBar(self.t(self.TITLE_KEY))
        with Center(), Vertical(classes="card", id="unlock-card"):
            yield Static(self.t("unlock.locked_note" if self.relock else "unlock.intro"),
                         classes="intro")
            yield Label(self.t("unlock.passphrase"))
            yield Input(password=True, id="passphrase",
                        placeholder=self.t("unlock.passphrase_hint"))
            yield ErrorLine()
            yield Busy()
            yield Button(self.t("unlock.unlock"), id="unlock", variant="primary", compact=True)
        yield KeyBar()

    @on(Input.Submitted, "#passphrase")
    @on(Button.Pressed, "#unlock")
    def _submit(self) -> None:
        passphrase = self.query_one("#passphrase", Input).value
        self.clear_error()
        if not passphrase:
            self.show_error(self.t("unlock.empty"))
            return
        self.run_worker(self._unlock(passphrase), exclusive=True, group="unlock")

    async def _unlock(self, passphrase: str) -> None:
        field = self.query_one("#passphrase", Input)
        button = self.query_one("#unlock", Button)
        busy = self.t("unlock.unlocking")
        button.disabled = True
        try:
            if self.relock and self.app.wallet is not None:
                failed = await self.call(self.app.wallet.unlock, passphrase, busy=busy)
                opened = None
            else:
                from ...api import Wallet

                result = await self.call(Wallet.open, self.app.home, passphrase, busy=busy)
                failed = result if isinstance(result, Failed) else None
                opened = None if isinstance(result, Failed) else result
        finally:
            button.disabled = False
        field.value = ""
        if isinstance(failed, Failed):
            field.focus()
            return
        if opened is not None:
            self.app.opened(opened)
        else:
            self.app.unlocked()
            self.dismiss()
