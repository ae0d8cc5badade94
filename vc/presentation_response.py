"""What a wallet sends a bank: an OpenID4VP 1.0 ``direct_post`` response, plus staples.

Wire shape (``application/x-www-form-urlencoded``, OpenID4VP §8.2):

- ``vp_token``: JSON object mapping each DCQL credential query id to an array of
  presentations, e.g. ``{"credit_report": ["<SD-JWT+KB>"]}`` (standard);
- ``state``: the request's ``state`` (standard);
- ``selfcarry_staples`` (our extension, ignored by other verifiers): JSON object
  with the same keys and array shape, each item ``{"registry_receipt": {...} |
  null, "status_list_token": "<statuslist+jwt>" | null}`` — the registry receipt
  of the credential's anchor (refreshed to a newer cosigned checkpoint when the
  wallet was online) and a fresh Token Status List token, so the bank can decide
  without calling the CRA or the registry.

As a file (``verifier verify FILE``) the same members form one JSON object; a file
holding a bare SD-JWT+KB string is accepted too (no staples).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from . import strict_json
from .errors import LimitExceeded, MalformedError

STAPLES_PARAM = "selfcarry_staples"
MAX_RESPONSE_BYTES = 1024 * 1024
MAX_PRESENTATIONS = 8


@dataclass(frozen=True)
class Staple:
    registry_receipt: dict[str, Any] | None = None
    status_list_token: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"registry_receipt": self.registry_receipt,
                "status_list_token": self.status_list_token}

    @classmethod
    def from_json(cls, doc: Any) -> Staple:
        if not isinstance(doc, Mapping) or not set(doc) <= {"registry_receipt",
                                                             "status_list_token"}:
            raise MalformedError("a staple has only registry_receipt and status_list_token")
        receipt, token = doc.get("registry_receipt"), doc.get("status_list_token")
        if receipt is not None and not isinstance(receipt, dict):
            raise MalformedError("registry_receipt must be an object")
        if token is not None and not isinstance(token, str):
            raise MalformedError("status_list_token must be a string")
        return cls(receipt, token)


@dataclass(frozen=True)
class PresentationResponse:
    vp_token: dict[str, list[str]]
    state: str | None = None
    staples: dict[str, list[Staple]] = field(default_factory=dict)

    def presentations(self) -> list[tuple[str, int, str, Staple]]:
        """(query id, position, presentation, its staple) for every presentation."""
        out = []
        for query_id, items in self.vp_token.items():
            staples = self.staples.get(query_id, [])
            for pos, text in enumerate(items):
                out.append((query_id, pos, text, staples[pos] if pos < len(staples) else Staple()))
        return out

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"vp_token": self.vp_token}
        if self.state is not None:
            doc["state"] = self.state
        if self.staples:
            doc["staples"] = {k: [s.to_json() for s in v] for k, v in self.staples.items()}
        return doc

    def to_form(self) -> dict[str, str]:
        form = {"vp_token": strict_json.dumps(self.vp_token)}
        if self.state is not None:
            form["state"] = self.state
        if self.staples:
            form[STAPLES_PARAM] = strict_json.dumps(
                {k: [s.to_json() for s in v] for k, v in self.staples.items()})
        return form

    def to_form_body(self) -> bytes:
        return urlencode(self.to_form()).encode("ascii")

    @classmethod
    def from_json(cls, doc: Any) -> PresentationResponse:
        if not isinstance(doc, Mapping) or not set(doc) <= {"vp_token", "state", "staples"}:
            raise MalformedError("a presentation response has vp_token, state and staples")
        return cls._build(doc.get("vp_token"), doc.get("state"), doc.get("staples"))

    @classmethod
    def from_form(cls, body: bytes) -> PresentationResponse:
        if len(body) > MAX_RESPONSE_BYTES:
            raise LimitExceeded("the response body is too large")
        try:
            pairs = parse_qsl(body.decode("ascii"), strict_parsing=True, max_num_fields=8)
        except (UnicodeDecodeError, ValueError) as exc:
            raise MalformedError("the response is not form-encoded") from exc
        form = dict(pairs)
        if len(form) != len(pairs) or "vp_token" not in form:
            raise MalformedError("the response needs exactly one vp_token")
        staples = form.get(STAPLES_PARAM)
        return cls._build(strict_json.loads(form["vp_token"], max_depth=4), form.get("state"),
                          strict_json.loads(staples, max_depth=16) if staples else None)

    @classmethod
    def parse(cls, text: str) -> PresentationResponse:
        """A response document (JSON) or a bare SD-JWT+KB (keyed under ``"*"``)."""
        if len(text) > MAX_RESPONSE_BYTES:
            raise LimitExceeded("the presentation is too large")
        stripped = text.strip()
        if stripped.startswith("{"):
            return cls.from_json(strict_json.loads(stripped, max_depth=16))
        if not stripped or any(c.isspace() for c in stripped):
            raise MalformedError("a presentation is an SD-JWT+KB string or a response document")
        return cls({"*": [stripped]})

    @classmethod
    def _build(cls, vp_token: Any, state: Any, staples: Any) -> PresentationResponse:
        if not isinstance(vp_token, Mapping) or not vp_token:
            raise MalformedError("vp_token must be a non-empty object")
        total = 0
        tokens: dict[str, list[str]] = {}
        for key, items in vp_token.items():
            if not isinstance(items, list) or not items or not all(
                    isinstance(i, str) for i in items):
                raise MalformedError("each vp_token entry is a non-empty array of strings")
            total += len(items)
            tokens[key] = list(items)
        if total > MAX_PRESENTATIONS:
            raise LimitExceeded("too many presentations in one response")
        if state is not None and not isinstance(state, str):
            raise MalformedError("state must be a string")
        parsed: dict[str, list[Staple]] = {}
        if staples is not None:
            if not isinstance(staples, Mapping) or not set(staples) <= set(tokens):
                raise MalformedError("staples must be keyed like vp_token")
            for key, items in staples.items():
                if not isinstance(items, list) or len(items) > len(tokens[key]):
                    raise MalformedError("staples must be arrays no longer than vp_token's")
                parsed[key] = [Staple.from_json(i) for i in items]
        return cls(tokens, state, parsed)


