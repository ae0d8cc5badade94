"""Back up the vault to an encrypted file, and restore one into an empty home."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from .. import format as fmt
from ..strength import MIN_LENGTH
from ..widgets.keybar import KeyBar
from ..widgets.status import Busy, ErrorLine
from ..widgets.title_bar import TitleBar
from .base import Failed, WalletScreen


class BackupScreen(WalletScreen):
    TITLE_KEY = "backup.title"
    HELP_KEY = "help.backup"
    AUTO_FOCUS = "#path"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "key.backup_now"),
        Binding("escape", "back", "key.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.path = ""
        self.passphrase = ""
        self.confirm = ""
        self.done: Path | None = None

    def compose(self) -> ComposeResult:
        if not self.path:
            stamp = fmt.utc_stamp(self.app.clock())
            self.path = str(Path.home() / f"selfcarry-backup-{stamp}.scb")
        yield TitleBar(self.t(self.TITLE_KEY))
        with VerticalScroll(classes="form"):
            if self.done is not None:
                yield Static(self.t("backup.done", path=str(self.done)), classes="success")
            yield Static(self.t("backup.intro"), classes="intro")
            yield Label(self.t("backup.path"))
            yield Input(self.path, id="path")
            yield Label(self.t("backup.passphrase"))
            yield Input(self.passphrase, id="passphrase", password=True)
            yield Label(self.t("backup.confirm"))
            yield Input(self.confirm, id="confirm", password=True)
            yield ErrorLine()
            yield Busy()
            with Horizontal(classes="buttons"):
                yield Button(self.t("backup.create"), id="create", variant="primary", compact=True)
                yield Button(self.t("common.back"), id="back", compact=True)
        yield KeyBar()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        if event.input.id in ("path", "passphrase", "confirm"):
            setattr(self, event.input.id, event.value)
            self.clear_error()

    @on(Input.Submitted)
    @on(Button.Pressed, "#create")
    def action_submit(self) -> None:
        self.clear_error()
        if len(self.passphrase) < MIN_LENGTH:
            self.show_error(self.t("first_run.too_short", n=MIN_LENGTH))
            return
        if self.passphrase != self.confirm:
            self.show_error(self.t("first_run.mismatch"))
            return
        path = Path(self.path.strip()).expanduser()
        if path.exists():
            self.show_error(self.t("dialog.path_exists"))
            return
        self.run_worker(self._backup(path), exclusive=True, group="backup")

    async def _backup(self, path: Path) -> None:
        result = await self.call(self.wallet.backup, path, self.passphrase,
                                 busy=self.t("backup.working"))
        if isinstance(result, Failed):
            return
        self.passphrase = self.confirm = ""
        self.done = path
        await self.redraw()

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        self.dismiss()


class RestoreScreen(WalletScreen):
    TITLE_KEY = "restore.title"
    HELP_KEY = "help.restore"
    AUTO_FOCUS = "#path"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "key.restore_now"),
        Binding("escape", "back", "key.back"),
    ]

    FIELDS = ("path", "backup_passphrase", "passphrase", "confirm")

    def __init__(self) -> None:
        super().__init__()
        self.path = ""
        self.backup_passphrase = ""
        self.passphrase = ""
        self.confirm = ""

    def compose(self) -> ComposeResult:
        yield TitleBar(self.t(self.TITLE_KEY))
        with VerticalScroll(classes="form"):
            yield Static(self.t("restore.intro"), classes="intro")
            yield Label(self.t("restore.path"))
            yield Input(self.path, id="path")
            yield Label(self.t("restore.backup_passphrase"))
            yield Input(self.backup_passphrase, id="backup_passphrase", password=True)
            yield Label(self.t("restore.passphrase"))
            yield Input(self.passphrase, id="passphrase", password=True)
            yield Label(self.t("restore.confirm"))
            yield Input(self.confirm, id="confirm", password=True)
            yield ErrorLine()
            yield Busy()
            with Horizontal(classes="buttons"):
                yield Button(self.t("restore.restore"), id="restore", variant="primary",
                             compact=True)
                yield Button(self.t("common.back"), id="back", compact=True)
        yield KeyBar()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        if event.input.id in self.FIELDS:
            setattr(self, event.input.id, event.value)
            self.clear_error()

    @on(Input.Submitted)
    @on(Button.Pressed, "#restore")
    def action_submit(self) -> None:
        self.clear_error()
        path = Path(self.path.strip()).expanduser()
        if not path.is_file():
            self.show_error(self.t("dialog.path_missing"))
            return
        if not self.backup_passphrase:
            self.show_error(self.t("unlock.empty"))
            return
        if len(self.passphrase) < MIN_LENGTH:
            self.show_error(self.t("first_run.too_short", n=MIN_LENGTH))
            return
        if self.passphrase != self.confirm:
            self.show_error(self.t("first_run.mismatch"))
            return
        self.run_worker(self._restore(path), exclusive=True, group="restore")

    async def _restore(self, path: Path) -> None:
        from ...api import Wallet

        wallet = await self.call(Wallet.restore, path, self.app.home, self.backup_passphrase,
                                 self.passphrase, busy=self.t("restore.working"))
        if isinstance(wallet, Failed):
            return
        self.backup_passphrase = self.passphrase = self.confirm = ""
        self.app.opened(wallet)

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        self.dismiss()
