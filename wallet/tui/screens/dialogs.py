"""Small dialogs: a yes/no question, a message, and a file path."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from ..widgets.keybar import KeyBar
from ..widgets.status import ErrorLine
from .base import WalletModal


class ConfirmDialog(WalletModal):
    """Asks once, plainly; the safe answer is the default."""

    TITLE_KEY = "dialog.confirm_title"
    HELP_KEY = "help.dialog"
    AUTO_FOCUS = "#no"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "no", "key.cancel"),
    ]

    def __init__(self, question: str, *, yes: str | None = None, no: str | None = None,
                 danger: bool = True) -> None:
        super().__init__()
        self.question = question
        self.yes = yes
        self.no = no
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="question", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(self.yes or self.t("common.yes"), id="yes",
                             variant="error" if self.danger else "primary", compact=True)
                yield Button(self.no or self.t("common.no"), id="no", compact=True)
        yield KeyBar()

    @on(Button.Pressed, "#yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def action_no(self) -> None:
        self.dismiss(False)


class MessageDialog(WalletModal):
    """A sentence the resident must see (an error no screen could show in place)."""

    TITLE_KEY = "dialog.message_title"
    HELP_KEY = "help.dialog"
    AUTO_FOCUS = "#ok"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "ok", "key.close"),
    ]

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.message, classes="question", markup=False)
            yield Button(self.t("common.ok"), id="ok", variant="primary", compact=True)
        yield KeyBar()

    @on(Button.Pressed, "#ok")
    def action_ok(self) -> None:
        self.dismiss(None)


class PathDialog(WalletModal):
    """Where to save (or what to read): a path, with a sensible default."""

    TITLE_KEY = "dialog.path_title"
    HELP_KEY = "help.dialog"
    AUTO_FOCUS = "#path"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "key.cancel"),
    ]

    def __init__(self, prompt: str, default: str, *, must_exist: bool = False,
                 overwrite: bool = False) -> None:
        super().__init__()
        self.prompt = prompt
        self.path = default
        self.must_exist = must_exist
        self.overwrite = overwrite

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.prompt)
            yield Input(self.path, id="path")
            yield ErrorLine()
            with Horizontal(classes="buttons"):
                yield Button(self.t("common.ok"), id="ok", variant="primary", compact=True)
                yield Button(self.t("common.cancel"), id="cancel", compact=True)
        yield KeyBar()

    @on(Input.Changed, "#path")
    def _changed(self, event: Input.Changed) -> None:
        self.path = event.value
        self.clear_error()

    @on(Input.Submitted, "#path")
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        raw = self.path.strip()
        if not raw:
            self.show_error(self.t("dialog.path_empty"))
            return
        path = Path(raw).expanduser()
        if self.must_exist and not path.is_file():
            self.show_error(self.t("dialog.path_missing"))
            return
        if not self.must_exist and not self.overwrite and path.exists():
            self.show_error(self.t("dialog.path_exists"))
            return
        if not self.must_exist and not path.parent.is_dir():
            self.show_error(self.t("dialog.path_no_folder"))
            return
        self.dismiss(path)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
