"""Settings: language (applied at once), auto-lock, backup, passphrase, restore."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, RadioButton, RadioSet, Select, Static

from ..i18n import LANGUAGE_NAMES, LANGUAGES
from ..widgets.keybar import KeyBar
from ..widgets.status import ErrorLine
from ..widgets.title_bar import TitleBar
from .base import Failed, WalletScreen

AUTO_LOCK_CHOICES = (60, 120, 300, 600, 900, 1800, 3600)


class SettingsScreen(WalletScreen):
    TITLE_KEY = "settings.title"
    HELP_KEY = "help.settings"
    AUTO_FOCUS = "#language"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "backup", "key.backup"),
        Binding("c", "change_passphrase", "key.change_passphrase"),
        Binding("escape", "back", "key.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.note = ""

    def compose(self) -> ComposeResult:
        seconds = self.app.auto_lock_seconds
        choices = sorted({*AUTO_LOCK_CHOICES, seconds})
        yield TitleBar(self.t(self.TITLE_KEY))
        with VerticalScroll(id="body", classes="form"):
            if self.note:
                yield Static(self.note, classes="success")
            yield Static(self.t("settings.language"), classes="heading")
            with RadioSet(id="language"):
                for lang in LANGUAGES:
                    yield RadioButton(LANGUAGE_NAMES[lang], value=lang == self.app.tr.language)
            yield Static(self.t("settings.auto_lock"), classes="heading")
            yield Select([(self._duration(s), s) for s in choices], value=seconds,
                         allow_blank=False, id="auto-lock")
            yield Static(self.t("settings.backup_heading"), classes="heading")
            yield Static(self.t("settings.backup_note"), classes="dim")
            yield Static(self.t("settings.restore_note"), classes="dim")
            yield ErrorLine()
            with Horizontal(classes="buttons"):
                yield Button(self.t("settings.backup"), id="backup", variant="primary",
                             compact=True)
                yield Button(self.t("settings.change_passphrase"), id="change", compact=True)
                yield Button(self.t("common.back"), id="back", compact=True)
        yield KeyBar()

    def _duration(self, seconds: int) -> str:
        if seconds % 60 == 0:
            return self.t("settings.minutes", n=seconds // 60)
        return self.t("settings.seconds", n=seconds)

    @on(RadioSet.Changed, "#language")
    async def _language(self, event: RadioSet.Changed) -> None:
        language = LANGUAGES[event.index]
        if language != self.app.tr.language:
            await self.app.set_language(language)

    @on(Select.Changed, "#auto-lock")
    def _auto_lock(self, event: Select.Changed) -> None:
        value = event.value
        if not isinstance(value, int) or value == self.app.auto_lock_seconds:
            return
        result = self.guarded(self.wallet.set_setting, "auto_lock_seconds", value)
        if not isinstance(result, Failed):
            self.app.auto_lock_seconds = value

    @on(Button.Pressed, "#backup")
    def action_backup(self) -> None:
        from .backup import BackupScreen

        self.app.push_screen(BackupScreen())

    @on(Button.Pressed, "#change")
    def action_change_passphrase(self) -> None:
        from .passphrase import ChangePassphraseScreen

        self.app.push_screen(ChangePassphraseScreen())

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        self.dismiss()
