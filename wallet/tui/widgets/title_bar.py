"""The one-line header: app name and the current screen's title (no clock: calm, and
deterministic for snapshots)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class TitleBar(Static):
    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        height: 1;
        padding: 0 1;
        background: $primary;
        color: $text;
        text-style: bold;
    }
    """

    def __init__(self, title: str) -> None:
        text = Text.assemble(("selfcarry", "bold"), ("  ·  ", "dim"), (title, ""))
        super().__init__(text)
