""""The bank will see exactly this": the claims as the bank will reconstruct them, how
they travel, and the final Approve or Decline."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, RadioButton, RadioSet, Static, Tree
from textual.widgets.tree import TreeNode

from ...model import Preview, RequestReview
from .. import format as fmt
from ..widgets.keybar import KeyBar
from ..widgets.status import Busy, ErrorLine
from ..widgets.title_bar import TitleBar
from .base import WalletScreen
from .review import decline

DELIVERY_METHODS = ("http", "qr")


class PreviewScreen(WalletScreen):
    TITLE_KEY = "preview.title"
    HELP_KEY = "help.preview"
    AUTO_FOCUS = "#approve"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "approve", "key.approve"),
        Binding("d", "decline", "key.decline"),
        Binding("m", "method", "key.method"),
        Binding("escape", "back", "key.back"),
    ]

    def __init__(self, review: RequestReview, preview: Preview, optional: list[str],
                 *, fixed: bool = False) -> None:
        super().__init__()
        self.review = review
        self.preview = preview
        self.optional = list(optional)
        self.method = "http"
        self._fixed = fixed

    def compose(self) -> ComposeResult:
        r, p = self.review, self.preview
        bank = r.bank_name or fmt.host(r.client_id)
        yield TitleBar(self.t(self.TITLE_KEY))
        with Vertical(id="body"):
            yield Static(self.t("preview.headline", bank=bank), id="headline",
                         classes="heading")
            yield Static(self.t("preview.summary", n=len(p.paths),
                                size=fmt.size(p.presentation_bytes, self.app.tr)),
                         id="sizes", classes="dim")
            yield self._tree()
            with Horizontal(id="method-row"):
                yield Static(self.t("preview.method"), classes="label")
                with RadioSet(id="method"):
                    yield RadioButton(self.t("preview.by_http", host=fmt.host(r.response_uri)),
                                      value=self.method == "http")
                    yield RadioButton(self.t("preview.by_qr"), value=self.method == "qr")
            yield ErrorLine()
            yield Busy()
            with Horizontal(classes="buttons"):
                yield Button(self.t("preview.approve"), id="approve", variant="success",
                             compact=True)
                yield Button(self.t("review.decline"), id="decline", variant="error", compact=True)
                yield Button(self.t("common.back"), id="back", compact=True)
        yield KeyBar()

    def _tree(self) -> Tree[Any]:
        """What the resident chose first; the frame every presentation carries, folded."""
        tree: Tree[Any] = Tree(self.t("preview.root"), id="disclosed")
        tree.show_root = False
        tree.guide_depth = 2
        disclosed = self.preview.disclosed
        ld: dict[str, Any] = disclosed["ld"] if isinstance(disclosed.get("ld"), dict) else {}
        subject: dict[str, Any] = (ld["credentialSubject"]
                                   if isinstance(ld.get("credentialSubject"), dict) else {})
        empty_groups: list[tuple[str, Any]] = []
        for key, value in subject.items():
            if isinstance(value, dict | list) and not value:
                empty_groups.append((key, value))
            else:
                self._item(tree.root, ("ld", "credentialSubject", key), value)
        frame = tree.root.add(Text(self.t("preview.frame"), style="bold"), expand=False)
        for key, value in disclosed.items():
            if key != "ld":
                self._item(frame, (key,), value)
        for key, value in ld.items():
            if key != "credentialSubject":
                self._item(frame, ("ld", key), value)
        for key, value in empty_groups:
            self._item(frame, ("ld", "credentialSubject", key), value)
        return tree

    def _item(self, parent: TreeNode[Any], path: tuple[str | int, ...], value: Any) -> None:
        label = self.app.tr.claim_label(path)
        if isinstance(value, dict | list) and value:
            node = parent.add(Text(label, style="bold"), expand=_expanded(path))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, child in items:
                self._item(node, (*path, key), child)
            return
        text = Text(label)
        text.append(self.t("common.colon"), style="dim")
        text.append(self.t("preview.empty_value") if value in ([], {})
                    else fmt.claim(path, value, self.app.tr))
        parent.add_leaf(text)

    @on(RadioSet.Changed, "#method")
    def _method_changed(self, event: RadioSet.Changed) -> None:
        self.method = DELIVERY_METHODS[event.index]

    def action_method(self) -> None:
        self.method = "qr" if self.method == "http" else "http"
        radios = self.query_one("#method", RadioSet)
        buttons = list(radios.query(RadioButton))
        buttons[DELIVERY_METHODS.index(self.method)].value = True

    @on(Button.Pressed, "#approve")
    def action_approve(self) -> None:
        if self._fixed:
            return
        if self.review.authenticated:
            self._deliver(confirm_unauthenticated=False)
            return
        from .dialogs import ConfirmDialog

        def answered(yes: bool | None) -> None:
            if yes:
                self._deliver(confirm_unauthenticated=True)

        bank = self.review.bank_name or fmt.host(self.review.client_id)
        self.app.push_screen(ConfirmDialog(self.t("preview.confirm_unauthenticated", bank=bank),
                                           yes=self.t("preview.send_anyway"),
                                           no=self.t("common.cancel")), answered)

    def _deliver(self, *, confirm_unauthenticated: bool) -> None:
        from .delivery import DeliveryScreen

        self.app.push_screen(DeliveryScreen(
            self.review, self.preview.credential_id, self.optional, method=self.method,
            confirm_unauthenticated=confirm_unauthenticated))

    @on(Button.Pressed, "#decline")
    def action_decline(self) -> None:
        if not self._fixed:
            self.run_worker(decline(self, self.review), exclusive=True, group="decline")

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        self.dismiss()


def _expanded(path: tuple[str | int, ...]) -> bool:
    """Open what the resident chose to show; fold the technical frame (keys, status)."""
    return not (path and path[0] in ("cnf", "status")) and path != ("ld", "@context")
