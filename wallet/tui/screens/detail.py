"""One credential: its report as a readable tree (score and grade first), what can be
disclosed on its own, and its provenance on the registry."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from ...model import ClaimNode, CredentialDetail
from .. import format as fmt
from ..widgets.badges import badges
from ..widgets.keybar import KeyBar
from ..widgets.status import Busy, ErrorLine
from ..widgets.title_bar import TitleBar
from .base import Failed, WalletScreen

DISCLOSABLE_MARK = "◆"
BOUND_MARK = "·"


def claim_tree_label(node: ClaimNode, label: str, value: str | None, colon: str) -> Text:
    text = Text()
    text.append(DISCLOSABLE_MARK if node.disclosable else BOUND_MARK,
                style="bold #1e8449" if node.disclosable else "dim")
    text.append(" " + label, style="bold" if value is None else "")
    if value is not None:
        text.append(colon, style="dim")
        text.append(value)
    return text


class DetailScreen(WalletScreen):
    TITLE_KEY = "detail.title"
    HELP_KEY = "help.detail"
    AUTO_FOCUS = "#claims"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "refresh", "key.refresh"),
        Binding("e", "expand", "key.expand"),
        Binding("delete", "delete", "key.delete"),
        Binding("escape", "back", "key.back"),
    ]

    def __init__(self, credential_id: str, *, detail: CredentialDetail | None = None,
                 received: bool = False) -> None:
        super().__init__()
        self.credential_id = credential_id
        self.detail = detail
        self._fixed = detail is not None
        self.received = received
        self.expanded = False

    def on_mount(self) -> None:
        if self.detail is None:
            result = self.guarded(self.wallet.credential, self.credential_id)
            if not isinstance(result, Failed):
                self.detail = result
                self.run_worker(self.redraw(), group="redraw")

    def compose(self) -> ComposeResult:
        yield TitleBar(self.t(self.TITLE_KEY))
        with Vertical(id="body"):
            if self.received:
                yield Static(self.t("detail.received"), classes="success")
            if self.detail is not None:
                yield Static(self._summary_text(), id="summary")
                yield Static(self._provenance_text(), id="provenance")
                yield Static(self.t("detail.legend", mark=DISCLOSABLE_MARK, bound=BOUND_MARK),
                             id="legend", classes="dim")
                yield self._tree()
            yield Busy()
            yield ErrorLine()
        yield KeyBar()

    def _summary_text(self) -> Text:
        assert self.detail is not None
        s = self.detail.summary
        text = Text()
        text.append(s.issuer_name, style="bold")
        text.append("  " + self.t("detail.dates", issued=fmt.date(s.issued_at),
                                  expires=fmt.date(s.expires_at)) + "\n")
        text.append_text(badges(s, self.app.tr, self.app.clock()))
        if s.status_checked_at:
            text.append("  " + self.t("detail.status_checked",
                                      when=fmt.date_time(s.status_checked_at)), style="dim")
        return text

    def _provenance_text(self) -> Text:
        assert self.detail is not None
        p = self.detail.summary.provenance
        text = Text()
        if p is None:
            text.append(self.t("detail.no_provenance"), style="italic")
            return text
        text.append(self.t("detail.provenance", registry=p.registry, index=p.index,
                           size=p.checkpoint_size))
        text.append("\n" + self.t("detail.cosigned_by",
                                  names=", ".join(p.cosigners) if p.cosigners
                                  else self.t("detail.no_cosigners")))
        return text

    def _tree(self) -> Tree[ClaimNode]:
        assert self.detail is not None
        tree: Tree[ClaimNode] = Tree(self.t("detail.report"), id="claims")
        tree.show_root = False
        parents: dict[tuple[str | int, ...], TreeNode[ClaimNode]] = {(): tree.root}
        containers = {n.path[:-1] for n in self.detail.claims}
        for node in sorted(self.detail.claims, key=_display_order):
            parent = parents.get(node.path[:-1], tree.root)
            label = self.app.tr.claim_label(node.path)
            value = None if node.path in containers else fmt.claim(node.path, node.value,
                                                                   self.app.tr)
            text = claim_tree_label(node, label, value, self.t("common.colon"))
            if value is None:
                branch = parent.add(text, data=node,
                                    expand=self.expanded or _open_by_default(node))
                parents[node.path] = branch
            else:
                parent.add_leaf(text, data=node)
        return tree

    def action_expand(self) -> None:
        self.expanded = not self.expanded
        tree = self.query_one("#claims", Tree)
        if self.expanded:
            tree.root.expand_all()
        else:
            tree.root.collapse_all()
            tree.root.expand()
            for child in tree.root.children:
                if child.data is not None and _open_by_default(child.data):
                    child.expand()

    def action_refresh(self) -> None:
        if not self._fixed:
            self.clear_error()
            self.run_worker(self._refresh(), exclusive=True, group="status")

    async def _refresh(self) -> None:
        result = await self.call(self.wallet.refresh_status, self.credential_id,
                                 busy=self.t("detail.checking"))
        if isinstance(result, Failed):
            return
        detail = self.guarded(self.wallet.credential, self.credential_id)
        if not isinstance(detail, Failed):
            self.detail = detail
            await self.redraw()

    def action_delete(self) -> None:
        from .dialogs import ConfirmDialog

        def done(confirmed: bool | None) -> None:
            if confirmed and not self._fixed:
                result = self.guarded(self.wallet.delete_credential, self.credential_id)
                if not isinstance(result, Failed):
                    self.dismiss()

        self.app.push_screen(ConfirmDialog(self.t("detail.delete_confirm"),
                                           yes=self.t("detail.delete_yes")), done)

    def action_back(self) -> None:
        self.dismiss()


SCORE = ("ld", "credentialSubject", "score")
SCORE_FIRST = ("value", "grade")


def _display_order(node: ClaimNode) -> tuple[int, int]:
    """Score and grade first, then the report, then the credential's technical frame.

    (A stable sort: document order within each band.)"""
    path = node.path
    if path[:3] == SCORE:
        if len(path) == 3:
            return 0, -1  # the group itself, before its members
        return 0, SCORE_FIRST.index(path[3]) if path[3] in SCORE_FIRST else 2
    if path[:1] == ("ld",):
        return 1, 0
    return 2, 0


def _open_by_default(node: ClaimNode) -> bool:
    """The ld frame, the subject, the score and the assessment open; the rest on demand."""
    path = node.path
    return path in (("ld",), ("ld", "credentialSubject"),
                    ("ld", "credentialSubject", "score"),
                    ("ld", "credentialSubject", "assessment"))
