"""Home: the credentials the resident holds, with live badges, and where every flow starts."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import ListItem, ListView, Static

from ...model import CredentialSummary
from .. import format as fmt
from ..widgets.badges import badges
from ..widgets.keybar import KeyBar
from ..widgets.status import Busy, ErrorLine
from ..widgets.title_bar import TitleBar
from .base import Failed, WalletScreen


class CredentialItem(ListItem):
    """One credential as a card: who issued it, what it is, its dates and badges."""

    def __init__(self, summary: CredentialSummary, text: Text) -> None:
        super().__init__(Static(text, classes="card-text"))
        self.summary = summary


class CredentialsScreen(WalletScreen):
    TITLE_KEY = "credentials.title"
    HELP_KEY = "help.credentials"
    AUTO_FOCUS = "#credentials"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "details", "key.details"),
        Binding("r", "receive", "key.receive"),
        Binding("o", "open_request", "key.open_request"),
        Binding("u", "refresh", "key.refresh"),
        Binding("h", "history", "key.history"),
        Binding("s", "settings", "key.settings"),
    ]

    def __init__(self, items: list[CredentialSummary] | None = None) -> None:
        super().__init__()
        self.items: list[CredentialSummary] = list(items or [])
        self._fixed = items is not None  # given data (snapshots): no wallet calls
        self._loaded = self._fixed
        self._checked = False

    def compose(self) -> ComposeResult:
        if not self._loaded:  # read before the first paint: one composition, not two
            self._loaded = True
            result = self.guarded(self.wallet.credentials)
            if not isinstance(result, Failed):
                self.items = result
        yield TitleBar(self.t(self.TITLE_KEY))
        with Vertical(id="body"):
            if self.items:
                yield ListView(*(CredentialItem(s, self._card(s)) for s in self.items),
                               id="credentials")
            else:
                yield Static(self.t("credentials.empty"), id="empty", classes="intro")
            yield Busy()
            yield ErrorLine()
        yield KeyBar()

    def _card(self, s: CredentialSummary) -> Text:
        kind = self.t("credentials.kind_report") if "credit-report" in s.vct else s.vct
        text = Text()
        text.append(kind, style="bold")
        text.append("  ·  " + s.issuer_name + "\n")
        text.append(self.t("credentials.dates", issued=fmt.date(s.issued_at),
                           expires=fmt.date(s.expires_at)) + "\n", style="dim")
        text.append_text(badges(s, self.app.tr, self.app.clock()))
        if s.shown_to:
            text.append("\n" + self.t("credentials.shown_to", n=len(s.shown_to)), style="dim")
        return text

    def on_mount(self) -> None:
        if self._fixed:
            return
        # after the first paint: the list shows at once, badges follow
        self.call_after_refresh(self._start_status_checks)
        request = self.app.take_pending_request()  # `wallet` started with a request
        if request:
            from .open_request import OpenRequestScreen

            self.app.push_screen(OpenRequestScreen(source=request, submit=True))

    def _start_status_checks(self) -> None:
        self.run_worker(self._refresh_all(), group="status")

    def on_screen_resume(self) -> None:
        if not self._fixed and self.app.wallet is not None and not self.app.wallet.locked:
            self.reload()

    def reload(self) -> None:
        result = self.guarded(self.wallet.credentials)
        if isinstance(result, Failed):
            return
        if result != self.items:
            self.items = result
            self.run_worker(self.redraw(), group="redraw")

    async def _refresh_all(self) -> None:
        """Check every credential's status with its CRA (live badges), in the background."""
        if self._checked:
            return
        self._checked = True
        for summary in list(self.items):
            await self.call(self.wallet.refresh_status, summary.id,
                            busy=self.t("credentials.checking"))
        self.reload()

    def selected(self) -> CredentialSummary | None:
        view = next(iter(self.query("#credentials").results(ListView)), None)
        if view is None or view.highlighted_child is None:
            return None
        child = view.highlighted_child
        return child.summary if isinstance(child, CredentialItem) else None

    @on(ListView.Selected)
    def _selected(self, event: ListView.Selected) -> None:
        if isinstance(event.item, CredentialItem):
            self._open(event.item.summary)

    def _open(self, summary: CredentialSummary) -> None:
        from .detail import DetailScreen

        self.app.push_screen(DetailScreen(summary.id))

    def action_details(self) -> None:
        summary = self.selected()
        if summary is not None:
            self._open(summary)

    def action_receive(self) -> None:
        from .receive import ReceiveScreen

        self.app.push_screen(ReceiveScreen())

    def action_open_request(self) -> None:
        from .open_request import OpenRequestScreen

        self.app.push_screen(OpenRequestScreen())

    def action_refresh(self) -> None:
        if self._fixed:
            return
        self._checked = False
        self.clear_error()
        self.run_worker(self._refresh_all(), group="status", exclusive=True)

    def action_history(self) -> None:
        from .history import HistoryScreen

        self.app.push_screen(HistoryScreen())

    def action_settings(self) -> None:
        from .settings import SettingsScreen

        self.app.push_screen(SettingsScreen())
