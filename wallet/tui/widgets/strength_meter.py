"""How strong a new passphrase looks, as a bar and a word."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ..i18n import Translator
from ..strength import LEVELS, level

_STYLES = ("#b00020", "#b00020", "#d35400", "#b7950b", "#1e8449", "#145a32")
_WIDTH = 20


class StrengthMeter(Static):
    DEFAULT_CSS = """
    StrengthMeter { height: 1; padding: 0 1; }
    """

    def __init__(self, tr: Translator, passphrase: str = "", *, id: str | None = None) -> None:
        self.tr = tr
        super().__init__(self._text(passphrase), id=id)

    def _text(self, passphrase: str) -> Text:
        n = level(passphrase) if passphrase else 0
        filled = (_WIDTH * n) // (len(LEVELS) - 1)
        text = Text()
        text.append(self.tr("first_run.strength") + " ")
        text.append("█" * filled, style=_STYLES[n])
        text.append("░" * (_WIDTH - filled), style="dim")
        text.append(" " + (self.tr(f"strength.{LEVELS[n]}") if passphrase else ""),
                    style=_STYLES[n])
        return text

    def show(self, passphrase: str) -> None:
        self.update(self._text(passphrase))
