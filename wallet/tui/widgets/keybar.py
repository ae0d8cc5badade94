"""The footer: every binding of the current screen, translated, wrapping onto a second line.

Textual's own Footer is one line that scrolls sideways; at 80 columns, and with Chinese
labels twice as wide, a resident would not see every key. This bar packs the keys into
as many lines as it needs (at most three), and a click on a key runs its action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.screen import Screen

CATALOGUE_PREFIX = "key."  # only our own bindings are shown (their descriptions are keys)
GAP = 2


@dataclass(frozen=True)
class _Item:
    key: str
    label: str
    action: str
    namespace: Any
    enabled: bool

    @property
    def width(self) -> int:
        return cell_len(self.key) + 3 + cell_len(self.label)


def _app_bindings(app: Any) -> list[Any]:
    return [b for b in getattr(type(app), "BINDINGS", []) if hasattr(b, "action")]


def ordered_bindings(screen: Screen[Any]) -> list[tuple[Any, Any, bool]]:
    """(node, binding, enabled) of our own bindings, screen's first, then the app's, once each."""
    app = screen.app
    app_order = {b.action: i for i, b in enumerate(_app_bindings(app))}
    active = list(screen.active_bindings.values())
    active.sort(key=lambda ab: (ab.node is app or ab.binding.action.startswith("app."),
                                app_order.get(ab.binding.action.removeprefix("app."), 0)))
    seen: set[str] = set()
    out = []
    for node, binding, enabled, _tooltip in active:
        if not binding.description.startswith(CATALOGUE_PREFIX) or binding.action in seen:
            continue
        seen.add(binding.action)
        out.append((node, binding, enabled))
    return out


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._lines: list[list[tuple[int, _Item]]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[Any]) -> None:
        if self.is_attached and screen is self.screen:
            self.refresh(layout=True)

    def items(self) -> list[_Item]:
        """The bindings shown, in declaration order (screen first, then the app's)."""
        tr = self.app.tr  # type: ignore[attr-defined]
        return [_Item(self.app.get_key_display(binding), tr(binding.description), binding.action,
                      node, enabled)
                for node, binding, enabled in ordered_bindings(self.screen) if binding.show]

    def _pack(self, width: int) -> list[list[tuple[int, _Item]]]:
        lines: list[list[tuple[int, _Item]]] = [[]]
        x = 0
        for item in self.items():
            needed = item.width if x == 0 else GAP + item.width
            if x and x + needed > width:
                lines.append([])
                x, needed = 0, item.width
            start = x + (needed - item.width)
            lines[-1].append((start, item))
            x += needed
        return lines

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return max(1, min(3, len(self._pack(width))))

    def render(self) -> Text:
        width = max(self.content_size.width, 10)
        self._lines = self._pack(width)
        text = Text(no_wrap=True, overflow="crop")
        for n, line in enumerate(self._lines[:3]):
            if n:
                text.append("\n")
            x = 0
            for start, item in line:
                text.append(" " * (start - x))
                key_style = "bold reverse" if item.enabled else "dim reverse"
                text.append(f" {item.key} ", style=key_style)
                text.append(" ")
                text.append(item.label, style="" if item.enabled else "dim")
                x = start + item.width
        return text

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y >= len(self._lines):
            return
        for start, item in self._lines[offset.y]:
            if start <= offset.x < start + item.width and item.enabled:
                event.stop()
                self.run_worker(self.app.run_action(item.action, item.namespace))
                return
