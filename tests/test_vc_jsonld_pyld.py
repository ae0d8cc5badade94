"""The fast check agrees with pyld's full JSON-LD expansion (offline loader only).

pyld is the reference. A property no trusted context defines is, for a JSON-LD
processor, either silently dropped (the published credentials v2 context has no
``@vocab``) or mapped under a catch-all vocabulary; an undefined type stays a relative
IRI. ``expand(strict=True)`` turns each of those into ``undefined_term``, and check_ld
must refuse exactly the same documents. On documents we issue, both must find the
same IRIs and the same literal datatypes.
"""

from __future__ import annotations

import copy
import random
import socket
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_vc_credit_report_fixtures import full_ld, marked_ld
from vc.credit_report import DISCLOSURE_UNITS
from vc.errors import SelfcarryError, UnknownContext
from vc.jsonld import CREDENTIALS_V2_URL, ISSUER_DEPENDENT_VOCAB, check_ld, expand, explain
from vc.sdjwt import SD


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("JSON-LD processing tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def expanded_uses(expanded: Any) -> set[tuple[str, str | None]]:
    """(property IRI, literal datatype or None) for every property in pyld's output."""
    found: set[tuple[str, str | None]] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for key, values in node.items():
                if key.startswith("@"):
                    if key in ("@graph", "@list", "@set"):
                        walk(values)
                    continue
                if not values:
                    found.add((key, None))
                for value in values:
                    if isinstance(value, dict) and "@value" in value:
                        found.add((key, value.get("@type")))
                    else:
                        found.add((key, None))
                        walk(value)

    walk(expanded)
    return found


def fast_uses(document: dict[str, Any]) -> set[tuple[str, str | None]]:
    return {(u.iri, u.datatype) for u in explain(document)}


def undefined_in(expanded: Any) -> set[str]:
    return {iri for iri, _ in expanded_uses(expanded) if iri.startswith(ISSUER_DEPENDENT_VOCAB)}


def verdict(call: Any, document: dict[str, Any]) -> str | None:
    try:
        call(document)
    except SelfcarryError as exc:  # anything else is a bug: let it fail the test
        return exc.code
    return None


def types_in(expanded: Any) -> set[str]:
    out: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if "@value" in node:
                return
            out.update(node.get("@type", []))
            for key, value in node.items():
                if not key.startswith("@") or key in ("@graph", "@list", "@set"):
                    walk(value)

    walk(expanded)
    return out


def test_full_report_same_iris_and_datatypes_as_pyld() -> None:
    doc = full_ld()
    expanded = expand(doc)
    assert undefined_in(expanded) == set()
    assert expanded_uses(expanded) == fast_uses(doc)
    assert types_in(expanded) == {
        "https://www.w3.org/2018/credentials#VerifiableCredential",
        "https://w3id.org/selfcarry/credit-report#CreditReportCredential",
    }


def _drop_units(value: Any, path: tuple[Any, ...], drop: set[tuple[Any, ...]]) -> Any:
    """What a verifier sees when the holder withholds the units in ``drop``."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = key.value if isinstance(key, SD) else key
            child = (*path, name)
            if isinstance(key, SD) and child in drop:
                continue
            out[name] = _drop_units(item, child, drop)
        return out
    if isinstance(value, list):
        child = (*path, None)
        kept = []
        for item in value:
            if isinstance(item, SD):
                if child in drop:
                    continue
                item = item.value
            kept.append(_drop_units(item, child, drop))
        return kept
    return value


@given(st.sets(st.sampled_from(DISCLOSURE_UNITS)))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_disclosed_subset_agrees_with_pyld(drop: set[tuple[Any, ...]]) -> None:
    doc = _drop_units(marked_ld(), (), drop)
    check_ld(doc)
    expanded = expand(doc)
    assert undefined_in(expanded) == set()
    assert expanded_uses(expanded) == fast_uses(doc)


MUTATIONS = [
    ((), "creditScore"),
    (("credentialSubject",), "bankruptcy"),
    (("credentialSubject",), "issuer"),  # only defined inside VerifiableCredential's scope
    (("credentialSubject",), "validFrom"),
    (("credentialSubject", "accounts", 2), "interestRate"),
    (("credentialSubject", "accounts", 0), "date"),  # an enquiry term
    (("credentialSubject", "assessment"), "approved"),
    (("credentialSubject", "score"), "hkid"),  # an identity term
    (("credentialSubject", "identity", "nameEn"), "middleName"),
    (("credentialSubject", "enquiries", 1), "outcome"),
    (("credentialSubject", "contact", "phones", 0), "address"),  # an addresses term
]


@pytest.mark.parametrize(("where", "key"), MUTATIONS)
def test_mutations_caught_by_both(where: tuple[Any, ...], key: str) -> None:
    doc = full_ld()
    target: Any = doc
    for step in where:
        target = target[step]
    target[key] = "x"
    # a plain processor loses the claim without a word: the expansion is unchanged
    assert expanded_uses(expand(doc, strict=False)) == expanded_uses(expand(full_ld()))
    assert verdict(expand, doc) == "undefined_term"
    assert verdict(check_ld, doc) == "undefined_term"


def test_undefined_type_caught_by_both() -> None:
    doc = full_ld()
    doc["type"] = ["VerifiableCredential", "LoanApproval"]
    # a plain processor resolves it against the document base: an IRI nobody defined
    assert any(t.endswith("/LoanApproval") for t in types_in(expand(doc, strict=False)))
    assert verdict(expand, doc) == "undefined_term"
    assert verdict(check_ld, doc) == "undefined_term"


_NAMES = st.sampled_from(
    [
        "name",
        "description",
        "id",
        "type",
        "value",
        "grade",
        "date",
        "hkid",
        "issuer",
        "validFrom",
        "accounts",
        "score",
        "status",
        "amount",
        "foo",
        "creditLimit",
        "_sd",
        "reference",
        "purpose",
        "address",
        "number",
        "cnf",
        "proof",
        "statusPurpose",
    ]
) | st.text(
    alphabet=st.characters(codec="ascii", categories=["L", "N"], include_characters="_-."),
    max_size=12,
)


def _node_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        out.append(path)
        for key, item in value.items():
            if key != "@context":
                out.extend(_node_paths(item, (*path, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.extend(_node_paths(item, (*path, i)))
    return out


@given(name=_NAMES, seed=st.integers(0, 10_000))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_key_insertions_agree(name: str, seed: int) -> None:
    """check_ld says undefined_term exactly when the reference processor finds the key undefined."""
    doc = full_ld()
    where = random.Random(seed).choice(_node_paths(doc))
    target: Any = doc
    for step in where:
        target = target[step]
    if name in target:
        return
    target[name] = "x"
    fast, reference = verdict(check_ld, doc), verdict(expand, doc)
    assert (fast == "undefined_term") == (reference == "undefined_term"), (where, name, fast)


def test_expand_refuses_unknown_and_inline_contexts() -> None:
    doc = full_ld()
    doc["@context"] = [CREDENTIALS_V2_URL, "https://w3id.org/citizenship/v3"]
    with pytest.raises(UnknownContext):
        expand(doc)
    doc = full_ld()
    doc["credentialSubject"]["@context"] = {"x": "https://evil.example/x"}
    with pytest.raises(Exception) as info:
        expand(doc)
    assert getattr(info.value, "code", None) == "invalid_context"


def test_expand_leaves_the_input_alone() -> None:
    doc = full_ld()
    before = copy.deepcopy(doc)
    expand(doc)
    assert doc == before
