"""Open a bank's request: paste its openid4vp:// URI, or choose a request file or QR image."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from ..widgets.keybar import KeyBar
from ..widgets.status import Busy, ErrorLine
from ..widgets.title_bar import TitleBar
from .base import Failed, WalletScreen

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"})
MAX_SOURCE_CHARS = 65_536


def is_image(source: str) -> bool:
    text = source.strip()
    if "\n" in text or len(text) > 4096:
        return False
    path = Path(text).expanduser()
    return path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()


class OpenRequestScreen(WalletScreen):
    TITLE_KEY = "open_request.title"
    HELP_KEY = "help.open_request"
    AUTO_FOCUS = "#source"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "key.open"),
        Binding("ctrl+o", "choose_file", "key.choose_file"),
        Binding("escape", "back", "key.back"),
    ]

    def __init__(self, source: str = "", *, submit: bool = False) -> None:
        super().__init__()
        self.source = source
        self._submit_on_mount = submit

    def compose(self) -> ComposeResult:
        yield TitleBar(self.t(self.TITLE_KEY))
        with VerticalScroll(classes="form"):
            yield Static(self.t("open_request.intro"), classes="intro")
            yield Label(self.t("open_request.source"))
            yield Input(self.source, id="source", placeholder="openid4vp://…",
                        max_length=MAX_SOURCE_CHARS)
            yield ErrorLine()
            yield Busy()
            with Horizontal(classes="buttons"):
                yield Button(self.t("open_request.open"), id="open", variant="primary",
                             compact=True)
                yield Button(self.t("open_request.choose_file"), id="choose", compact=True)
                yield Button(self.t("common.back"), id="back", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        if self._submit_on_mount:
            self._submit_on_mount = False
            self.action_submit()

    @on(Input.Changed, "#source")
    def _changed(self, event: Input.Changed) -> None:
        if event.value != self.source:
            self.source = event.value
            self.clear_error()

    @on(Input.Submitted, "#source")
    @on(Button.Pressed, "#open")
    def action_submit(self) -> None:
        self.clear_error()
        source = self.source.strip()
        if not source:
            self.show_error(self.t("open_request.empty"))
            return
        self.run_worker(self._open(source), exclusive=True, group="open")

    async def _open(self, source: str) -> None:
        busy = self.t("open_request.opening")
        if is_image(source):
            review = await self.call(self.wallet.open_request_qr,
                                     str(Path(source).expanduser()), busy=busy)
        else:
            review = await self.call(self.wallet.open_request, source, busy=busy)
        if isinstance(review, Failed):
            return
        from .review import ReviewScreen

        self.app.switch_screen(ReviewScreen(review))

    @on(Button.Pressed, "#choose")
    def action_choose_file(self) -> None:
        from .file_picker import FilePickerScreen

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.source = str(path)
                self.run_worker(self.redraw(), group="redraw")
                self.action_submit()

        self.app.push_screen(FilePickerScreen(Path.cwd()), chosen)

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        self.dismiss()
