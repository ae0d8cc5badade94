"""Offline, allow-listed JSON-LD for the credential's ``ld`` body.

Two ways in, one source of truth (the bundled, hash-pinned contexts):

* :func:`check_ld` is what a verifier runs on every disclosed ``ld`` object. It
  compiles each context set once into term tables (following JSON-LD 1.1 context
  processing: ``@protected``, property-scoped and non-propagating type-scoped
  contexts) and then walks the document in plain Python, so a check costs tens
  of microseconds. It refuses anything it cannot prove defined: a property no
  trusted context defines (which a JSON-LD processor would silently drop, the
  published credentials v2 context having no ``@vocab``) or that only a catch-all
  ``@vocab`` would define (``…/issuer-dependent#``, drafts of v2), an inline or
  remote context, a value whose JSON type contradicts its term's ``@type``.
* :func:`expand` runs pyld's full expansion with a document loader that serves
  only the allow-list and never touches the network. Tests use it to prove the
  fast check and the reference processor agree.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from .contexts import (
    BUNDLED,
    CREDENTIALS_V2_SHA256,
    CREDENTIALS_V2_URL,
    CREDIT_REPORT_CONTEXT_SHA256,
    CREDIT_REPORT_CONTEXT_URL,
    read_bundled,
)
from .errors import (
    CredentialError,
    JsonLdError,
    LimitExceeded,
    MissingClaim,
    SelfcarryError,
    TypeMismatch,
    UndefinedTerm,
    UnknownContext,
    VCError,
)

__all__ = [
    "CREDENTIALS_V2_SHA256",
    "CREDENTIALS_V2_URL",
    "CREDIT_REPORT_CONTEXT_SHA256",
    "CREDIT_REPORT_CONTEXT_URL",
    "ISSUER_DEPENDENT_VOCAB",
    "XSD",
    "ContextIntegrityError",
    "ContextRegistry",
    "InvalidContext",
    "JsonLdLimits",
    "NotACredential",
    "PropertyUse",
    "check_ld",
    "default_registry",
    "expand",
    "explain",
    "parse_date_time_stamp",
]

XSD: Final = "http://www.w3.org/2001/XMLSchema#"
ISSUER_DEPENDENT_VOCAB: Final = "https://www.w3.org/ns/credentials/issuer-dependent#"
#: vocabularies that mean "this word is not defined anywhere"; never accepted as a definition
_UNDEFINED_NAMESPACES: Final = (
    ISSUER_DEPENDENT_VOCAB,
    "https://www.w3.org/ns/credentials/undefined-term#",
)
_VC_TYPE: Final = "VerifiableCredential"


# --- errors (rooted in vc.errors.JsonLdError) -----------------------------------------------


class InvalidContext(JsonLdError):
    code = "invalid_context"
    default_message = "the @context is not an ordered list of allow-listed context URLs"


class ContextIntegrityError(JsonLdError):
    code = "context_integrity"
    default_message = "a context document does not match its pinned SHA-256"


class NotACredential(JsonLdError):
    code = "not_a_verifiable_credential"
    default_message = "the document is not a VCDM 2.0 verifiable credential"


# --- limits ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class JsonLdLimits:
    """Bounds on what a check will walk; exceeding one is ``limit_exceeded``, never a hang."""

    max_depth: int = 32
    max_values: int = 20_000
    max_string: int = 16_384
    max_contexts: int = 8
    max_context_bytes: int = 256 * 1024


DEFAULT_LIMITS: Final = JsonLdLimits()


# --- literal validators ---------------------------------------------------------------------

_TZ = r"(?:Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_YMD = r"(?!0000)[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_DATE_TIME = re.compile(
    _YMD + r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?" + _TZ, re.ASCII
)
_DATE = re.compile(_YMD + _TZ + "?", re.ASCII)
_YEAR_MONTH = re.compile(r"(?!0000)[0-9]{4}-(?:0[1-9]|1[0-2])" + _TZ + "?", re.ASCII)
_LONG_MONTHS: Final = frozenset({"01", "03", "05", "07", "08", "10", "12"})


def _day_exists(text: str) -> bool:
    """For a string that matched ``_YMD``: is its day real in that month (leap years too)?"""
    day = text[8:10]
    if day < "29":
        return True
    month = text[5:7]
    if month == "02":
        if day != "29":
            return False
        year = int(text[:4])
        return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return day != "31" or month in _LONG_MONTHS


def _is_date_time(value: object) -> bool:
    """``xsd:dateTimeStamp``: a dateTime whose timezone is mandatory (VCDM 2.0 §4.9)."""
    return value.__class__ is str and _DATE_TIME.fullmatch(value) is not None and _day_exists(value)


def parse_date_time_stamp(value: object) -> datetime | None:
    """An ``xsd:dateTimeStamp`` as an aware datetime, or None if it is not one."""
    if not _is_date_time(value):
        return None
    return datetime.fromisoformat(value)  # type: ignore[arg-type]


def _is_date(value: object) -> bool:
    return value.__class__ is str and _DATE.fullmatch(value) is not None and _day_exists(value)


def _is_year_month(value: object) -> bool:
    return value.__class__ is str and _YEAR_MONTH.fullmatch(value) is not None


def _is_integer(value: object) -> bool:
    return value.__class__ is int


def _is_non_negative_integer(value: object) -> bool:
    return value.__class__ is int and value >= 0


def _is_positive_integer(value: object) -> bool:
    return value.__class__ is int and value > 0


def _is_boolean(value: object) -> bool:
    return value.__class__ is bool


def _is_number(value: object) -> bool:
    cls = value.__class__
    return cls is int or (cls is float and math.isfinite(value))  # type: ignore[arg-type]


def _is_string(value: object) -> bool:
    return value.__class__ is str


#: datatype IRI -> validator for the JSON value; any other datatype needs a string
_LITERAL_CHECKS: Final[dict[str, Callable[[object], bool]]] = {
    XSD + "dateTime": _is_date_time,
    XSD + "dateTimeStamp": _is_date_time,
    XSD + "date": _is_date,
    XSD + "gYearMonth": _is_year_month,
    XSD + "integer": _is_integer,
    XSD + "long": _is_integer,
    XSD + "int": _is_integer,
    XSD + "nonNegativeInteger": _is_non_negative_integer,
    XSD + "positiveInteger": _is_positive_integer,
    XSD + "boolean": _is_boolean,
    XSD + "decimal": _is_number,
    XSD + "double": _is_number,
    XSD + "float": _is_number,
    XSD + "string": _is_string,
}

_ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]*")


def _is_iri(value: object) -> bool:
    return (
        value.__class__ is str
        and _ABSOLUTE_IRI.fullmatch(value) is not None
        and not value.startswith("_:")
    )


# --- compiled contexts ------------------------------------------------------------------------

# what a term's values must look like
_UNTYPED: Final = 0  # plain JSON-LD value: string, number, boolean, or a node object
_ID: Final = 1  # "@type": "@id": an IRI string or a node object
_VOCAB: Final = 2  # "@type": "@vocab": a string
_JSON: Final = 3  # "@type": "@json": any JSON (a literal, not walked for terms)
_LITERAL: Final = 4  # "@type": <datatype IRI>: checked by the datatype's validator
_UNSUPPORTED: Final = 5  # a definition we do not process (maps, @reverse): never accepted

# how the walker dispatches on a term (derived from the above, one int compare per property)
_W_REJECT: Final = 0  # not a definition we accept
_W_KW_ID: Final = 1  # alias of @id
_W_KW_TYPE: Final = 2  # alias of @type
_W_STRING: Final = 3  # xsd:string literal
_W_LITERAL: Final = 4  # another datatype literal
_W_NODE: Final = 5  # has a scoped context and no @type: its values are node objects
_W_OTHER: Final = 6  # @id, @vocab, @json, untyped

_NO_SCOPE: Final = object()  # a term without "@context" (None would mean "@context": null)
_KEYWORDS: Final = frozenset(
    {
        "@base",
        "@container",
        "@context",
        "@direction",
        "@graph",
        "@id",
        "@import",
        "@included",
        "@index",
        "@json",
        "@language",
        "@list",
        "@nest",
        "@none",
        "@prefix",
        "@propagate",
        "@protected",
        "@reverse",
        "@set",
        "@type",
        "@value",
        "@version",
        "@vocab",
    }
)
_KEYWORD_LIKE = re.compile(r"@[A-Za-z]+")
_GEN_DELIMS: Final = frozenset(":/?#[]@")
_CONTAINERS_WALKED: Final = frozenset({"@set", "@list", "@graph"})
_TERM_KEYS: Final = frozenset(
    {
        "@id",
        "@type",
        "@container",
        "@context",
        "@protected",
        "@prefix",
        "@language",
        "@direction",
        "@reverse",
        "@index",
        "@nest",
    }
)


@dataclass(frozen=True, eq=False, slots=True)
class _Term:
    """One compiled term definition (identity-hashed: it keys the memo of scoped contexts)."""

    name: str
    iri: str | None  # None: defined as null, or only reachable via an "undefined" vocabulary
    keyword: str | None  # "@id" / "@type" for aliases
    kind: int
    datatype: str | None
    check: Callable[[object], bool] | None
    scoped: Any  # raw scoped context, or _NO_SCOPE
    container: frozenset[str]
    protected: bool
    prefix: bool
    signature: tuple[Any, ...]  # everything but "protected": equal means "same definition"
    walk: int  # how the walker treats a value of this term (_W_*)
    fast: Callable[[object], bool] | None  # True: a scalar value that needs no more checks


def _walk_kind(
    keyword: str | None, iri: str | None, kind: int, datatype: str | None, scoped: Any
) -> int:
    if keyword == "@id":
        return _W_KW_ID
    if keyword == "@type":
        return _W_KW_TYPE
    if keyword is not None or iri is None or kind == _UNSUPPORTED:
        return _W_REJECT
    if kind == _LITERAL:
        return _W_STRING if datatype == XSD + "string" else _W_LITERAL
    if scoped is not _NO_SCOPE and kind == _UNTYPED:
        return _W_NODE
    return _W_OTHER


class _Ctx:
    """An active context: terms, @vocab, and the context a type-scoped one reverts to."""

    __slots__ = ("_type_keys", "previous", "scoped_memo", "terms", "types_memo", "vocab")

    def __init__(self, terms: dict[str, _Term], vocab: str | None, previous: _Ctx | None) -> None:
        self.terms = terms
        self.vocab = vocab
        self.previous = previous
        self.scoped_memo: dict[_Term, _Ctx] = {}  # property-scoped contexts applied here
        self.types_memo: dict[tuple[str, ...], _Ctx] = {}

        self._type_keys: tuple[str, ...] | None = None

    def clone(self) -> _Ctx:
        return _Ctx(dict(self.terms), self.vocab, self.previous)

    def find_type_keys(self) -> tuple[str, ...]:
        """The keys that mean ``@type`` here (``@type`` itself and its aliases)."""
        aliases = (k for k, t in self.terms.items() if t.walk == _W_KW_TYPE)
        self._type_keys = ("@type", *sorted(aliases))
        return self._type_keys


_MEMO_CAP: Final = 512


@dataclass
class _Local:
    """The context object being applied, and which of its terms are defined (§4.2.2)."""

    local: dict[str, Any]
    defined: dict[str, bool]
    protected: bool  # its @protected default
    override_protected: bool


class _Compiler:
    """JSON-LD 1.1 context processing (§4.1, §4.2), for the features contexts we trust use.

    Anything outside that set (``@import``, ``@base``, ``@reverse``, ``@nest``, maps) is
    either refused as an invalid context or compiled as a term that is never accepted.
    """

    def __init__(self, registry: ContextRegistry) -> None:
        self._registry = registry

    # entry points ---------------------------------------------------------------------

    def apply(
        self,
        active: _Ctx,
        local: Any,
        *,
        override_protected: bool = False,
        propagate: bool = True,
        remote: frozenset[str] = frozenset(),
    ) -> _Ctx:
        items = local if isinstance(local, list) else [local]
        if items and isinstance(items[0], dict) and "@propagate" in items[0]:
            value = items[0]["@propagate"]
            if not isinstance(value, bool):
                raise InvalidContext("@propagate must be true or false")
            propagate = value
        result = active.clone()
        if not propagate and result.previous is None:
            result.previous = active
        for item in items:
            if item is None:
                if not override_protected and any(t.protected for t in result.terms.values()):
                    raise InvalidContext("a context nullifies protected terms")
                result = _Ctx({}, None, result.previous if not propagate else None)
            elif isinstance(item, str):
                if item in remote or len(remote) >= self._registry.limits.max_contexts:
                    raise InvalidContext("context references form a cycle or are too many")
                document = self._registry.context_document(item)
                result = self.apply(
                    result,
                    document,
                    override_protected=override_protected,
                    remote=remote | {item},
                )
            elif isinstance(item, dict):
                result = self._apply_object(result, item, override_protected)
            else:
                raise InvalidContext("a context must be a URL, an object or null")
        return result

    # one context object -----------------------------------------------------------------

    def _apply_object(self, result: _Ctx, local: dict[str, Any], override_protected: bool) -> _Ctx:
        if "@version" in local and local["@version"] != 1.1:
            raise InvalidContext("@version must be 1.1")
        for unsupported in ("@import", "@base"):
            if unsupported in local:
                raise InvalidContext(f"{unsupported} is not supported in trusted contexts")
        protected_default = local.get("@protected", False)
        if not isinstance(protected_default, bool):
            raise InvalidContext("@protected must be true or false")
        if "@vocab" in local:
            vocab = local["@vocab"]
            if vocab is None:
                result.vocab = None
            elif isinstance(vocab, str) and _is_iri(vocab):
                result.vocab = vocab
            else:
                raise InvalidContext("@vocab must be an absolute IRI or null")
        state = _Local(local, {}, protected_default, override_protected)
        for term in local:
            if term in (
                "@version",
                "@protected",
                "@vocab",
                "@language",
                "@direction",
                "@propagate",
            ):
                continue
            self._define(result, state, term)
        return result

    def _define(self, result: _Ctx, state: _Local, term: str) -> None:
        """Create Term Definition (§4.2.2) for ``term`` of the context object being applied."""
        local, defined = state.local, state.defined
        if term in defined:
            if defined[term]:
                return
            raise InvalidContext(f"cyclic IRI mapping for {term!r}")
        defined[term] = False
        value = local[term]
        if term in _KEYWORDS:
            raise InvalidContext(f"a context may not redefine the keyword {term}")
        if _KEYWORD_LIKE.fullmatch(term):
            defined[term] = True  # reserved for future keywords: ignored, as §4.2 says
            return
        previous = result.terms.pop(term, None)
        simple = isinstance(value, str)
        if value is None:
            definition: dict[str, Any] = {"@id": None}
        elif isinstance(value, str):
            definition = {"@id": value}
        elif isinstance(value, dict):
            definition = value
            unknown = set(definition) - _TERM_KEYS
            if unknown:
                raise InvalidContext(f"term {term!r} has unknown entries {sorted(unknown)}")
        else:
            raise InvalidContext(f"term {term!r} must be a string, an object or null")

        protected = definition.get("@protected", state.protected)
        if not isinstance(protected, bool):
            raise InvalidContext("@protected must be true or false")

        kind = _UNTYPED
        datatype: str | None = None
        if "@type" in definition:
            raw_type = definition["@type"]
            if not isinstance(raw_type, str):
                raise InvalidContext(f"the @type of {term!r} must be a string")
            expanded_type = self._expand_iri(result, raw_type, state, vocab=True)
            if expanded_type == "@id":
                kind = _ID
            elif expanded_type == "@vocab":
                kind = _VOCAB
            elif expanded_type == "@json":
                kind = _JSON
            elif expanded_type == "@none":
                kind = _UNTYPED
            elif expanded_type is not None and _is_iri(expanded_type):
                kind, datatype = _LITERAL, expanded_type
            else:
                raise InvalidContext(f"the @type of {term!r} is not an IRI or keyword")

        keyword: str | None = None
        iri: str | None
        from_vocab = False
        if "@reverse" in definition or "@nest" in definition or "@index" in definition:
            kind, iri = _UNSUPPORTED, None
        elif "@id" in definition and definition["@id"] != term:
            raw_id = definition["@id"]
            if raw_id is None:
                iri = None
            elif not isinstance(raw_id, str):
                raise InvalidContext(f"the @id of {term!r} must be a string")
            elif _KEYWORD_LIKE.fullmatch(raw_id) and raw_id not in _KEYWORDS:
                iri = None  # looks like a keyword: ignored, the term stays undefined
            else:
                iri = self._expand_iri(result, raw_id, state, vocab=True)
                if iri == "@context":
                    raise InvalidContext("@context may not be aliased")
                if iri in _KEYWORDS:
                    if iri not in ("@id", "@type"):
                        kind = _UNSUPPORTED
                    keyword, iri = iri, None
                elif iri is None or not _is_iri(iri):
                    raise InvalidContext(f"the @id of {term!r} is not an absolute IRI")
                elif (":" in term[1:-1] or "/" in term) and not term.startswith("_:"):
                    defined[term] = True
                    if self._expand_iri(result, term, state, vocab=False) != iri:
                        raise InvalidContext(f"term {term!r} looks like another IRI")
        elif ":" in term[1:]:
            iri = self._expand_iri(result, term, state, vocab=False)
            if iri is None or not _is_iri(iri):
                raise InvalidContext(f"term {term!r} is not an IRI")
        elif "/" in term:
            raise InvalidContext(f"relative IRI terms like {term!r} are not supported")
        elif term == "@type":
            keyword, iri = "@type", None
        elif result.vocab is not None:
            iri, from_vocab = result.vocab + term, True
        else:
            raise InvalidContext(f"term {term!r} has no IRI and there is no @vocab")

        if iri is not None and (from_vocab or iri.startswith(_UNDEFINED_NAMESPACES)):
            iri = None  # only "defined" by a catch-all vocabulary: not a definition at all

        container_raw = definition.get("@container")
        if container_raw is None:
            container: frozenset[str] = frozenset()
        elif isinstance(container_raw, str):
            container = frozenset({container_raw})
        elif isinstance(container_raw, list) and all(isinstance(c, str) for c in container_raw):
            container = frozenset(container_raw)
        else:
            raise InvalidContext(f"the @container of {term!r} is not valid")
        if not container <= _CONTAINERS_WALKED:
            kind = _UNSUPPORTED

        prefix_flag = False
        if "@prefix" in definition:
            prefix_flag = definition["@prefix"]
            if not isinstance(prefix_flag, bool) or ":" in term or "/" in term:
                raise InvalidContext(f"@prefix is not valid on {term!r}")
        elif simple and ":" not in term and "/" not in term and isinstance(value, str):
            target = iri if iri is not None else value
            prefix_flag = bool(target) and target[-1] in _GEN_DELIMS

        scoped = definition.get("@context", _NO_SCOPE)
        check = _LITERAL_CHECKS.get(datatype or "", _is_string) if kind == _LITERAL else None
        walk = _walk_kind(keyword, iri, kind, datatype, scoped)
        if walk == _W_LITERAL and check is _is_string:
            walk = _W_STRING  # a datatype we do not know: its values must be strings
        signature = (
            iri,
            keyword,
            kind,
            datatype,
            container,
            prefix_flag,
            None if scoped is _NO_SCOPE else json.dumps(scoped, sort_keys=True),
            scoped is _NO_SCOPE,
        )
        compiled = _Term(
            term,
            iri,
            keyword,
            kind,
            datatype,
            check,
            scoped,
            container,
            protected,
            prefix_flag,
            signature,
            walk,
            self._fast_check(walk, check),
        )
        if previous is not None and previous.protected and not state.override_protected:
            if previous.signature != compiled.signature:
                raise InvalidContext(f"the protected term {term!r} may not be redefined")
            compiled = previous  # keep it protected (§4.2.2 step 27)
        result.terms[term] = compiled
        defined[term] = True

    def _fast_check(
        self, walk: int, check: Callable[[object], bool] | None
    ) -> Callable[[object], bool] | None:
        max_string = self._registry.limits.max_string
        if walk == _W_STRING:
            return lambda value: value.__class__ is str and len(value) <= max_string
        if walk == _W_LITERAL:
            return check  # these validators accept only short strings, numbers or booleans
        return None

    def _expand_iri(self, active: _Ctx, value: str, state: _Local, *, vocab: bool) -> str | None:
        """IRI expansion (§5.2) inside a context being defined."""
        local, defined = state.local, state.defined
        if value in _KEYWORDS:
            return value
        if _KEYWORD_LIKE.fullmatch(value):
            return None
        if value in local and defined.get(value) is not True:
            self._define(active, state, value)
        if vocab and value in active.terms:
            found = active.terms[value]
            return found.keyword or found.iri
        if ":" in value[1:]:
            prefix, suffix = value.split(":", 1)
            if prefix == "_" or suffix.startswith("//"):
                return value
            if prefix in local and defined.get(prefix) is not True:
                self._define(active, state, prefix)
            pdef = active.terms.get(prefix)
            if pdef is not None and pdef.iri is not None and pdef.prefix:
                return pdef.iri + suffix
            if _is_iri(value):
                return value
        if vocab and active.vocab is not None:
            return active.vocab + value
        return None


# --- the registry (allow-list + pyld loader) --------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    url: str
    raw: bytes
    sha256: str
    document: dict[str, Any]


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ContextRegistry:
    """The allow-list: context URLs we serve, each with a document pinned by SHA-256.

    ``ContextRegistry.default()`` holds credentials v2 and the credit-report context.
    Integrators add theirs with :meth:`add` (url, the exact bytes, their SHA-256); a URL
    cannot be re-pinned to different bytes. Nothing here ever fetches.
    """

    def __init__(self, *, limits: JsonLdLimits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._entries: dict[str, _Entry] = {}
        self._compiler = _Compiler(self)
        self._initial = _Ctx({}, None, None)
        self._compiled: dict[tuple[str, ...], _Ctx] = {}
        self._pyld_cache: dict[str, Any] = {}

    @classmethod
    def default(cls) -> ContextRegistry:
        registry = cls()
        for url, (filename, sha256) in BUNDLED.items():
            registry.add(url, read_bundled(filename), sha256)
        return registry

    def add(self, url: str, document: bytes | str, sha256: str) -> None:
        """Allow ``url``, served as ``document``, only if its SHA-256 is ``sha256`` (hex)."""
        if not isinstance(url, str) or not _is_iri(url):
            raise InvalidContext("a context URL must be an absolute IRI")
        raw = document.encode("utf-8") if isinstance(document, str) else bytes(document)
        if len(raw) > self.limits.max_context_bytes:
            raise LimitExceeded("the context document is too large")
        actual = _sha256_hex(raw)
        if actual != sha256.lower():
            raise ContextIntegrityError(f"{url}: SHA-256 is {actual}, pinned {sha256}")
        existing = self._entries.get(url)
        if existing is not None:
            if existing.sha256 != actual:
                raise ContextIntegrityError(f"{url} is already pinned to other bytes")
            return
        try:
            parsed = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise InvalidContext(f"{url} is not JSON") from exc
        if not isinstance(parsed, dict) or not isinstance(parsed.get("@context"), dict | list):
            raise InvalidContext(f"{url} is not a JSON-LD context document")
        self._entries[url] = _Entry(url, raw, actual, parsed)

    @property
    def urls(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def __contains__(self, url: object) -> bool:
        return url in self._entries

    def sha256(self, url: str) -> str:
        return self._entry(url).sha256

    def _entry(self, url: str) -> _Entry:
        entry = self._entries.get(url) if isinstance(url, str) else None
        if entry is None:
            shown = url[:200] if isinstance(url, str) else type(url).__name__
            raise UnknownContext(f"context {shown!r} is not on the allow-list")
        return entry

    def context_document(self, url: str) -> Any:
        """The ``@context`` value of an allow-listed document (shared: do not mutate)."""
        return self._entry(url).document["@context"]

    def load_document(self, url: str, options: object = None) -> dict[str, Any]:
        """A pyld ``documentLoader``: allow-listed URLs only, from memory, never the network."""
        entry = self._entry(url)
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": json.loads(entry.raw),  # a fresh copy: pyld edits what it is given
            "tag": "static",
        }

    def _compile(self, urls: tuple[str, ...]) -> _Ctx:
        ctx = self._compiled.get(urls)
        if ctx is None:
            ctx = self._compiler.apply(self._initial, list(urls))
            if len(self._compiled) < _MEMO_CAP:
                self._compiled[urls] = ctx
        return ctx


_DEFAULT: ContextRegistry | None = None


def default_registry() -> ContextRegistry:
    """The shared registry of bundled contexts (built, and hash-checked, on first use)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = ContextRegistry.default()
    return _DEFAULT


# --- the fast check ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PropertyUse:
    """What :func:`explain` reports for one property: where, which IRI, which @type."""

    path: tuple[str | int, ...]
    iri: str
    datatype: str | None


_PATH_ATTR: Final = "_jsonld_path"


def _at(exc: VCError, step: str | int) -> None:
    """Record, while an error unwinds, one more step of where it happened (innermost first)."""
    steps: list[str | int] | None = getattr(exc, _PATH_ATTR, None)
    if steps is None:
        steps = []
        setattr(exc, _PATH_ATTR, steps)
    steps.append(step)


class _Walk:
    """One walk over one document. The hot loop is :meth:`node`; errors learn their path
    on the way out (see :func:`_at`), so a passing walk pays nothing for it."""

    __slots__ = ("budget", "collect", "compiler", "limits", "max_depth", "max_string", "path")

    def __init__(self, registry: ContextRegistry, collect: list[PropertyUse] | None = None) -> None:
        self.compiler = registry._compiler
        self.limits = registry.limits
        self.max_depth = registry.limits.max_depth
        self.max_string = registry.limits.max_string
        self.budget = registry.limits.max_values
        self.collect = collect
        self.path: list[str | int] = []

    def spend(self, count: int) -> None:
        self.budget -= count
        if self.budget < 0:
            raise LimitExceeded("the document has too many values")

    def node(self, ctx: _Ctx, term: _Term | None, node: Mapping[Any, Any], depth: int) -> None:
        """Walk a node object reached through ``term`` (None: the top-level credential)."""
        if depth > self.max_depth:
            raise LimitExceeded("the document nests too deeply")
        self.budget -= len(node)
        if self.budget < 0:
            raise LimitExceeded("the document has too many values")
        if ctx.previous is not None:
            ctx = ctx.previous  # type-scoped contexts do not reach nested node objects
        if term is not None and term.scoped is not _NO_SCOPE:
            scoped = ctx.scoped_memo.get(term)
            if scoped is None:
                scoped = self.compiler.apply(ctx, term.scoped, override_protected=True)
                if len(ctx.scoped_memo) < _MEMO_CAP:
                    ctx.scoped_memo[term] = scoped
            ctx = scoped
        terms = ctx.terms
        for type_key in ctx._type_keys or ctx.find_type_keys():
            if type_key in node:
                ctx = self.typed(ctx, type_key, node[type_key])
                terms = ctx.terms
        fast = self.collect is None
        key: Any = None
        try:
            for key, value in node.items():
                tdef = terms.get(key)
                if tdef is None:
                    self.unknown_key(key, value, depth)
                    continue
                if fast:  # the common shapes: one call, or straight into a nested node
                    check = tdef.fast
                    if check is not None and check(value):
                        continue
                    if tdef.walk == _W_NODE and value.__class__ is dict:
                        self.node(ctx, tdef, value, depth + 1)
                        continue
                walk = tdef.walk
                if self.collect is not None and walk not in (_W_REJECT, _W_KW_ID, _W_KW_TYPE):
                    self.collect.append(
                        PropertyUse((*self.path, key), tdef.iri or "", tdef.datatype)
                    )
                if walk == _W_KW_TYPE:
                    continue  # checked by typed()
                if walk == _W_KW_ID:
                    self.identifier(value)
                elif walk == _W_REJECT:
                    raise UndefinedTerm("the property is not defined by a trusted context")
                else:
                    if self.collect is not None:
                        self.path.append(key)
                    self.value(ctx, tdef, value, depth + 1)
                    if self.collect is not None:
                        self.path.pop()
        except VCError as exc:
            _at(exc, key)
            raise

    def unknown_key(self, key: Any, value: object, depth: int) -> None:
        if key == "@type" or (key == "@context" and depth == 1):
            return  # checked by typed() / by _context_urls()
        if key == "@id":
            self.identifier(value)
        elif key == "@context":
            raise InvalidContext("embedded contexts are not accepted")
        else:
            raise UndefinedTerm("the property is not defined by a trusted context")

    def typed(self, ctx: _Ctx, key: str, value: object) -> _Ctx:
        """Check the node's types; apply their type-scoped contexts (sorted, non-propagating)."""
        terms = ctx.terms
        values: list[Any] = value if value.__class__ is list else [value]
        scoped: set[str] = set()
        try:
            for item in values:
                if item.__class__ is not str:
                    raise TypeMismatch("a type must be a string")
                type_def = terms.get(item)
                if type_def is None or type_def.iri is None or type_def.keyword is not None:
                    raise UndefinedTerm(f"the type {item[:100]!r} is not defined")
                if type_def.scoped is not _NO_SCOPE:
                    scoped.add(item)
        except VCError as exc:
            _at(exc, key)
            raise
        if not scoped:
            return ctx
        memo_key = tuple(sorted(scoped))
        result = ctx.types_memo.get(memo_key)
        if result is None:
            result = ctx
            for type_name in memo_key:
                result = self.compiler.apply(result, terms[type_name].scoped, propagate=False)
            if len(ctx.types_memo) < _MEMO_CAP:
                ctx.types_memo[memo_key] = result
        return result

    def identifier(self, value: object) -> None:
        if not _is_iri(value):
            raise TypeMismatch("an identifier must be an absolute IRI")
        if len(value) > self.max_string:  # type: ignore[arg-type]
            raise LimitExceeded("a string is too long")

    def value(self, ctx: _Ctx, tdef: _Term, value: object, depth: int) -> None:
        """Any value of ``tdef`` (the general path, including arrays and every error)."""
        cls = value.__class__
        if cls is list:
            if depth > self.max_depth:
                raise LimitExceeded("the document nests too deeply")
            items: list[Any] = value  # type: ignore[assignment]
            self.spend(len(items))
            index = 0
            try:
                for index, item in enumerate(items):
                    if self.collect is not None:
                        self.path.append(index)
                    self.value(ctx, tdef, item, depth + 1)
                    if self.collect is not None:
                        self.path.pop()
            except VCError as exc:
                _at(exc, index)
                raise
            return
        walk = tdef.walk
        kind = tdef.kind
        if cls is dict:
            if kind == _JSON:
                self.json_literal(value, depth)
            elif walk == _W_STRING or walk == _W_LITERAL or kind == _VOCAB:
                raise TypeMismatch(f"expected a literal of type {tdef.datatype}, not an object")
            else:
                self.node(ctx, tdef, value, depth)  # type: ignore[arg-type]
            return
        if value is None:
            raise TypeMismatch("null is not a value")
        if cls is str and len(value) > self.max_string:  # type: ignore[arg-type]
            raise LimitExceeded("a string is too long")
        if walk == _W_STRING or walk == _W_LITERAL:
            if not tdef.check(value):  # type: ignore[misc]
                raise TypeMismatch(f"the value is not a valid {tdef.datatype}")
        elif walk == _W_NODE:
            raise TypeMismatch("the property needs an object")
        elif kind == _ID:
            self.identifier(value)
        elif kind == _UNTYPED:
            if not (cls is str or cls is bool or cls is int or _is_number(value)):
                raise TypeMismatch("the value is not a JSON-LD literal")
        elif kind == _VOCAB:
            if cls is not str:
                raise TypeMismatch("the value must be a string")
        else:  # _JSON
            self.json_literal(value, depth)

    def json_literal(self, value: object, depth: int) -> None:
        """An ``@json`` value is opaque to JSON-LD, but still bounded."""
        stack: list[tuple[object, int]] = [(value, depth)]
        while stack:
            item, level = stack.pop()
            self.spend(1)
            if level > self.max_depth:
                raise LimitExceeded("the document nests too deeply")
            if isinstance(item, dict):
                stack.extend((v, level + 1) for v in item.values())
            elif isinstance(item, list):
                stack.extend((v, level + 1) for v in item)
            elif isinstance(item, str) and len(item) > self.max_string:
                raise LimitExceeded("a string is too long")
            elif isinstance(item, float) and not math.isfinite(item):
                raise TypeMismatch("a number is not finite")


def _context_urls(document: Mapping[str, Any], registry: ContextRegistry) -> tuple[str, ...]:
    """The top-level ``@context``, held to VCDM 2.0 §4.3 plus our allow-list."""
    if "@context" not in document:
        raise InvalidContext("the credential has no @context")
    value = document["@context"]
    if value.__class__ is list and len(value) <= registry.limits.max_contexts:
        try:
            known = tuple(value)
            if known in registry._compiled:  # validated when it was compiled
                return known
        except TypeError:  # an unhashable item (an inline context): refused below
            pass
    if not isinstance(value, list) or not value:
        raise InvalidContext("@context must be a non-empty array")
    if len(value) > registry.limits.max_contexts:
        raise LimitExceeded("@context lists too many contexts")
    for item in value:
        if not isinstance(item, str):
            raise UnknownContext("inline context objects are not accepted")
        registry._entry(item)  # UnknownContext unless allow-listed
    if value[0] != CREDENTIALS_V2_URL:
        raise InvalidContext(f"the first @context must be {CREDENTIALS_V2_URL}")
    if len(set(value)) != len(value):
        raise InvalidContext("@context lists a context twice")
    return tuple(value)


def check_ld(
    document: Mapping[str, Any],
    *,
    registry: ContextRegistry | None = None,
) -> None:
    """Check a disclosed VCDM 2.0 ``ld`` object against the trusted contexts.

    Raises :class:`vc.errors.UnknownContext`, :class:`InvalidContext`,
    :class:`vc.errors.UndefinedTerm`, :class:`vc.errors.TypeMismatch`,
    :class:`vc.errors.LimitExceeded`, :class:`NotACredential` or
    :class:`vc.errors.MissingClaim`; returns None when every property is defined.
    """
    _walk(document, registry, None)


def explain(
    document: Mapping[str, Any], *, registry: ContextRegistry | None = None
) -> list[PropertyUse]:
    """Run :func:`check_ld` and report, for every property, the IRI and @type it resolved to."""
    uses: list[PropertyUse] = []
    _walk(document, registry, uses)
    return uses


def _walk(
    document: Mapping[str, Any],
    registry: ContextRegistry | None,
    collect: list[PropertyUse] | None,
) -> None:
    reg = registry if registry is not None else default_registry()
    if not isinstance(document, Mapping):
        raise JsonLdError("the ld claim must be a JSON object")
    ctx = reg._compile(_context_urls(document, reg))
    types = document.get("type")
    type_term = ctx.terms.get("type")
    if (
        type_term is None
        or type_term.keyword != "@type"
        or not (types == _VC_TYPE or (isinstance(types, list) and _VC_TYPE in types))
    ):
        raise NotACredential("type must include VerifiableCredential")
    for required in ("issuer", "credentialSubject"):
        if required not in document:
            raise MissingClaim(f"the credential has no {required}")
    try:
        _Walk(reg, collect).node(ctx, None, document, 1)
    except VCError as exc:
        steps: list[str | int] = getattr(exc, _PATH_ATTR, [])
        where = ".".join(str(step)[:100] for step in reversed(steps)) or "(root)"
        exc.message = f"{exc.message} (at {where})"
        exc.args = (exc.message,)
        raise
    _check_vcdm_values(document)


def _check_vcdm_values(document: Mapping[str, Any]) -> None:
    """VCDM 2.0 rules a term table cannot express (the walk has checked the types)."""
    issuer = document["issuer"]
    if isinstance(issuer, dict) and "id" not in issuer:
        raise TypeMismatch("an issuer object needs an id")
    if not isinstance(issuer, str | dict):
        raise TypeMismatch("issuer must be a URL or an object with an id")
    subject = document["credentialSubject"]
    subjects = subject if isinstance(subject, list) else [subject]
    if not subjects or not all(isinstance(s, dict) for s in subjects):
        raise TypeMismatch("credentialSubject must be an object or a set of objects")
    valid_from = parse_date_time_stamp(document.get("validFrom"))
    valid_until = parse_date_time_stamp(document.get("validUntil"))
    if valid_from is not None and valid_until is not None and valid_from > valid_until:
        raise CredentialError("validFrom is later than validUntil", code="invalid_validity")


# --- the reference processor ------------------------------------------------------------------


def _reject_embedded_contexts(value: object, depth: int, limits: JsonLdLimits) -> None:
    stack: list[tuple[object, int]] = [(value, depth)]
    budget = limits.max_values
    while stack:
        item, level = stack.pop()
        budget -= 1
        if budget < 0:
            raise LimitExceeded("the document has too many values")
        if level > limits.max_depth:
            raise LimitExceeded("the document nests too deeply")
        if isinstance(item, dict):
            if "@context" in item:
                raise InvalidContext("embedded contexts are not accepted")
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)


def expand(
    document: Mapping[str, Any],
    *,
    registry: ContextRegistry | None = None,
    strict: bool = True,
) -> list[dict[str, Any]]:
    """JSON-LD expansion of ``document`` by pyld, with the offline allow-listed loader only.

    A plain JSON-LD processor silently *drops* a property no context defines (credentials
    v2 has no ``@vocab``), keeps an undefined type as a relative IRI, and maps words under
    a catch-all vocabulary. With ``strict`` (the default) each of those is
    :class:`vc.errors.UndefinedTerm` instead, so what is signed cannot quietly mean nothing.
    """
    from pyld import jsonld as pyld_jsonld
    from pyld.context_resolver import ContextResolver

    reg = registry if registry is not None else default_registry()
    if not isinstance(document, Mapping):
        raise JsonLdError("the document must be a JSON object")
    _context_urls(document, reg)
    body = {k: v for k, v in document.items() if k != "@context"}
    _reject_embedded_contexts(body, 1, reg.limits)
    try:
        copied = json.loads(json.dumps(document, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise JsonLdError("the document is not plain JSON") from exc
    loader = reg.load_document
    options = {
        "documentLoader": loader,
        "contextResolver": ContextResolver(reg._pyld_cache, loader),
        "base": _RELATIVE_BASE,
    }
    dropped: list[str | None] = []
    try:
        processor = pyld_jsonld.JsonLdProcessor(on_property_dropped=dropped.append)
    except TypeError:  # pyld < 3 reports no dropped properties: strict mode cannot work
        if strict:
            raise JsonLdError("strict expansion needs pyld >= 3") from None
        processor = pyld_jsonld.JsonLdProcessor()
    try:
        expanded = processor.expand(copied, options)
    except SelfcarryError:
        raise
    except pyld_jsonld.JsonLdError as exc:
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, JsonLdError):
                raise cause from exc
            cause = cause.__cause__
        raise JsonLdError(f"JSON-LD expansion failed: {getattr(exc, 'code', exc)}") from exc
    if not isinstance(expanded, list):
        raise JsonLdError("JSON-LD expansion returned no document")
    if strict:
        if dropped:
            raise UndefinedTerm(f"JSON-LD drops undefined properties: {dropped[:5]}")
        _refuse_undefined_expansion(expanded)
    return expanded


#: what relative references resolve against: a reserved name (RFC 2606) we can recognise
_RELATIVE_BASE: Final = "https://relative-reference.invalid/"


def _refuse_undefined_expansion(expanded: object) -> None:
    stack: list[object] = [expanded]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict) and "@value" not in item:
            for key, value in item.items():
                if key == "@type":
                    for type_iri in value:
                        if type_iri.startswith((_RELATIVE_BASE, *_UNDEFINED_NAMESPACES)):
                            raise UndefinedTerm(f"the type {type_iri!r} is not defined")
                elif key == "@id" and value.startswith(_RELATIVE_BASE):
                    raise TypeMismatch(f"the identifier {value!r} is not an absolute IRI")
                elif key.startswith(_UNDEFINED_NAMESPACES):
                    raise UndefinedTerm(f"{key} is only defined by a catch-all vocabulary")
                if not key.startswith("@") or key in ("@graph", "@list", "@set", "@included"):
                    stack.append(value)
