"""A QR code drawn with Unicode half-blocks, dark on light; several codes loop as an animation."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.reactive import reactive
from textual.timer import Timer
from textual.widget import Widget

from vc.qr import render_terminal

# docs/qr.md §2: the glyph is the dark part, so the text must be dark on light.
QR_STYLE = "#000000 on #ffffff"
QUIET_ZONE = 2
DEFAULT_FPS = 4.0


class QRView(Widget):
    DEFAULT_CSS = """
    QRView { width: auto; height: auto; }
    """

    frame: reactive[int] = reactive(0)
    playing: reactive[bool] = reactive(True)

    def __init__(self, codes: Sequence[bytes | str], *, fps: float = DEFAULT_FPS,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        if not codes:
            raise ValueError("no code to show")
        self.codes = list(codes)
        self.fps = fps
        self._lines = [render_terminal(c, border=QUIET_ZONE).split("\n") for c in self.codes]
        self._timer: Timer | None = None

    @property
    def animated(self) -> bool:
        return len(self.codes) > 1

    def on_mount(self) -> None:
        if self.animated:
            self._timer = self.set_interval(1 / self.fps, self.advance)

    def advance(self) -> None:
        if self.playing:
            self.frame = (self.frame + 1) % len(self.codes)

    def toggle(self) -> None:
        """Pause or resume the animation (space, or a click on the code)."""
        if self.animated:
            self.playing = not self.playing

    def on_click(self) -> None:
        self.toggle()

    def get_content_width(self, container: object, viewport: object) -> int:
        return len(self._lines[0][0])

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return len(self._lines[0])

    def frame_text(self, index: int | None = None) -> str:
        """The half-block text of a frame (the current one by default)."""
        return "\n".join(self._lines[self.frame if index is None else index])

    def render(self) -> Text:
        return Text(self.frame_text(), style=QR_STYLE, no_wrap=True, overflow="crop")
