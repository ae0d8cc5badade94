"""Status badges of a credential: anchored, revoked or not, expiring soon, expired."""

from __future__ import annotations

from rich.text import Text

from ...model import CredentialSummary
from ..i18n import Translator

OK = "bold #0b3d0b on #a8e6a1"
WARN = "bold #4a3500 on #ffd966"
BAD = "bold #ffffff on #b00020"
NEUTRAL = "#202020 on #c8c8c8"


def badge_list(summary: CredentialSummary, tr: Translator, now: float) -> list[tuple[str, str]]:
    """(text, style) of each badge, most important first."""
    out: list[tuple[str, str]] = []
    if summary.revoked is True:
        out.append((tr("badge.revoked"), BAD))
    if summary.expires_at <= now:
        out.append((tr("badge.expired"), BAD))
    elif summary.expiring_soon:
        out.append((tr("badge.expiring_soon"), WARN))
    out.append((tr("badge.anchored"), OK) if summary.anchored else (tr("badge.not_anchored"), BAD))
    if summary.revoked is False:
        out.append((tr("badge.not_revoked"), OK))
    elif summary.revoked is None:
        out.append((tr("badge.status_unknown"), NEUTRAL))
    return out


def badges(summary: CredentialSummary, tr: Translator, now: float) -> Text:
    text = Text()
    for i, (label, style) in enumerate(badge_list(summary, tr, now)):
        if i:
            text.append(" ")
        text.append(f" {label} ", style=style)
    return text
