"""Delivery: the presentation is built and sent (or shown as QR); then the bank's answer."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from ...model import Delivery, RequestReview
from .. import format as fmt
from ..widgets.keybar import KeyBar
from ..widgets.status import Busy, ErrorLine
from ..widgets.title_bar import TitleBar
from .base import Failed, WalletScreen

OK_STYLE = "bold #0b3d0b on #a8e6a1"
BAD_STYLE = "bold #ffffff on #b00020"


class DeliveryScreen(WalletScreen):
    TITLE_KEY = "delivery.title"
    HELP_KEY = "help.delivery"
    AUTO_FOCUS = "#done"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "done", "key.done", show=False),
        Binding("h", "history", "key.history"),
    ]

    def __init__(self, review: RequestReview, credential_id: str, optional: list[str], *,
                 method: str = "http", confirm_unauthenticated: bool = False,
                 delivery: Delivery | None = None) -> None:
        super().__init__()
        self.review = review
        self.credential_id = credential_id
        self.optional = list(optional)
        self.method = method
        self.confirm_unauthenticated = confirm_unauthenticated
        self.delivery = delivery
        self.failed = False
        self._started = delivery is not None

    @property
    def bank(self) -> str:
        return self.review.bank_name or fmt.host(self.review.client_id)

    def compose(self) -> ComposeResult:
        yield TitleBar(self.t(self.TITLE_KEY))
        with Vertical(id="body"):
            if self.delivery is None and not self.failed:
                key = "delivery.sending" if self.method == "http" else "delivery.preparing_qr"
                yield Static(self.t(key, bank=self.bank), id="progress", classes="heading")
            elif self.delivery is not None:
                yield Static(self._outcome(self.delivery), id="outcome")
            else:
                yield Static(self.t("delivery.not_sent"), id="outcome")
            yield Busy()
            yield ErrorLine()
            with Horizontal(classes="buttons"):
                yield Button(self.t("delivery.done"), id="done", variant="primary",
                             disabled=self.delivery is None and not self.failed, compact=True)
                yield Button(self.t("delivery.history"), id="history", compact=True)
        yield KeyBar()

    def _outcome(self, d: Delivery) -> Text:
        text = Text()
        verdict = d.bank_verdict or {}
        reason = verdict.get("reason") or d.error
        if d.outcome == "delivered":
            text.append(" ✓ " + self.t("delivery.delivered", bank=self.bank) + " ",
                        style=OK_STYLE)
            if verdict.get("verified") is True:
                text.append("\n\n" + self.t("delivery.verified", bank=self.bank))
        elif d.outcome == "rejected_by_bank":
            text.append(" ✗ " + self.t("delivery.rejected", bank=self.bank) + " ",
                        style=BAD_STYLE)
            text.append("\n\n" + self.reason_text(reason))
        elif d.outcome == "failed":
            text.append(" ✗ " + self.t("delivery.failed") + " ", style=BAD_STYLE)
            text.append("\n\n" + self.reason_text(reason))
        else:
            text.append(self.t("delivery.recorded"))
        text.append("\n\n" + self.t("delivery.receipt_note"), style="dim")
        return text

    def reason_text(self, reason: object) -> str:
        """A bank's or the network's reason code in words (the code itself stays visible)."""
        code = str(reason or "unknown").split(":", 1)[0].strip()
        if self.app.tr.has(f"reason.{code}"):
            return self.t("delivery.reason", text=self.t(f"reason.{code}"), code=code)
        return self.t("delivery.reason_code", code=code)

    def on_mount(self) -> None:
        if not self._started:
            self._started = True
            self.run_worker(self._approve(), exclusive=True, group="approve")

    async def _approve(self) -> None:
        deliver = "qr" if self.method == "qr" else "http"
        busy = self.t("delivery.busy_http" if deliver == "http" else "delivery.busy_qr")
        result = await self.call(self.wallet.approve, self.review, self.credential_id,
                                 self.optional, deliver=deliver,
                                 confirm_unauthenticated=self.confirm_unauthenticated,
                                 busy=busy)
        if isinstance(result, Failed):
            self.failed = True
            message = self.last_error
            await self.redraw()
            self.show_error(message)
            self.query_one("#done", Button).focus()
            return
        self.delivery = result
        if result.outcome == "qr":
            from .qr import QRScreen

            self.app.switch_screen(QRScreen(result.presentation, bank=self.bank))
            return
        await self.redraw()
        self.query_one("#done", Button).focus()

    @on(Button.Pressed, "#done")
    def action_done(self) -> None:
        if self.delivery is not None or self.failed:
            self.app.go_home()

    @on(Button.Pressed, "#history")
    def action_history(self) -> None:
        if self.delivery is None and not self.failed:
            return
        from .history import HistoryScreen

        self.app.go_home()
        self.app.push_screen(HistoryScreen())
