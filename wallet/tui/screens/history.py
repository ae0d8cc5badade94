"""History: every disclosure and every refusal, with its signed receipt, and export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Static

from ...model import HistoryRow
from .. import format as fmt
from ..widgets.keybar import KeyBar
from ..widgets.status import Busy, ErrorLine
from ..widgets.title_bar import TitleBar
from .base import Failed, WalletScreen


def decision_text(row: HistoryRow, screen: WalletScreen) -> str:
    key = f"history.decision_{row.decision}"
    return screen.t(key) if screen.app.tr.has(key) else row.decision


def outcome_text(outcome: str, screen: WalletScreen) -> str:
    key = f"history.outcome_{outcome}"
    return screen.t(key) if screen.app.tr.has(key) else outcome


def write_new(path: Path, text: str) -> None:
    """Write a new file owner-only (receipts and history are personal data)."""
    with open(path, "x", encoding="utf-8") as f:
        path.chmod(0o600)
        f.write(text)


class HistoryScreen(WalletScreen):
    TITLE_KEY = "history.title"
    HELP_KEY = "help.history"
    AUTO_FOCUS = "#history-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "details", "key.details"),
        Binding("e", "export", "key.export_history"),
        Binding("escape", "back", "key.back"),
    ]

    def __init__(self, rows: list[HistoryRow] | None = None, *, note: str = "") -> None:
        super().__init__()
        self.rows: list[HistoryRow] = list(rows or [])
        self._fixed = rows is not None
        self.note = note
        self.exported: Path | None = None

    def on_mount(self) -> None:
        if not self._fixed:
            result = self.guarded(self.wallet.history)
            if not isinstance(result, Failed):
                self.rows = sorted(result, key=lambda r: -r.time)
                self.run_worker(self.redraw(), group="redraw")

    def compose(self) -> ComposeResult:
        yield TitleBar(self.t(self.TITLE_KEY))
        with Vertical(id="body"):
            if self.note:
                yield Static(self.note, id="note", classes="success")
            if self.rows:
                table: DataTable[str | Text] = DataTable(id="history-table", cursor_type="row",
                                                         zebra_stripes=True)
                table.add_column(self.t("history.col_time"), key="time")
                table.add_column(self.t("history.col_bank"), key="bank")
                table.add_column(self.t("history.col_decision"), key="decision")
                table.add_column(self.t("history.col_outcome"), key="outcome")
                for i, row in enumerate(self.rows):
                    style = "bold #2ecc71" if row.decision == "approved" else "bold #ff6b6b"
                    table.add_row(fmt.date_time(row.time),
                                  row.bank_name or fmt.host(row.client_id),
                                  Text(decision_text(row, self), style=style),
                                  outcome_text(row.outcome, self), key=str(i))
                yield table
            else:
                yield Static(self.t("history.empty"), id="empty", classes="intro")
            yield Busy()
            yield ErrorLine()
        yield KeyBar()

    @on(DataTable.RowSelected, "#history-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self._open(int(str(event.row_key.value)))

    def action_details(self) -> None:
        table = next(iter(self.query("#history-table").results(DataTable)), None)
        if table is not None and self.rows:
            self._open(table.cursor_row)

    def _open(self, index: int) -> None:
        if 0 <= index < len(self.rows):
            self.app.push_screen(HistoryDetailScreen(self.rows[index], fixed=self._fixed))

    def action_export(self) -> None:
        if self._fixed:
            return
        from .dialogs import PathDialog

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.run_worker(self._export(path), exclusive=True, group="export")

        default = Path.home() / f"selfcarry-history-{fmt.utc_stamp(self.app.clock())}.json"
        self.app.push_screen(PathDialog(self.t("history.export_prompt"), str(default)), chosen)

    async def _export(self, path: Path) -> None:
        doc = await self.call(self.wallet.export_history, busy=self.t("history.exporting"))
        if isinstance(doc, Failed):
            return
        try:
            write_new(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        except OSError as exc:
            self.show_error(self.t("error.io", detail=exc.strerror or str(exc)))
            return
        self.exported = path
        self.note = self.t("history.exported", path=str(path))
        await self.redraw()

    def action_back(self) -> None:
        self.dismiss()


class HistoryDetailScreen(WalletScreen):
    TITLE_KEY = "history.detail_title"
    HELP_KEY = "help.history_detail"
    AUTO_FOCUS = "#body"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "export_receipt", "key.export_receipt"),
        Binding("escape", "back", "key.back"),
    ]

    def __init__(self, row: HistoryRow, *, fixed: bool = False) -> None:
        super().__init__()
        self.row = row
        self._fixed = fixed
        self.note = ""
        self.exported: Path | None = None

    def compose(self) -> ComposeResult:
        yield TitleBar(self.t(self.TITLE_KEY))
        with VerticalScroll(id="body"):
            if self.note:
                yield Static(self.note, classes="success")
            yield Static(self._details(), id="details")
            yield ErrorLine()
            with Horizontal(classes="buttons"):
                yield Button(self.t("history.export_receipt"), id="export", compact=True)
                yield Button(self.t("common.back"), id="back", compact=True)
        yield KeyBar()

    def _details(self) -> Text:
        r = self.row
        tr = self.app.tr
        text = Text()

        def field(label_key: str, value: str, style: str = "") -> None:
            text.append(self.t(label_key) + "  ", style="dim")
            text.append(value + "\n", style=style)

        field("history.when", fmt.date_time(r.time))
        field("history.bank", r.bank_name or fmt.host(r.client_id), "bold")
        field("history.client_id", r.client_id)
        field("history.authenticated",
              self.t("value.yes") if r.authenticated else self.t("value.no"))
        field("history.purpose", fmt.purpose(r.purpose, tr.language) or "—")
        field("history.decision", decision_text(r, self),
              "bold #2ecc71" if r.decision == "approved" else "bold #ff6b6b")
        field("history.outcome", outcome_text(r.outcome, self))
        if r.bank_verdict is not None:
            verified = r.bank_verdict.get("verified")
            verdict = (self.t("history.verdict_verified") if verified is True
                       else self.t("history.verdict_rejected",
                                   code=str(r.bank_verdict.get("reason", ""))))
            field("history.verdict", verdict)
        text.append(self.t("history.disclosed", n=len(r.disclosed)) + "\n", style="dim")
        if r.disclosed:
            for dotted in r.disclosed:
                text.append("  • " + tr.claim_label(tuple(dotted.split("."))) + "\n")
        else:
            text.append("  " + self.t("history.nothing_disclosed") + "\n", style="italic")
        text.append(self.t("history.receipt") + "\n", style="dim")
        text.append(_abbreviate(r.receipt) + "\n", style="dim")
        return text

    @on(Button.Pressed, "#export")
    def action_export_receipt(self) -> None:
        from .dialogs import PathDialog

        def chosen(path: Path | None) -> None:
            if path is None:
                return
            try:
                write_new(path, self.row.receipt + "\n")
            except OSError as exc:
                self.show_error(self.t("error.io", detail=exc.strerror or str(exc)))
                return
            self.exported = path
            self.note = self.t("history.receipt_exported", path=str(path))
            self.run_worker(self.redraw(), group="redraw")

        name = f"selfcarry-receipt-{fmt.utc_stamp(self.row.time)}.jwt"
        self.app.push_screen(PathDialog(self.t("history.receipt_prompt"),
                                        str(Path.home() / name)), chosen)

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        self.dismiss()


def _abbreviate(jws: str, keep: int = 24) -> str:
    return jws if len(jws) <= 2 * keep + 1 else f"{jws[:keep]}…{jws[-keep:]}"
