"""Inline feedback: an error line (always words, never a traceback) and a busy line."""

from __future__ import annotations

from textual.timer import Timer
from textual.widgets import Static


class ErrorLine(Static):
    """A sentence saying what went wrong; hidden while there is nothing to say."""

    DEFAULT_CSS = """
    ErrorLine { color: $error; height: auto; display: none; padding: 0 1; }
    ErrorLine.-shown { display: block; }
    """

    def __init__(self, *, id: str = "error") -> None:
        super().__init__("", id=id, markup=False)

    def show(self, text: str) -> None:
        self.update(text)
        self.add_class("-shown")

    def clear(self) -> None:
        self.update("")
        self.remove_class("-shown")


class Busy(Static):
    """A spinner and what the wallet is doing, while a network or crypto call runs.

    The spinner's timer runs only while shown: an idle screen costs nothing."""

    DEFAULT_CSS = """
    Busy { height: auto; display: none; padding: 0 1; color: $accent; }
    Busy.-shown { display: block; }
    """
    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self) -> None:
        super().__init__("", markup=False)
        self._text = ""
        self._step = 0
        self._timer: Timer | None = None

    def start(self, text: str) -> None:
        self._text = text
        self._step = 0
        self._draw()
        self.add_class("-shown")
        if self._timer is None:
            self._timer = self.set_interval(1 / 8, self._spin)

    def _spin(self) -> None:
        self._step += 1
        self._draw()

    def _draw(self) -> None:
        self.update(f"{self.FRAMES[self._step % len(self.FRAMES)]} {self._text}")

    def stop(self) -> None:
        self.remove_class("-shown")
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
