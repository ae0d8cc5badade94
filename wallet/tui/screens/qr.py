"""The presentation as QR: one code when it fits the terminal, otherwise fountain frames
looping a few times a second (any k-ish of them decode, in any order). Saves PNG or SVG."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Vertical
from textual.events import Resize
from textual.widgets import Static

from vc.qr import (
    DEFAULT_FRAGMENT,
    encode_presentation,
    fits_terminal,
    presentation_codes,
    qr_version,
    render_png,
    render_svg,
)
from vc.qr.fountain import MIN_FRAGMENT

from ..widgets.keybar import KeyBar
from ..widgets.qr_view import QUIET_ZONE, QRView
from ..widgets.status import ErrorLine
from .base import WalletScreen

CHROME_ROWS = 4  # the line above the code, the line below it, and the key bar


def largest_version(cols: int, rows: int) -> int:
    """The largest QR version whose half-block drawing fits ``cols`` × ``rows``."""
    best = 0
    for v in range(1, 41):
        side = 4 * v + 17 + 2 * QUIET_ZONE
        if side <= cols and (side + 1) // 2 <= rows:
            best = v
    return best


def codes_for(text: str, cols: int, rows: int) -> list[bytes]:
    """One code if the container fits, else the largest fountain frames that do ([] if none)."""
    container = encode_presentation(text)
    if fits_terminal(container, cols, rows, border=QUIET_ZONE):
        return [container]
    version = largest_version(cols, rows)
    if version < 1:
        return []
    lo, hi, best = MIN_FRAGMENT, DEFAULT_FRAGMENT, None
    while lo <= hi:
        mid = (lo + hi) // 2
        frames = presentation_codes(text, max_version=0, max_fragment=mid)
        if max(qr_version(f) for f in frames[:2]) <= version:
            best, lo = frames, mid + 1
        else:
            hi = mid - 1
    return best or []


class QRScreen(WalletScreen):
    TITLE_KEY = "qr.title"
    HELP_KEY = "help.qr"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "pause", "key.pause"),
        Binding("s", "save_png", "key.save_png"),
        Binding("v", "save_svg", "key.save_svg"),
        Binding("escape", "done", "key.done"),
    ]

    def __init__(self, presentation: str, *, bank: str = "", fps: float = 4.0) -> None:
        super().__init__()
        self.presentation = presentation
        self.bank = bank
        self.fps = fps
        self.codes: list[bytes] = []
        self._area: tuple[int, int] | None = None
        self._fitted = False
        self.saved: list[Path] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="qr-body"):
            if self.codes:
                key = "qr.static" if len(self.codes) == 1 else "qr.animated"
                yield Static(self.t(key, bank=self.bank, n=len(self.codes)), id="qr-note",
                             classes="heading")
                with Center():
                    yield QRView(self.codes, fps=self.fps, id="code")
                yield Static("", id="qr-frame", classes="dim")
            elif self._area is not None:
                yield Static(self.t("qr.too_small"), id="qr-small", classes="intro")
            yield ErrorLine()
        yield KeyBar()

    def on_mount(self) -> None:
        self._fit(self.app.size.width, self.app.size.height)

    def on_resize(self, event: Resize) -> None:
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        area = (width - 2, height - CHROME_ROWS)
        if area == self._area:
            return
        self._area = area
        first = not self._fitted
        codes = codes_for(self.presentation, *area)
        if codes != self.codes or first:
            self.codes = codes
            self.run_worker(self._redraw(), group="redraw", exclusive=True)
        self._fitted = True

    async def _redraw(self) -> None:
        await self.redraw()
        self._show_frame()
        view = self.view
        if view is not None:
            self.watch(view, "frame", lambda _value: self._show_frame(), init=False)
            self.watch(view, "playing", lambda _value: self._show_frame(), init=False)

    @property
    def view(self) -> QRView | None:
        return next(iter(self.query("#code").results(QRView)), None)

    def _show_frame(self) -> None:
        view = self.view
        if view is None or not view.animated:
            return
        state = "" if view.playing else "  " + self.t("qr.paused")
        self.query_one("#qr-frame", Static).update(
            self.t("qr.frame", i=view.frame + 1, n=len(view.codes)) + state)

    def action_pause(self) -> None:
        view = self.view
        if view is not None:
            view.toggle()

    def action_save_png(self) -> None:
        self._save("png")

    def action_save_svg(self) -> None:
        self._save("svg")

    def _save(self, kind: str) -> None:
        from .dialogs import PathDialog

        codes = self.codes or [encode_presentation(self.presentation)]

        def chosen(path: Path | None) -> None:
            if path is None:
                return
            try:
                written = write_codes(codes, path, kind)
            except OSError as exc:
                self.show_error(self.t("error.io", detail=exc.strerror or str(exc)))
                return
            self.saved = written
            self.app.notify(self.t("qr.saved", n=len(written), path=str(written[0])))

        default = Path.home() / f"selfcarry-presentation.{kind}"
        self.app.push_screen(PathDialog(self.t("qr.save_prompt"), str(default)), chosen)

    def action_done(self) -> None:
        self.app.go_home()


def write_codes(codes: list[bytes], path: Path, kind: str) -> list[Path]:
    """Write one file per code: ``path`` itself, or ``stem-01.ext``… for a frame sequence."""
    targets = [path] if len(codes) == 1 else [
        path.with_name(f"{path.stem}-{i:02d}{path.suffix or '.' + kind}")
        for i in range(1, len(codes) + 1)]
    for code, target in zip(codes, targets, strict=True):
        if kind == "png":
            target.write_bytes(render_png(code))
        else:
            target.write_text(render_svg(code), encoding="utf-8")
    return targets
