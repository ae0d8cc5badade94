"""Help: what this screen is for, and every key that works on it."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Static

from ..widgets.keybar import KeyBar, ordered_bindings
from .base import WalletModal

# Keys every Textual widget understands; listed so the help is complete.
GENERAL_KEYS = (
    ("Tab / Shift+Tab", "help.key_tab"),
    ("↑ ↓ ← →", "help.key_arrows"),
    ("Enter", "help.key_enter"),
    ("Space", "help.key_space"),
)


class HelpScreen(WalletModal):
    TITLE_KEY = "help.title"
    HELP_KEY = "help.help"
    AUTO_FOCUS = "#close"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "key.close"),
        Binding("f1", "close", "key.close", show=False),
    ]

    def __init__(self, about: Screen[Any]) -> None:
        super().__init__()
        self.about = about

    def compose(self) -> ComposeResult:
        title_key = getattr(self.about, "TITLE_KEY", "")
        help_key = getattr(self.about, "HELP_KEY", "")
        with Vertical(classes="dialog tall", id="help"):
            yield Static(self.t("help.title_for", screen=self.t(title_key) if title_key
                                else self.t("help.title")), classes="heading")
            with VerticalScroll():
                if help_key:
                    yield Static(self.t(help_key), id="about", classes="intro")
                yield Static(self._keys(), id="keys")
                yield Static(self.t("help.mouse"), classes="dim")
            yield Button(self.t("common.close"), id="close", variant="primary", compact=True)
        yield KeyBar()

    def _keys(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        shown = {b.action for _n, b, _e in ordered_bindings(self.about)}
        for _node, binding, _enabled in ordered_bindings(self.about):
            table.add_row(self.app.get_key_display(binding), self.t(binding.description))
        for binding in self.app.BINDINGS:
            if isinstance(binding, Binding) and binding.action not in shown:
                table.add_row(self.app.get_key_display(binding), self.t(binding.description))
        for keys, desc_key in GENERAL_KEYS:
            table.add_row(Text(keys), self.t(desc_key))
        return table

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)
