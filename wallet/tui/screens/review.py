"""Request review and consent: who asks, why, for what, with which values — and the
resident's choice of the optional claims. Nothing leaves the wallet from this screen."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, RadioButton, RadioSet, Static

from ...model import Candidate, ClaimChoice, RequestReview
from ...model import Warning as ReviewWarning
from .. import format as fmt
from ..widgets.keybar import KeyBar
from ..widgets.status import Busy, ErrorLine
from ..widgets.title_bar import TitleBar
from .base import Failed, WalletScreen

WARN_MARK = "⚠"


def warning_text(w: ReviewWarning, screen: WalletScreen) -> str:
    """A review warning in the resident's language (by code; the API's sentence otherwise)."""
    tr = screen.app.tr
    params = dict(w.params)
    if w.code == "over_request":
        paths = params.get("paths") or []
        labels = [tr.claim_label(tuple(p.split("."))) if isinstance(p, str) else str(p)
                  for p in paths]
        params["paths"] = tr("common.list_separator").join(labels)
    if w.code == "linkable":
        params["banks"] = tr("common.list_separator").join(
            fmt.host(b) for b in params.get("banks", []))
    key = f"warning.{w.code}"
    if tr.has(key):
        try:
            return tr(key, **params)
        except (KeyError, IndexError, ValueError):
            return tr(key + "_short") if tr.has(key + "_short") else w.message
    return tr("warning.other", message=w.message)


def choice_line(choice: ClaimChoice, screen: WalletScreen) -> Text:
    text = Text()
    text.append(screen.app.tr.claim_label(choice.path), style="bold")
    text.append(screen.t("common.colon"), style="dim")
    text.append(fmt.claim(choice.path, choice.value, screen.app.tr))
    return text


class ReviewScreen(WalletScreen):
    TITLE_KEY = "review.title"
    HELP_KEY = "help.review"
    AUTO_FOCUS = "#review"  # the top (who is asking) stays in view; Tab reaches the choices
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "preview", "key.preview"),
        Binding("d", "decline", "key.decline"),
        Binding("escape", "back", "key.back"),
    ]

    def __init__(self, review: RequestReview, *, fixed: bool = False) -> None:
        super().__init__()
        self.review = review
        self.candidate_index = 0
        self.optional: set[str] = set()
        self._fixed = fixed  # given data only (snapshots): no wallet calls

    @property
    def candidate(self) -> Candidate | None:
        if not self.review.candidates:
            return None
        return self.review.candidates[self.candidate_index]

    def chosen_optional(self) -> list[str]:
        """The optional claims ticked, in the order the bank listed them."""
        cand = self.candidate
        if cand is None:
            return []
        return [c.dotted for c in cand.optional if c.dotted in self.optional]

    # --- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        r = self.review
        yield TitleBar(self.t(self.TITLE_KEY))
        with VerticalScroll(id="review"):
            yield Static(self._who(), id="who", classes="section")
            yield Static(self._why(), id="why", classes="section")
            warnings = self._warnings()
            if warnings:
                yield Static(warnings, id="warnings", classes="warnings")
            cand = self.candidate
            if cand is None:
                yield Static(self.t("review.no_candidate"), id="no-candidate",
                             classes="warnings")
            else:
                if len(r.candidates) > 1:
                    yield Static(self.t("review.which_credential"), classes="heading")
                    with RadioSet(id="candidates"):
                        for i, c in enumerate(r.candidates):
                            yield RadioButton(c.issuer_name, value=i == self.candidate_index)
                yield Static(self.t("review.required", n=len(cand.required)),
                             classes="heading")
                if cand.required:
                    for choice in cand.required:
                        yield Static(Text("✓ ", style="bold") + choice_line(choice, self),
                                     classes="required")
                else:
                    yield Static(self.t("review.nothing_required"), classes="dim")
                if cand.optional:
                    yield Static(self.t("review.optional", n=len(cand.optional)),
                                 classes="heading")
                    for choice in cand.optional:
                        yield Checkbox(choice_line(choice, self),
                                       value=choice.dotted in self.optional,
                                       name=choice.dotted, classes="optional")
            yield ErrorLine()
            yield Busy()
            with Horizontal(classes="buttons"):
                yield Button(self.t("review.preview"), id="preview", variant="primary",
                             disabled=cand is None, compact=True)
                yield Button(self.t("review.decline"), id="decline", variant="error", compact=True)
                yield Button(self.t("common.back"), id="back", compact=True)
        yield KeyBar()

    def _who(self) -> Text:
        r = self.review
        text = Text()
        text.append(self.t("review.who") + " ", style="dim")
        text.append(r.bank_name or fmt.host(r.client_id), style="bold")
        text.append("\n" + r.client_id, style="dim")
        text.append("\n")
        if r.authenticated:
            text.append(" ✓ " + self.t("review.authenticated") + " ",
                        style="bold #0b3d0b on #a8e6a1")
        else:
            text.append(f" {WARN_MARK} " + self.t("review.unauthenticated") + " ",
                        style="bold #ffffff on #b00020")
        return text

    def _why(self) -> Text:
        r = self.review
        text = Text()
        text.append(self.t("review.why") + " ", style="dim")
        purpose = fmt.purpose(r.purpose, self.app.tr.language)
        text.append(purpose or self.t("review.no_purpose"), style="bold" if purpose else "italic")
        if r.expires_at is not None:
            text.append("\n" + self.t("review.expires", when=fmt.date_time(r.expires_at)),
                        style="dim")
        text.append("\n" + self.t("review.send_to", host=fmt.host(r.response_uri)), style="dim")
        return text

    def _warnings(self) -> Text | None:
        cand = self.candidate
        shown = [w for w in self.review.warnings
                 if "credential_id" not in w.params
                 or (cand is not None and w.params["credential_id"] == cand.credential_id)]
        if not shown:
            return None
        text = Text()
        for i, w in enumerate(shown):
            if i:
                text.append("\n")
            text.append(self.t("review.warning_mark"), style="bold")
            text.append(warning_text(w, self))
        return text

    # --- choices -------------------------------------------------------------------------

    @on(Checkbox.Changed, ".optional")
    def _toggled(self, event: Checkbox.Changed) -> None:
        name = event.checkbox.name
        if name is None:
            return
        if event.value:
            self.optional.add(name)
        else:
            self.optional.discard(name)

    @on(RadioSet.Changed, "#candidates")
    async def _candidate_changed(self, event: RadioSet.Changed) -> None:
        if event.index != self.candidate_index:
            self.candidate_index = event.index
            self.optional.clear()
            await self.redraw()

    # --- actions -------------------------------------------------------------------------

    @on(Button.Pressed, "#preview")
    def action_preview(self) -> None:
        cand = self.candidate
        if cand is None or self._fixed:
            return
        self.clear_error()
        self.run_worker(self._preview(cand), exclusive=True, group="preview")

    async def _preview(self, cand: Candidate) -> None:
        optional = self.chosen_optional()
        preview = await self.call(self.wallet.preview, self.review, cand.credential_id,
                                  optional, busy=self.t("review.preparing"))
        if isinstance(preview, Failed):
            return
        from .preview import PreviewScreen

        self.app.push_screen(PreviewScreen(self.review, preview, optional))

    @on(Button.Pressed, "#decline")
    def action_decline(self) -> None:
        if self._fixed:
            return
        self.clear_error()
        self.run_worker(decline(self, self.review), exclusive=True, group="decline")

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        self.dismiss()


async def decline(screen: WalletScreen, review: RequestReview) -> None:
    """Record the refusal (a signed receipt: nothing is sent) and show it in the history."""
    row = await screen.call(screen.wallet.decline, review, busy=screen.t("review.declining"))
    if isinstance(row, Failed):
        return
    from .history import HistoryScreen

    screen.app.go_home()
    screen.app.push_screen(HistoryScreen(note=screen.t("review.declined_note")))
