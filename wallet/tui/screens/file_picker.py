"""Choose a file from the disk: a request file or a photo of the bank's QR code."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DirectoryTree, Static

from ..widgets.keybar import KeyBar
from .base import WalletModal


class FilePickerScreen(WalletModal):
    TITLE_KEY = "file_picker.title"
    HELP_KEY = "help.file_picker"
    AUTO_FOCUS = "#files"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("backspace", "up", "key.parent_folder"),
        Binding("escape", "cancel", "key.cancel"),
    ]

    def __init__(self, start: Path) -> None:
        super().__init__()
        self.folder = start

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog tall"):
            yield Static(self.t("file_picker.intro"), classes="intro")
            yield Static(str(self.folder), id="folder", markup=False, classes="dim")
            yield DirectoryTree(self.folder, id="files")
        yield KeyBar()

    @on(DirectoryTree.FileSelected)
    def _selected(self, event: DirectoryTree.FileSelected) -> None:
        self.dismiss(Path(event.path))

    def action_up(self) -> None:
        parent = self.folder.parent
        if parent != self.folder:
            self.folder = parent
            self.run_worker(self.redraw(), group="redraw")

    def action_cancel(self) -> None:
        self.dismiss(None)
