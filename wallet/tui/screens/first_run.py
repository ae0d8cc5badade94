"""First run: create the passphrase that protects the vault (or restore a backup)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from ..strength import MIN_LENGTH, is_weak, level
from ..widgets.keybar import KeyBar
from ..widgets.status import Busy, ErrorLine
from ..widgets.strength_meter import StrengthMeter
from ..widgets.title_bar import TitleBar
from .base import Failed, WalletScreen


class FirstRunScreen(WalletScreen):
    TITLE_KEY = "first_run.title"
    HELP_KEY = "help.first_run"
    AUTO_FOCUS = "#passphrase"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "create", "key.create"),
        Binding("ctrl+r", "restore", "key.restore"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.passphrase = ""
        self.confirm = ""
        self._weak_acknowledged = ""  # the weak passphrase the resident chose to keep

    def compose(self) -> ComposeResult:
        yield TitleBar(self.t(self.TITLE_KEY))
        with VerticalScroll(classes="form"):
            yield Static(self.t("first_run.intro"), classes="intro")
            yield Label(self.t("first_run.passphrase"))
            yield Input(self.passphrase, password=True, id="passphrase",
                        placeholder=self.t("first_run.passphrase_hint"))
            yield StrengthMeter(self.app.tr, self.passphrase, id="strength")
            yield Label(self.t("first_run.confirm"))
            yield Input(self.confirm, password=True, id="confirm",
                        placeholder=self.t("first_run.confirm_hint"))
            yield Static("", id="warning", classes="warning")
            yield ErrorLine()
            yield Busy()
            with Horizontal(classes="buttons"):
                yield Button(self.t("first_run.create"), id="create", variant="primary",
                             compact=True)
                yield Button(self.t("first_run.restore"), id="restore", compact=True)
        yield KeyBar()

    @on(Input.Changed, "#passphrase")
    def _passphrase_changed(self, event: Input.Changed) -> None:
        self.passphrase = event.value
        self.query_one(StrengthMeter).show(event.value)
        self._set_warning("")
        self.clear_error()

    @on(Input.Changed, "#confirm")
    def _confirm_changed(self, event: Input.Changed) -> None:
        self.confirm = event.value
        self.clear_error()

    @on(Input.Submitted, "#passphrase")
    def _next_field(self) -> None:
        self.query_one("#confirm", Input).focus()

    @on(Input.Submitted, "#confirm")
    @on(Button.Pressed, "#create")
    def _submit(self) -> None:
        self.action_create()

    @on(Button.Pressed, "#restore")
    def _restore_pressed(self) -> None:
        self.action_restore()

    def _set_warning(self, text: str) -> None:
        warning = self.query_one("#warning", Static)
        warning.update(text)
        warning.set_class(bool(text), "-shown")

    def action_create(self) -> None:
        self.clear_error()
        if len(self.passphrase) < MIN_LENGTH:
            self.show_error(self.t("first_run.too_short", n=MIN_LENGTH))
            return
        if self.passphrase != self.confirm:
            self.show_error(self.t("first_run.mismatch"))
            self.query_one("#confirm", Input).focus()
            return
        if is_weak(self.passphrase) and self._weak_acknowledged != self.passphrase:
            self._weak_acknowledged = self.passphrase
            self._set_warning(self.t("first_run.weak_warning",
                                     strength=self.t(f"strength.{_level_name(self.passphrase)}")))
            return
        self.run_worker(self._create(self.passphrase), exclusive=True, group="create")

    async def _create(self, passphrase: str) -> None:
        from ...api import Wallet

        self.query_one("#create", Button).disabled = True
        result = await self.call(Wallet.create, self.app.home, passphrase,
                                 busy=self.t("first_run.creating"))
        self.query_one("#create", Button).disabled = False
        if isinstance(result, Failed):
            return
        self.passphrase = self.confirm = ""
        self.app.opened(result)

    def action_restore(self) -> None:
        from .backup import RestoreScreen

        self.app.push_screen(RestoreScreen())


def _level_name(passphrase: str) -> str:
    from ..strength import LEVELS

    return LEVELS[level(passphrase)]
