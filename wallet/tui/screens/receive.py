"""Receive a credential: paste the CRA's offer, give its one-time code, verify and store."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from ..widgets.keybar import KeyBar
from ..widgets.status import Busy, ErrorLine
from ..widgets.title_bar import TitleBar
from .base import Failed, WalletScreen

MAX_OFFER_CHARS = 16_384


class ReceiveScreen(WalletScreen):
    TITLE_KEY = "receive.title"
    HELP_KEY = "help.receive"
    AUTO_FOCUS = "#offer"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "key.receive_now"),
        Binding("escape", "back", "key.back"),
    ]

    def __init__(self, offer: str = "") -> None:
        super().__init__()
        self.offer = offer
        self.tx_code_spec: dict[str, Any] | None = None  # set once the offer asks for a code
        self.tx_code = ""

    def compose(self) -> ComposeResult:
        yield TitleBar(self.t(self.TITLE_KEY))
        with VerticalScroll(classes="form"):
            yield Static(self.t("receive.intro"), classes="intro")
            yield Label(self.t("receive.offer"))
            yield Input(self.offer, id="offer", placeholder="openid-credential-offer://…",
                        max_length=MAX_OFFER_CHARS)
            if self.tx_code_spec is not None:
                length = self.tx_code_spec.get("length")
                yield Label(self.t("receive.tx_code", n=length) if isinstance(length, int)
                            else self.t("receive.tx_code_any"))
                yield Input(self.tx_code, id="tx-code", password=False,
                            max_length=length if isinstance(length, int) and length < 64
                            else 64,
                            restrict=r"[0-9]*" if self.tx_code_spec.get(
                                "input_mode", "numeric") == "numeric" else None)
            yield ErrorLine()
            yield Busy()
            with Horizontal(classes="buttons"):
                yield Button(self.t("receive.receive"), id="receive", variant="primary",
                             compact=True)
                yield Button(self.t("common.back"), id="back", compact=True)
        yield KeyBar()

    @on(Input.Changed, "#offer")
    def _offer_changed(self, event: Input.Changed) -> None:
        if event.value != self.offer:
            self.offer = event.value
            self.clear_error()

    @on(Input.Changed, "#tx-code")
    def _code_changed(self, event: Input.Changed) -> None:
        self.tx_code = event.value

    @on(Input.Submitted)
    @on(Button.Pressed, "#receive")
    def _submit(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        self.dismiss()

    def action_submit(self) -> None:
        self.clear_error()
        offer = self.offer.strip()
        if not offer:
            self.show_error(self.t("receive.empty"))
            return
        self.run_worker(self._receive(offer), exclusive=True, group="receive")

    async def _receive(self, offer: str) -> None:
        if self.tx_code_spec is None:
            spec = await self.call(self.wallet.offer_tx_code, offer,
                                   busy=self.t("receive.reading"))
            if isinstance(spec, Failed):
                return
            if spec is not None:
                self.tx_code_spec = spec
                await self.redraw()
                self.query_one("#tx-code", Input).focus()
                return
        elif not self.tx_code.strip():
            self.show_error(self.t("receive.code_missing"))
            return
        code = self.tx_code.strip() or None
        self.query_one("#receive", Button).disabled = True
        summary = await self.call(self.wallet.receive, offer, code,
                                  busy=self.t("receive.receiving"))
        self.query_one("#receive", Button).disabled = False
        if isinstance(summary, Failed):
            return
        from .detail import DetailScreen

        self.app.notify(self.t("receive.done", issuer=summary.issuer_name))
        self.app.switch_screen(DetailScreen(summary.id, received=True))
