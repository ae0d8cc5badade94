"""Change the vault passphrase (the vault re-encrypts under a new key at the same time)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from ..strength import MIN_LENGTH
from ..widgets.keybar import KeyBar
from ..widgets.status import Busy, ErrorLine
from ..widgets.strength_meter import StrengthMeter
from ..widgets.title_bar import TitleBar
from .base import Failed, WalletScreen


class ChangePassphraseScreen(WalletScreen):
    TITLE_KEY = "passphrase.title"
    HELP_KEY = "help.passphrase"
    AUTO_FOCUS = "#old"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "key.change_now"),
        Binding("escape", "back", "key.back"),
    ]
    FIELDS = ("old", "new", "confirm")

    def __init__(self) -> None:
        super().__init__()
        self.old = self.new = self.confirm = ""
        self.done = False

    def compose(self) -> ComposeResult:
        yield TitleBar(self.t(self.TITLE_KEY))
        with VerticalScroll(classes="form"):
            if self.done:
                yield Static(self.t("passphrase.done"), classes="success")
            yield Label(self.t("passphrase.old"))
            yield Input(self.old, id="old", password=True)
            yield Label(self.t("passphrase.new"))
            yield Input(self.new, id="new", password=True)
            yield StrengthMeter(self.app.tr, self.new, id="strength")
            yield Label(self.t("passphrase.confirm"))
            yield Input(self.confirm, id="confirm", password=True)
            yield ErrorLine()
            yield Busy()
            with Horizontal(classes="buttons"):
                yield Button(self.t("passphrase.change"), id="change", variant="primary",
                             compact=True)
                yield Button(self.t("common.back"), id="back", compact=True)
        yield KeyBar()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        if event.input.id in self.FIELDS:
            setattr(self, event.input.id, event.value)
            if event.input.id == "new":
                self.query_one(StrengthMeter).show(event.value)
            self.clear_error()

    @on(Input.Submitted)
    @on(Button.Pressed, "#change")
    def action_submit(self) -> None:
        self.clear_error()
        if len(self.new) < MIN_LENGTH:
            self.show_error(self.t("first_run.too_short", n=MIN_LENGTH))
            return
        if self.new != self.confirm:
            self.show_error(self.t("first_run.mismatch"))
            return
        self.run_worker(self._change(), exclusive=True, group="change")

    async def _change(self) -> None:
        result = await self.call(self.wallet.change_passphrase, self.old, self.new,
                                 busy=self.t("passphrase.working"))
        if isinstance(result, Failed):
            return
        self.old = self.new = self.confirm = ""
        self.done = True
        await self.redraw()

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        self.dismiss()
