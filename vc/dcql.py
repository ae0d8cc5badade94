"""DCQL, the Digital Credentials Query Language of OpenID4VP 1.0 §6–7, for both sides.

One module, three jobs, all pure:

* :func:`parse_query` validates a query strictly (identifiers, ``meta``, claims
  path pointers, ``claim_sets``, ``credential_sets``) within fixed size and depth
  limits and returns frozen dataclasses. Unknown properties are ignored, as §6
  requires, but kept in :attr:`DcqlQuery.raw` so a query round-trips unchanged.
* The wallet side, :func:`match` and :func:`select_response`, says which held
  credentials answer which credential query and which concrete claim paths the
  resident must disclose (``required``) or could disclose instead (``optional``).
* The verifier side, :func:`check_satisfied`, re-checks what came back: a wallet
  is not trusted to have applied the query (§6.4.1: "Verifiers MUST NOT rely on
  it"), so presence, ``values``, ``multiple``, ``vct`` and ``credential_sets`` are
  all checked again, and the disclosed claims nobody asked for are listed.

Claims path pointers (§7) are tuples: ``str`` selects an object member, a
non-negative ``int`` an array element, ``None`` every element. The CLI spells
them with dots (``ld.credentialSubject.accounts.0``); see :func:`to_dotted`.

Choices the specification leaves open, made here:

* ``values`` with a ``None`` wildcard: the claim query is met when at least one
  selected element matches; only the matching elements count as requested.
  Matching is by JSON type and value (``true`` never equals ``1``).
* ``trusted_authorities`` is parsed and kept but not evaluated (we have no X.509
  chains); a verifier checks issuer trust itself, which it must do anyway.
* ``vct_values`` is compared for equality; SD-JWT VC type inheritance is not
  followed.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from . import strict_json
from .errors import InvalidJSON, LimitExceeded, VCError

__all__ = [
    "DC_SD_JWT",
    "ClaimOption",
    "ClaimPath",
    "ClaimsQuery",
    "ConcretePath",
    "CredentialQuery",
    "CredentialSetQuery",
    "DcqlError",
    "DcqlLimits",
    "DcqlNotSatisfied",
    "DcqlQuery",
    "DcqlUnsatisfiable",
    "InvalidClaimPath",
    "InvalidDcql",
    "Match",
    "PresentationCheck",
    "Presented",
    "Satisfaction",
    "TrustedAuthority",
    "WalletCredential",
    "check_satisfied",
    "covers",
    "from_dotted",
    "match",
    "parse_path",
    "parse_query",
    "revealed_paths",
    "select",
    "select_response",
    "to_dotted",
    "value_matches",
]

DC_SD_JWT: Final = "dc+sd-jwt"

ClaimPath = tuple[str | int | None, ...]
"""A claims path pointer; ``None`` selects every element of an array."""
ConcretePath = tuple[str | int, ...]
"""A path to one claim: no wildcards."""
ClaimValue = str | int | bool

_ID = re.compile(r"[A-Za-z0-9_-]+")


# --- errors -----------------------------------------------------------------------------


class DcqlError(VCError):
    """Root of the DCQL errors."""

    code = "dcql_error"
    default_message = "the DCQL query could not be applied"


class InvalidDcql(DcqlError):
    code = "invalid_dcql"
    default_message = "the DCQL query is not valid"


class InvalidClaimPath(DcqlError):
    code = "invalid_claim_path"
    default_message = "the claim path is not valid"


class DcqlUnsatisfiable(DcqlError):
    """Wallet side: the credentials held cannot answer the query."""

    code = "dcql_unsatisfiable"
    default_message = "no combination of the credentials held satisfies the query"


class DcqlNotSatisfied(DcqlError):
    """Verifier side: what was presented does not answer the query."""

    code = "dcql_not_satisfied"
    default_message = "the presentations do not satisfy the query"


# --- limits -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DcqlLimits:
    """Bounds on a query, checked before any other work."""

    max_bytes: int = 64 * 1024
    max_depth: int = 16
    max_credentials: int = 32
    max_claims: int = 128
    max_claim_sets: int = 64
    max_credential_sets: int = 32
    max_options: int = 64
    max_path_length: int = 32
    max_values: int = 64
    max_string: int = 1024
    max_index: int = 1_000_000
    max_presentations: int = 64


DEFAULT_LIMITS: Final = DcqlLimits()


# --- the parsed query -------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimsQuery:
    """One entry of ``claims`` (§6.3)."""

    id: str | None
    path: ClaimPath
    values: tuple[ClaimValue, ...] | None = None


@dataclass(frozen=True)
class TrustedAuthority:
    """One entry of ``trusted_authorities`` (§6.1.1); kept, not evaluated."""

    type: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class CredentialQuery:
    """One entry of ``credentials`` (§6.1)."""

    id: str
    format: str
    meta: Mapping[str, Any]
    claims: tuple[ClaimsQuery, ...] | None = None
    claim_sets: tuple[tuple[str, ...], ...] | None = None
    multiple: bool = False
    require_cryptographic_holder_binding: bool = True
    trusted_authorities: tuple[TrustedAuthority, ...] | None = None

    @property
    def vct_values(self) -> tuple[str, ...] | None:
        """``meta.vct_values`` for ``dc+sd-jwt`` (``None``: any type)."""
        values = self.meta.get("vct_values") if self.format == DC_SD_JWT else None
        return tuple(values) if isinstance(values, list) else None

    def claim_options(self) -> tuple[tuple[ClaimsQuery, ...], ...]:
        """The alternative claim combinations, most preferred first (§6.4.1).

        No ``claims``: one empty option (only the mandatory parts). ``claims``
        without ``claim_sets``: one option with all of them.
        """
        if self.claims is None:
            return ((),)
        if self.claim_sets is None:
            return (self.claims,)
        by_id = {c.id: c for c in self.claims}
        return tuple(tuple(by_id[i] for i in option) for option in self.claim_sets)

    def requested_paths(self) -> frozenset[ClaimPath]:
        """Every path some option requests."""
        return frozenset(c.path for option in self.claim_options() for c in option)

    def guaranteed_paths(self) -> frozenset[ClaimPath]:
        """The paths every option requests: a verifier gets these whichever option is met."""
        options = [frozenset(c.path for c in option) for option in self.claim_options()]
        return frozenset.intersection(*options)


@dataclass(frozen=True)
class CredentialSetQuery:
    """One entry of ``credential_sets`` (§6.2)."""

    options: tuple[tuple[str, ...], ...]
    required: bool = True


@dataclass(frozen=True)
class DcqlQuery:
    """A validated DCQL query. ``raw`` is the JSON object as given (unknown members kept)."""

    credentials: tuple[CredentialQuery, ...]
    credential_sets: tuple[CredentialSetQuery, ...] | None
    raw: Mapping[str, Any]

    def credential(self, query_id: str) -> CredentialQuery:
        for cq in self.credentials:
            if cq.id == query_id:
                return cq
        raise DcqlError(f"the query has no credential query {query_id!r}", code="unknown_query_id")

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(cq.id for cq in self.credentials)

    def to_json(self) -> dict[str, Any]:
        """A deep copy of the query's JSON object."""
        return copy.deepcopy(dict(self.raw))


# --- parsing ------------------------------------------------------------------------------


def _bad(where: str, what: str) -> InvalidDcql:
    return InvalidDcql(f"{where} must be {what}")


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise _bad(where, "a JSON object")
    return value


def _arr(value: Any, where: str, limit: int) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise _bad(where, "a non-empty array")
    if len(value) > limit:
        raise LimitExceeded(f"{where} has more than {limit} entries")
    return value


def _bool(value: Any, where: str, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _bad(where, "true or false")
    return value


def _text(value: Any, where: str, limits: DcqlLimits) -> str:
    if not isinstance(value, str) or not value:
        raise _bad(where, "a non-empty string")
    if len(value) > limits.max_string:
        raise LimitExceeded(f"{where} is longer than {limits.max_string} characters")
    return value


def _ident(value: Any, where: str, limits: DcqlLimits) -> str:
    text = _text(value, where, limits)
    if not _ID.fullmatch(text):
        raise _bad(where, "made of letters, digits, '_' and '-' only")
    return text


def _opt(data: Mapping[str, Any], key: str) -> Any:
    """A member's value; an explicit JSON ``null`` is refused rather than read as absent."""
    if key in data and data[key] is None:
        raise InvalidDcql(f"{key} must not be null")
    return data.get(key)


def parse_path(value: Any, where: str = "path", limits: DcqlLimits = DEFAULT_LIMITS) -> ClaimPath:
    """A claims path pointer (§7): a non-empty array of strings, nulls and indices."""
    items = _arr(value, where, limits.max_path_length)
    out: list[str | int | None] = []
    for i, comp in enumerate(items):
        if comp is None:
            out.append(None)
        elif isinstance(comp, str):
            if len(comp) > limits.max_string:
                raise LimitExceeded(f"{where}[{i}] is longer than {limits.max_string} characters")
            out.append(comp)
        elif isinstance(comp, int) and not isinstance(comp, bool):
            if not 0 <= comp <= limits.max_index:
                raise _bad(f"{where}[{i}]", f"an index from 0 to {limits.max_index}")
            out.append(comp)
        else:
            raise _bad(f"{where}[{i}]", "a string, a non-negative integer or null")
    return tuple(out)


def _values(value: Any, where: str, limits: DcqlLimits) -> tuple[ClaimValue, ...]:
    items = _arr(value, where, limits.max_values)
    for i, item in enumerate(items):
        if not isinstance(item, str | int) or (
            isinstance(item, str) and len(item) > limits.max_string
        ):
            raise _bad(f"{where}[{i}]", "a string, an integer or a boolean")
    return tuple(items)


def _claims(
    value: Any, where: str, limits: DcqlLimits, ids_required: bool
) -> tuple[ClaimsQuery, ...]:
    out: list[ClaimsQuery] = []
    seen_ids: set[str] = set()
    seen_paths: set[ClaimPath] = set()
    for i, raw in enumerate(_arr(value, where, limits.max_claims)):
        here = f"{where}[{i}]"
        data = _obj(raw, here)
        claim_id = _opt(data, "id")
        if claim_id is not None:
            claim_id = _ident(claim_id, f"{here}.id", limits)
            if claim_id in seen_ids:
                raise InvalidDcql(f"{here}.id {claim_id!r} is used twice")
            seen_ids.add(claim_id)
        elif ids_required:
            raise InvalidDcql(f"{here} needs an id because claim_sets is present")
        if "path" not in data:
            raise InvalidDcql(f"{here}.path is required")
        path = parse_path(data["path"], f"{here}.path", limits)
        if path in seen_paths:  # §6.1: "Verifiers MUST NOT point to the same claim more than once"
            raise InvalidDcql(f"{here}.path points to a claim already requested")
        seen_paths.add(path)
        values = _opt(data, "values")
        out.append(
            ClaimsQuery(
                claim_id,
                path,
                None if values is None else _values(values, f"{here}.values", limits),
            )
        )
    return tuple(out)


def _id_lists(
    value: Any, where: str, known: Iterable[str], limit: int, limits: DcqlLimits
) -> tuple[tuple[str, ...], ...]:
    known_ids = set(known)
    out: list[tuple[str, ...]] = []
    for i, option in enumerate(_arr(value, where, limit)):
        here = f"{where}[{i}]"
        ids = [_ident(x, f"{here}[{j}]", limits) for j, x in enumerate(_arr(option, here, limit))]
        unknown = [x for x in ids if x not in known_ids]
        if unknown:
            raise InvalidDcql(f"{here} names unknown ids {unknown}")
        if len(set(ids)) != len(ids):
            raise InvalidDcql(f"{here} repeats an id")
        out.append(tuple(ids))
    return tuple(out)


def _trusted(value: Any, where: str, limits: DcqlLimits) -> tuple[TrustedAuthority, ...]:
    out: list[TrustedAuthority] = []
    for i, raw in enumerate(_arr(value, where, limits.max_options)):
        data = _obj(raw, f"{where}[{i}]")
        kind = _text(data.get("type"), f"{where}[{i}].type", limits)
        values = _arr(data.get("values"), f"{where}[{i}].values", limits.max_values)
        out.append(
            TrustedAuthority(
                kind,
                tuple(_text(v, f"{where}[{i}].values[{j}]", limits) for j, v in enumerate(values)),
            )
        )
    return tuple(out)


def _credential(raw: Any, where: str, limits: DcqlLimits) -> CredentialQuery:
    data = _obj(raw, where)
    cq_id = _ident(data.get("id"), f"{where}.id", limits)
    fmt = _text(data.get("format"), f"{where}.format", limits)
    if "meta" not in data:  # REQUIRED in OpenID4VP 1.0 (it was optional in drafts)
        raise InvalidDcql(f"{where}.meta is required")
    meta = _obj(data["meta"], f"{where}.meta")
    if fmt == DC_SD_JWT and "vct_values" in meta:
        vcts = _arr(meta["vct_values"], f"{where}.meta.vct_values", limits.max_values)
        for j, vct in enumerate(vcts):
            _text(vct, f"{where}.meta.vct_values[{j}]", limits)
    claim_sets_raw = _opt(data, "claim_sets")
    claims_raw = _opt(data, "claims")
    if claim_sets_raw is not None and claims_raw is None:
        raise InvalidDcql(f"{where}.claim_sets must not be present without claims")
    claims = (
        None
        if claims_raw is None
        else _claims(claims_raw, f"{where}.claims", limits, claim_sets_raw is not None)
    )
    claim_sets = (
        None
        if claim_sets_raw is None or claims is None
        else _id_lists(
            claim_sets_raw,
            f"{where}.claim_sets",
            (c.id for c in claims if c.id is not None),
            limits.max_claim_sets,
            limits,
        )
    )
    trusted_raw = _opt(data, "trusted_authorities")
    return CredentialQuery(
        id=cq_id,
        format=fmt,
        meta=copy.deepcopy(dict(meta)),
        claims=claims,
        claim_sets=claim_sets,
        multiple=_bool(_opt(data, "multiple"), f"{where}.multiple", False),
        require_cryptographic_holder_binding=_bool(
            _opt(data, "require_cryptographic_holder_binding"),
            f"{where}.require_cryptographic_holder_binding",
            True,
        ),
        trusted_authorities=None
        if trusted_raw is None
        else _trusted(trusted_raw, f"{where}.trusted_authorities", limits),
    )


def parse_query(value: Any, limits: DcqlLimits = DEFAULT_LIMITS) -> DcqlQuery:
    """Validate a DCQL query given as a JSON object, JSON text, or an already parsed query."""
    if isinstance(value, DcqlQuery):
        return value
    if isinstance(value, str | bytes):
        if len(value) > limits.max_bytes:
            raise LimitExceeded(f"the DCQL query is larger than {limits.max_bytes} bytes")
        try:
            value = strict_json.loads(value, max_depth=limits.max_depth)
        except InvalidJSON as exc:
            raise InvalidDcql(f"the DCQL query is not valid JSON ({exc.message})") from exc
    else:
        strict_json.depth(value, limits.max_depth)
        try:
            size = len(strict_json.dumps(value))
        except InvalidJSON as exc:
            raise InvalidDcql("the DCQL query is not a JSON value") from exc
        if size > limits.max_bytes:
            raise LimitExceeded(f"the DCQL query is larger than {limits.max_bytes} bytes")
    data = _obj(value, "the DCQL query")
    if "credentials" not in data:
        raise InvalidDcql("the DCQL query needs credentials")
    credentials = tuple(
        _credential(raw, f"credentials[{i}]", limits)
        for i, raw in enumerate(_arr(data["credentials"], "credentials", limits.max_credentials))
    )
    ids = [cq.id for cq in credentials]
    if len(set(ids)) != len(ids):
        raise InvalidDcql("two credential queries share an id")
    sets_raw = _opt(data, "credential_sets")
    credential_sets = None
    if sets_raw is not None:
        sets: list[CredentialSetQuery] = []
        for i, raw in enumerate(_arr(sets_raw, "credential_sets", limits.max_credential_sets)):
            here = f"credential_sets[{i}]"
            entry = _obj(raw, here)
            if "options" not in entry:
                raise InvalidDcql(f"{here}.options is required")
            options = _id_lists(
                entry["options"], f"{here}.options", ids, limits.max_options, limits
            )
            sets.append(
                CredentialSetQuery(
                    options, _bool(_opt(entry, "required"), f"{here}.required", True)
                )
            )
        credential_sets = tuple(sets)
    return DcqlQuery(credentials, credential_sets, copy.deepcopy(dict(data)))


# --- claims path pointers -----------------------------------------------------------------


def select(claims: Any, path: Sequence[str | int | None]) -> list[tuple[ConcretePath, Any]]:
    """Apply a claims path pointer (§7.1) to JSON data: the selected ``(path, value)`` pairs.

    Where §7.1 says "abort processing and return an error" (a string applied to a
    non-object, an index or null to a non-array, an empty selection), the result
    is empty: for matching, that claim is simply not there.
    """
    if not isinstance(claims, Mapping):
        return []
    selected: list[tuple[ConcretePath, Any]] = [((), claims)]
    for comp in path:
        nxt: list[tuple[ConcretePath, Any]] = []
        for where, node in selected:
            if isinstance(comp, str):
                if not isinstance(node, Mapping):
                    return []
                if comp in node:
                    nxt.append(((*where, comp), node[comp]))
            elif comp is None:
                if not isinstance(node, list):
                    return []
                nxt.extend(((*where, i), item) for i, item in enumerate(node))
            elif isinstance(comp, int) and not isinstance(comp, bool) and comp >= 0:
                if not isinstance(node, list):
                    return []
                if comp < len(node):
                    nxt.append(((*where, comp), node[comp]))
            else:
                return []
        if not nxt:
            return []
        selected = nxt
    return selected


def covers(pattern: Sequence[str | int | None], path: Sequence[str | int | None]) -> bool:
    """True when ``pattern`` selects ``path`` or one of its ancestors.

    A ``None`` in ``pattern`` stands for any index; in ``path`` only a ``None``
    is covered by a ``None`` (a wildcard is not covered by one index).
    """
    if len(pattern) > len(path):
        return False
    for want, got in zip(pattern, path, strict=False):
        if want is None:
            if not (got is None or (isinstance(got, int) and not isinstance(got, bool))):
                return False
        elif (
            isinstance(want, bool)
            or isinstance(got, bool)
            or want != got
            or type(want) is not type(got)
        ):
            return False
    return True


def value_matches(value: Any, allowed: Sequence[ClaimValue]) -> bool:
    """§6.3 ``values``: the claim's JSON type and value equal one of ``allowed``."""
    return any(type(value) is type(a) and value == a for a in allowed)


_DIGITS = re.compile(r"[0-9]+")


def to_dotted(path: Sequence[str | int | None]) -> str:
    """The CLI spelling: components joined with ``.``, indices in decimal, ``*`` for null.

    Keys that this spelling cannot carry unambiguously (empty, containing ``.``,
    all digits, or ``*``) are refused.
    """
    if not path:
        raise InvalidClaimPath("a claim path is never empty")
    parts: list[str] = []
    for comp in path:
        if comp is None:
            parts.append("*")
        elif isinstance(comp, int) and not isinstance(comp, bool) and comp >= 0:
            parts.append(str(comp))
        elif (
            isinstance(comp, str)
            and comp
            and "." not in comp
            and comp != "*"
            and not _DIGITS.fullmatch(comp)
        ):
            parts.append(comp)
        else:
            raise InvalidClaimPath(f"the component {comp!r} has no dotted spelling")
    return ".".join(parts)


def from_dotted(text: str, limits: DcqlLimits = DEFAULT_LIMITS) -> ClaimPath:
    """Parse the CLI spelling back into a claims path pointer (inverse of :func:`to_dotted`)."""
    if not isinstance(text, str) or not text:
        raise InvalidClaimPath("a claim path is a non-empty string")
    if len(text) > limits.max_string * 4:
        raise LimitExceeded("the claim path is too long")
    parts = text.split(".")
    if len(parts) > limits.max_path_length:
        raise LimitExceeded(f"a claim path has at most {limits.max_path_length} components")
    out: list[str | int | None] = []
    for part in parts:
        if not part:
            raise InvalidClaimPath(f"{text!r} has an empty component")
        if part == "*":
            out.append(None)
        elif _DIGITS.fullmatch(part):
            index = int(part)
            if index > limits.max_index or (len(part) > 1 and part[0] == "0"):
                raise InvalidClaimPath(f"{part!r} is not a usable array index")
            out.append(index)
        else:
            out.append(part)
    return tuple(out)


# --- wallet side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WalletCredential:
    """A credential the wallet holds, with every claim disclosed (as the holder sees it)."""

    id: str
    vct: str
    claims: Mapping[str, Any]
    format: str = DC_SD_JWT


@dataclass(frozen=True)
class ClaimOption:
    """One satisfiable claim combination: its ``claim_sets`` ids and the concrete paths."""

    claim_ids: tuple[str, ...] | None
    paths: tuple[ConcretePath, ...]


@dataclass(frozen=True)
class Match:
    """A held credential that answers a credential query.

    ``required`` are the concrete paths the wallet discloses by default: all
    ``claims`` when there are no ``claim_sets``, otherwise those of the first
    option this credential satisfies (the verifier's preference, §6.4.1).
    ``optional`` are the paths that only the *other* satisfiable options add:
    disclosing one of those options instead is allowed, disclosing them on top
    is not, so a wallet shows them only as an alternative. ``options`` lists every
    satisfiable option in the verifier's order (``options[0]`` is ``required``).
    """

    query_id: str
    credential_id: str
    required: tuple[ConcretePath, ...]
    optional: tuple[ConcretePath, ...]
    claim_set: tuple[str, ...] | None
    options: tuple[ClaimOption, ...]
    holder_binding: bool


def _resolve(claims: Mapping[str, Any], option: Sequence[ClaimsQuery]) -> list[ConcretePath] | None:
    """Concrete paths for one option, or ``None`` when a claim is missing or no value matches."""
    paths: list[ConcretePath] = []
    for claim in option:
        hits = [
            p
            for p, v in select(claims, claim.path)
            if claim.values is None or value_matches(v, claim.values)
        ]
        if not hits:
            return None
        paths.extend(p for p in hits if p not in paths)
    return paths


def _as_wallet_credential(value: Any) -> WalletCredential:
    if isinstance(value, WalletCredential):
        return value
    if isinstance(value, tuple | list) and len(value) == 3:
        cid, vct, claims = value
        if isinstance(cid, str) and isinstance(vct, str) and isinstance(claims, Mapping):
            return WalletCredential(cid, vct, claims)
    raise DcqlError("a credential is (id, vct, claims)", code="invalid_credential_input")


def match(
    query: DcqlQuery | Mapping[str, Any] | str,
    credentials: Iterable[WalletCredential | tuple[str, str, Mapping[str, Any]]],
) -> list[Match]:
    """Every (credential query, held credential) pair that matches, in query then wallet order."""
    parsed = parse_query(query)
    held = [_as_wallet_credential(c) for c in credentials]
    out: list[Match] = []
    for cq in parsed.credentials:
        vcts = cq.vct_values
        for cred in held:
            if cred.format != cq.format or (vcts is not None and cred.vct not in vcts):
                continue
            options: list[ClaimOption] = []
            for ids, option in zip(_option_ids(cq), cq.claim_options(), strict=True):
                paths = _resolve(cred.claims, option)
                if paths is not None:
                    options.append(ClaimOption(ids, tuple(paths)))
            if not options:
                continue
            required = options[0].paths
            optional: list[ConcretePath] = []
            for alt in options[1:]:
                optional.extend(p for p in alt.paths if p not in required and p not in optional)
            out.append(
                Match(
                    cq.id,
                    cred.id,
                    required,
                    tuple(optional),
                    options[0].claim_ids,
                    tuple(options),
                    cq.require_cryptographic_holder_binding,
                )
            )
    return out


def _option_ids(cq: CredentialQuery) -> tuple[tuple[str, ...] | None, ...]:
    if cq.claim_sets is None:
        return (None,)
    return cq.claim_sets


def select_response(
    query: DcqlQuery | Mapping[str, Any] | str, matches: Sequence[Match]
) -> dict[str, list[Match]]:
    """Which matches to present: credential query id -> matches (§6.4.2).

    Without ``credential_sets`` every credential query must be answered. With
    them, each set contributes its first option whose queries all have matches;
    a required set without one makes the whole query unsatisfiable (the wallet
    then returns nothing). One match per query unless ``multiple`` is true.
    """
    parsed = parse_query(query)
    by_query: dict[str, list[Match]] = {}
    for m in matches:
        by_query.setdefault(m.query_id, []).append(m)

    def take(ids: Iterable[str]) -> dict[str, list[Match]]:
        picked: dict[str, list[Match]] = {}
        for qid in ids:
            found = by_query[qid]
            picked[qid] = list(found) if parsed.credential(qid).multiple else found[:1]
        return picked

    if parsed.credential_sets is None:
        missing = [qid for qid in parsed.ids if qid not in by_query]
        if missing:
            raise DcqlUnsatisfiable(f"no credential held answers {missing}")
        return take(parsed.ids)
    chosen: dict[str, list[Match]] = {}
    for i, cs in enumerate(parsed.credential_sets):
        option = next((o for o in cs.options if all(q in by_query for q in o)), None)
        if option is None:
            if cs.required:
                raise DcqlUnsatisfiable(f"no option of credential_sets[{i}] can be answered")
            continue
        for qid, found in take(option).items():
            chosen.setdefault(qid, found)
    return chosen


# --- verifier side -------------------------------------------------------------------------


@dataclass(frozen=True)
class Presented:
    """One verified presentation as the verifier sees it.

    ``claims`` are the processed (disclosed) claims. ``baseline`` are the claims
    visible with no disclosure at all (the issuer-signed payload processed with
    an empty disclosure list); give it to get an exact list of unrequested
    disclosures. ``holder_bound`` says whether a Key Binding JWT was verified
    (``None``: the caller checks holder binding itself).
    """

    claims: Mapping[str, Any]
    baseline: Mapping[str, Any] | None = None
    holder_bound: bool | None = None


@dataclass(frozen=True)
class PresentationCheck:
    """How one presentation met its credential query.

    ``requested`` are the concrete paths the met option asked for. ``unrequested``
    are the paths revealed by disclosures that no requested path covers
    (over-disclosure); ``None`` when no ``baseline`` was given.
    """

    query_id: str
    index: int
    claim_set: tuple[str, ...] | None
    requested: tuple[ConcretePath, ...]
    unrequested: tuple[ConcretePath, ...] | None


@dataclass(frozen=True)
class Satisfaction:
    """The query is met. ``extra_credentials``: presented ids no met option needed."""

    presentations: tuple[PresentationCheck, ...]
    credential_ids: tuple[str, ...]
    extra_credentials: tuple[str, ...] = ()

    def unrequested(self) -> dict[str, list[ConcretePath]]:
        """Over-disclosed paths per credential query id (only where known and non-empty)."""
        out: dict[str, list[ConcretePath]] = {}
        for p in self.presentations:
            if p.unrequested:
                out.setdefault(p.query_id, []).extend(p.unrequested)
        return out


def _not_satisfied(code: str, message: str) -> DcqlNotSatisfied:
    return DcqlNotSatisfied(message, code=code)


def _check_option(
    claims: Mapping[str, Any], option: Sequence[ClaimsQuery]
) -> tuple[list[ConcretePath], list[ClaimPath], list[ClaimPath]]:
    """(requested concrete paths, missing paths, paths whose values did not match)."""
    requested: list[ConcretePath] = []
    missing: list[ClaimPath] = []
    mismatched: list[ClaimPath] = []
    for claim in option:
        hits = select(claims, claim.path)
        if not hits:
            missing.append(claim.path)
            continue
        if claim.values is not None:
            hits = [(p, v) for p, v in hits if value_matches(v, claim.values)]
            if not hits:
                mismatched.append(claim.path)
                continue
        requested.extend(p for p, _ in hits if p not in requested)
    return requested, missing, mismatched


def _dotted_or_repr(path: Sequence[str | int | None]) -> str:
    try:
        return to_dotted(path)
    except InvalidClaimPath:
        return repr(list(path))


def _check_presentation(cq: CredentialQuery, item: Any, index: int) -> PresentationCheck:
    presented = item if isinstance(item, Presented) else Presented(item)
    claims = presented.claims
    where = f"{cq.id}[{index}]"
    if not isinstance(claims, Mapping):
        raise _not_satisfied("dcql_invalid_presentation", f"{where}: the claims are not an object")
    if cq.format != DC_SD_JWT:
        raise _not_satisfied(
            "dcql_unsupported_format", f"{where}: format {cq.format!r} is not supported"
        )
    vcts = cq.vct_values
    if vcts is not None and claims.get("vct") not in vcts:
        raise _not_satisfied(
            "dcql_vct_mismatch", f"{where}: vct {claims.get('vct')!r} is not one the query accepts"
        )
    if cq.require_cryptographic_holder_binding and presented.holder_bound is False:
        raise _not_satisfied(
            "dcql_holder_binding_missing", f"{where}: the query requires holder binding"
        )
    first_failure: tuple[list[ClaimPath], list[ClaimPath]] | None = None
    for ids, option in zip(_option_ids(cq), cq.claim_options(), strict=True):
        requested, missing, mismatched = _check_option(claims, option)
        if not missing and not mismatched:
            unrequested = (
                None
                if presented.baseline is None
                else tuple(
                    p
                    for p in revealed_paths(claims, presented.baseline, requested)
                    if not any(covers(q, p) for q in requested)
                )
            )
            return PresentationCheck(cq.id, index, ids, tuple(requested), unrequested)
        if first_failure is None:
            first_failure = (missing, mismatched)
    assert first_failure is not None
    missing, mismatched = first_failure
    if missing:
        names = ", ".join(_dotted_or_repr(p) for p in missing)
        raise _not_satisfied("dcql_claim_missing", f"{where}: not disclosed: {names}")
    names = ", ".join(_dotted_or_repr(p) for p in mismatched)
    raise _not_satisfied("dcql_value_mismatch", f"{where}: value not allowed: {names}")


def check_satisfied(
    query: DcqlQuery | Mapping[str, Any] | str,
    presented: Mapping[str, Sequence[Mapping[str, Any] | Presented]],
    limits: DcqlLimits = DEFAULT_LIMITS,
) -> Satisfaction:
    """Re-check that verified presentations answer the query, or raise :class:`DcqlNotSatisfied`.

    ``presented`` maps credential query ids (the ``vp_token`` keys) to the
    presentations' disclosed claims (plain mappings or :class:`Presented`).
    Codes: ``dcql_unknown_credential``, ``dcql_multiple_not_allowed``,
    ``dcql_vct_mismatch``, ``dcql_holder_binding_missing``, ``dcql_claim_missing``,
    ``dcql_value_mismatch``, ``dcql_credential_missing``,
    ``dcql_credential_set_unsatisfied``.
    """
    parsed = parse_query(query, limits)
    if not isinstance(presented, Mapping):
        raise _not_satisfied("dcql_invalid_presentation", "the presentations are not an object")
    checks: list[PresentationCheck] = []
    for qid, items in presented.items():
        if not isinstance(qid, str) or qid not in parsed.ids:
            raise _not_satisfied(
                "dcql_unknown_credential", f"{qid!r} is not a credential query of the request"
            )
        cq = parsed.credential(qid)
        if isinstance(items, Mapping | str | bytes) or not isinstance(items, Sequence) or not items:
            raise _not_satisfied(
                "dcql_invalid_presentation", f"{qid}: presentations come as a non-empty array"
            )
        if len(items) > limits.max_presentations:
            raise LimitExceeded(f"{qid}: more than {limits.max_presentations} presentations")
        if len(items) > 1 and not cq.multiple:
            raise _not_satisfied(
                "dcql_multiple_not_allowed", f"{qid}: only one presentation is allowed"
            )
        checks.extend(_check_presentation(cq, item, i) for i, item in enumerate(items))
    present = set(presented)
    if parsed.credential_sets is None:
        missing = [qid for qid in parsed.ids if qid not in present]
        if missing:
            raise _not_satisfied("dcql_credential_missing", f"no presentation for {missing}")
        used = set(parsed.ids)
    else:
        used = set()
        for i, cs in enumerate(parsed.credential_sets):
            option = next((o for o in cs.options if set(o) <= present), None)
            if option is not None:
                used.update(option)
            elif cs.required:
                raise _not_satisfied(
                    "dcql_credential_set_unsatisfied",
                    f"no option of credential_sets[{i}] was presented",
                )
    return Satisfaction(
        tuple(checks),
        tuple(q for q in parsed.ids if q in present),
        tuple(q for q in parsed.ids if q in present and q not in used),
    )


_MISSING: Final = object()


def revealed_paths(
    claims: Any, baseline: Any, requested: Sequence[ConcretePath] = ()
) -> list[ConcretePath]:
    """Top-most paths present in ``claims`` but not in ``baseline`` (what disclosures revealed).

    A revealed container on the way to a ``requested`` path is descended into, so
    that a sibling revealed next to a requested claim is still reported. Arrays
    are aligned in order: the baseline holds the always-visible elements, the
    rest were revealed (exact unless an array mixes disclosable and
    always-visible elements of equal value).
    """
    out: list[ConcretePath] = []

    def on_route(path: ConcretePath) -> bool:
        return any(len(q) > len(path) and q[: len(path)] == path for q in requested)

    def walk(node: Any, base: Any, path: ConcretePath) -> None:
        if base is _MISSING:
            if path and not on_route(path):
                out.append(path)
            elif isinstance(node, Mapping):
                for key, child in node.items():
                    walk(child, _MISSING, (*path, key))
            elif isinstance(node, list):
                for i, child in enumerate(node):
                    walk(child, _MISSING, (*path, i))
            elif path:
                out.append(path)
            return
        if isinstance(node, Mapping) and isinstance(base, Mapping):
            for key, child in node.items():
                walk(child, base.get(key, _MISSING), (*path, key))
        elif isinstance(node, list) and isinstance(base, list):
            j = 0
            for i, child in enumerate(node):
                if j < len(base) and (
                    len(node) - i == len(base) - j or _compatible(child, base[j])
                ):
                    walk(child, base[j], (*path, i))
                    j += 1
                else:
                    walk(child, _MISSING, (*path, i))

    walk(claims, baseline, ())
    return out


def _compatible(node: Any, base: Any) -> bool:
    """Could ``node`` be ``base`` with some disclosures added below it?"""
    if isinstance(node, Mapping) and isinstance(base, Mapping):
        return all(k in node and _compatible(node[k], v) for k, v in base.items())
    if isinstance(node, list) and isinstance(base, list):
        return len(node) >= len(base)
    return type(node) is type(base) and bool(node == base)
