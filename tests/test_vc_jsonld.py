"""vc.jsonld: the allow-listed offline loader and the fast term check.

The expectations come from VCDM 2.0 §4 (contexts, types, issuer, validity) and from
the credentials v2 context itself (protected, type-scoped terms and its catch-all
``@vocab``), not from our output.
"""

from __future__ import annotations

import copy
import hashlib
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.test_vc_credit_report_fixtures import full_ld
from vc.contexts import read_bundled
from vc.errors import LimitExceeded, MissingClaim, TypeMismatch, UndefinedTerm, UnknownContext
from vc.jsonld import (
    CREDENTIALS_V2_SHA256,
    CREDENTIALS_V2_URL,
    CREDIT_REPORT_CONTEXT_SHA256,
    CREDIT_REPORT_CONTEXT_URL,
    ContextIntegrityError,
    ContextRegistry,
    JsonLdLimits,
    check_ld,
    default_registry,
    explain,
)

VECTORS = Path(__file__).parent / "vectors" / "w3c" / "contexts"
V2 = CREDENTIALS_V2_URL
CR = CREDIT_REPORT_CONTEXT_URL
PUBLISHED_V2_SHA256 = "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection or resolve a name fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the JSON-LD layer tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def minimal_vc(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "issuer": "https://issuer.example",
        "credentialSubject": {"id": "did:example:subject", "name": "A subject"},
    }
    doc.update(extra)
    return doc


def expect(code: str, document: Any, registry: ContextRegistry | None = None) -> None:
    with pytest.raises(Exception) as info:
        check_ld(document, registry=registry)
    assert getattr(info.value, "code", None) == code, repr(info.value)


# --- the bundled contexts -----------------------------------------------------------------


def test_bundled_v2_is_the_published_w3c_context() -> None:
    bundled = read_bundled("credentials-v2.jsonld")
    assert hashlib.sha256(bundled).hexdigest() == PUBLISHED_V2_SHA256 == CREDENTIALS_V2_SHA256
    assert bundled == (VECTORS / "credentials-v2.jsonld").read_bytes()


def test_bundled_credit_report_context_matches_its_pin() -> None:
    bundled = read_bundled("credit-report-v1.jsonld")
    assert hashlib.sha256(bundled).hexdigest() == CREDIT_REPORT_CONTEXT_SHA256
    context = json.loads(bundled)["@context"]
    assert context["@version"] == 1.1
    assert context["@protected"] is True


def test_default_allow_list_is_exactly_the_two_bundled_contexts() -> None:
    registry = default_registry()
    assert set(registry.urls) == {V2, CR}
    assert registry.sha256(V2) == PUBLISHED_V2_SHA256


def test_tampered_context_is_refused_at_load() -> None:
    tampered = read_bundled("credentials-v2.jsonld").replace(b"schema.org", b"evil.example")
    registry = ContextRegistry()
    with pytest.raises(ContextIntegrityError) as info:
        registry.add(V2, tampered, CREDENTIALS_V2_SHA256)
    assert info.value.code == "context_integrity"
    assert V2 not in registry


def test_a_url_cannot_be_repinned_to_other_bytes() -> None:
    registry = ContextRegistry.default()
    other = b'{"@context": {"x": "https://example.com/x"}}'
    with pytest.raises(ContextIntegrityError):
        registry.add(V2, other, hashlib.sha256(other).hexdigest())
    registry.add(V2, read_bundled("credentials-v2.jsonld"), CREDENTIALS_V2_SHA256)  # same: ok


# --- the loader never fetches ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://www.w3.org/2018/credentials/v1",
        "https://w3id.org/citizenship/v3",
        "https://www.w3.org/ns/credentials/v2/",  # not byte-identical
        "http://www.w3.org/ns/credentials/v2",
        "https://evil.example/context.jsonld",
        "file:///etc/passwd",
        "",
    ],
)
def test_loader_refuses_every_url_not_on_the_allow_list(no_network: None, url: str) -> None:
    with pytest.raises(UnknownContext) as info:
        default_registry().load_document(url, {})
    assert info.value.code == "unknown_context"


def test_loader_serves_allow_listed_documents_from_memory(no_network: None) -> None:
    registry = default_registry()
    remote = registry.load_document(V2, {})
    assert remote["documentUrl"] == V2
    assert remote["document"] == json.loads(read_bundled("credentials-v2.jsonld"))
    remote["document"]["@context"]["name"] = "https://evil.example/name"  # a copy: harmless
    check_ld(minimal_vc())


def test_unknown_context_in_a_credential_is_refused_without_fetching(no_network: None) -> None:
    expect("unknown_context", minimal_vc(**{"@context": [V2, "https://w3id.org/citizenship/v3"]}))


# --- valid documents --------------------------------------------------------------------------


def test_full_credit_report_passes() -> None:
    check_ld(full_ld())


def test_minimal_vcdm_credential_passes() -> None:
    check_ld(minimal_vc())


def test_issuer_object_with_id_passes() -> None:
    check_ld(minimal_vc(issuer={"id": "https://issuer.example", "name": "Issuer"}))


def test_type_scoped_context_of_a_nested_node_applies() -> None:
    # statusPurpose & co. exist only in BitstringStatusListEntry's type-scoped context
    status = {
        "id": "https://issuer.example/status/3#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": "https://issuer.example/status/3",
    }
    check_ld(minimal_vc(credentialStatus=status))
    del status["type"]
    expect("undefined_term", minimal_vc(credentialStatus=status))


def test_credential_subject_may_be_a_set_of_objects() -> None:
    check_ld(minimal_vc(credentialSubject=[{"name": "a"}, {"name": "b"}]))


def test_every_property_of_the_full_report_resolves_to_a_defined_iri() -> None:
    uses = explain(full_ld())
    assert uses
    assert not [u for u in uses if "issuer-dependent" in u.iri or not u.iri.startswith("https://")]
    by_path = {u.path: u for u in uses}
    assert by_path[("credentialSubject", "score", "value")].datatype.endswith("#integer")
    assert by_path[("validFrom",)].datatype == "http://www.w3.org/2001/XMLSchema#dateTime"
    assert by_path[("credentialSubject", "enquiries", 0, "date")].iri.endswith("#enquiryDate")
    assert by_path[("credentialSubject", "publicRecords", 0, "date")].iri.endswith("#recordDate")


# --- @context rules (VCDM 2.0 §4.3) + allow-list ------------------------------------------------


def test_inline_context_object_is_refused() -> None:
    inline = {"@vocab": "https://evil.example/#"}
    expect("unknown_context", minimal_vc(**{"@context": [V2, inline]}))


def test_context_order_must_start_with_credentials_v2() -> None:
    expect("invalid_context", minimal_vc(**{"@context": [CR, V2]}))


@pytest.mark.parametrize(
    "context",
    [V2, [], None, {"@context": V2}, [V2, V2]],
    ids=["string", "empty", "null", "obj", "dup"],
)
def test_context_must_be_a_list_of_distinct_urls(context: Any) -> None:
    expect("invalid_context", minimal_vc(**{"@context": context}))


def test_missing_context_is_refused() -> None:
    doc = minimal_vc()
    del doc["@context"]
    expect("invalid_context", doc)


def test_embedded_context_is_refused() -> None:
    doc = full_ld()
    doc["credentialSubject"]["@context"] = {"foo": "https://evil.example/foo"}
    expect("invalid_context", doc)


# --- undefined terms: never fall through to @vocab ---------------------------------------------


def test_undefined_property_at_top_level() -> None:
    doc = full_ld()
    doc["creditScore"] = 4000
    expect("undefined_term", doc)


def test_undefined_property_in_credential_subject() -> None:
    doc = full_ld()
    doc["credentialSubject"]["bankruptcy"] = False
    expect("undefined_term", doc)


def test_undefined_property_inside_an_account() -> None:
    doc = full_ld()
    doc["credentialSubject"]["accounts"][2]["interestRate"] = 0.05
    expect("undefined_term", doc)


def test_undefined_property_inside_an_assessment_and_a_name() -> None:
    doc = full_ld()
    doc["credentialSubject"]["assessment"]["approved"] = True
    expect("undefined_term", doc)
    doc = full_ld()
    doc["credentialSubject"]["identity"]["nameEn"]["middleName"] = "X"
    expect("undefined_term", doc)


def test_type_scoped_terms_do_not_propagate_into_the_subject() -> None:
    # issuer/validFrom are defined by VerifiableCredential's type-scoped context only
    for term, value in (("issuer", "https://x.example"), ("validFrom", "2026-01-01T00:00:00Z")):
        doc = full_ld()
        doc["credentialSubject"][term] = value
        expect("undefined_term", doc)


def test_property_scoped_terms_stay_in_their_group() -> None:
    doc = full_ld()
    doc["credentialSubject"]["accounts"][0]["date"] = "2026-01-01"  # an enquiry term
    expect("undefined_term", doc)
    doc = full_ld()
    doc["credentialSubject"]["score"]["hkid"] = "A123456(3)"  # an identity term
    expect("undefined_term", doc)


@pytest.mark.parametrize(
    "key", ["https://example.com/foo", "cred:foo", "@graph", "@included", "", "_sd_alg2"]
)
def test_iris_compact_iris_and_keywords_as_keys_are_refused(key: str) -> None:
    doc = full_ld()
    doc["credentialSubject"][key] = "x"
    expect("undefined_term", doc)


def test_undefined_type_is_refused() -> None:
    expect("undefined_term", minimal_vc(type=["VerifiableCredential", "FooCredential"]))


def test_type_must_include_verifiable_credential() -> None:
    expect("not_a_verifiable_credential", minimal_vc(type=["CreditReportCredential"]))
    doc = minimal_vc()
    del doc["type"]
    expect("not_a_verifiable_credential", doc)


def test_non_string_key_is_refused() -> None:
    doc = full_ld()
    doc["credentialSubject"]["score"][7] = "x"
    expect("undefined_term", doc)


def test_integrator_vocab_does_not_define_terms() -> None:
    raw = json.dumps({"@context": {"@vocab": "https://bank.example/vocab#"}}).encode()
    registry = ContextRegistry.default()
    url = "https://bank.example/ctx/v1"
    registry.add(url, raw, hashlib.sha256(raw).hexdigest())
    doc = minimal_vc(**{"@context": [V2, url]})
    check_ld(doc, registry=registry)
    doc["credentialSubject"]["income"] = 1
    expect("undefined_term", doc, registry)


def test_integrator_context_adds_terms() -> None:
    raw = json.dumps(
        {
            "@context": {
                "@protected": True,
                "income": {
                    "@id": "https://bank.example/vocab#income",
                    "@type": "http://www.w3.org/2001/XMLSchema#integer",
                },
            }
        }
    ).encode()
    registry = ContextRegistry.default()
    url = "https://bank.example/ctx/v1"
    registry.add(url, raw, hashlib.sha256(raw).hexdigest())
    doc = minimal_vc(**{"@context": [V2, url]})
    doc["credentialSubject"]["income"] = 50000
    check_ld(doc, registry=registry)
    expect("unknown_context", doc)  # not on the default allow-list
    doc["credentialSubject"]["income"] = "50000"
    expect("jsonld_type_mismatch", doc, registry)


def test_integrator_context_cannot_redefine_protected_terms() -> None:
    raw = json.dumps({"@context": {"name": "https://evil.example/name"}}).encode()
    registry = ContextRegistry.default()
    url = "https://evil.example/ctx"
    registry.add(url, raw, hashlib.sha256(raw).hexdigest())
    expect("invalid_context", minimal_vc(**{"@context": [V2, url]}), registry)


# --- value types -----------------------------------------------------------------------------


def _set(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    target = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return doc


CS = "credentialSubject"
BAD_VALUES = [
    ((CS, "score", "value"), "3468", "string for an integer"),
    ((CS, "score", "value"), True, "bool for an integer"),
    ((CS, "score", "value"), 3468.0, "float for an integer"),
    ((CS, "score", "value"), None, "null"),
    ((CS, "score", "value"), {"@value": 3468}, "value object"),
    ((CS, "assessment", "lateMonths24m"), -1, "negative for nonNegativeInteger"),
    ((CS, "assessment", "currentlyPastDue"), "false", "string for a boolean"),
    ((CS, "assessment", "currentlyPastDue"), 0, "int for a boolean"),
    ((CS, "assessment", "utilisation"), "0.257", "string for a decimal"),
    ((CS, "assessment", "utilisation"), float("nan"), "NaN"),
    ((CS, "assessment", "utilisation"), False, "bool for a decimal"),
    (("validFrom",), "2026-03-02T02:14:25", "dateTime without timezone"),
    (("validFrom",), "2026-03-02", "date for dateTime"),
    (("validFrom",), "2026-02-30T02:14:25Z", "no such day"),
    (("validFrom",), "2026-03-02T24:00:00Z", "hour 24"),
    (("validFrom",), 1772417665, "number for dateTime"),
    ((CS, "report", "issuedAt"), "2026-03-02 10:14:25+08:00", "space for T"),
    ((CS, "identity", "birthDate"), "1988-02-30", "no such date"),
    ((CS, "identity", "birthDate"), "19880714", "basic format"),
    ((CS, "identity", "hkid"), 123456, "number for a string"),
    ((CS, "identity", "hkid"), {"value": "A123456(3)"}, "object for a string"),
    ((CS, "identity", "nameEn"), "CHAN Tai Man", "string where an object is defined"),
    ((CS, "contact", "addresses", 0, "firstReported"), "2019-13", "no such month"),
    ((CS, "score"), "B", "string for a group"),
    ((CS, "accounts"), ["ACC-1"], "string for an account"),
    (("issuer",), "cra.example.com", "relative issuer"),
    (("issuer",), "_:b0", "blank node issuer"),
    (("issuer",), 42, "number issuer"),
    ((CS,), "did:example:123", "string subject"),
    ((CS,), [], "empty subject set"),
]


@pytest.mark.parametrize(("path", "value", "why"), BAD_VALUES, ids=[b[2] for b in BAD_VALUES])
def test_wrong_value_types_are_refused(path: tuple[Any, ...], value: Any, why: str) -> None:
    expect("jsonld_type_mismatch", _set(full_ld(), path, value))


def test_date_edge_cases() -> None:
    check_ld(_set(full_ld(), (CS, "identity", "birthDate"), "2000-02-29"))  # leap year
    expect("jsonld_type_mismatch", _set(full_ld(), (CS, "identity", "birthDate"), "1900-02-29"))
    check_ld(_set(full_ld(), ("validUntil",), "2026-04-01T02:14:25.123+14:00"))
    expect("jsonld_type_mismatch", _set(full_ld(), ("validUntil",), "2026-04-01T02:14:25+15:00"))


def test_error_messages_name_the_path() -> None:
    doc = full_ld()
    doc["credentialSubject"]["accounts"][2]["interestRate"] = 0.05
    with pytest.raises(UndefinedTerm) as info:
        check_ld(doc)
    assert "credentialSubject.accounts.2.interestRate" in info.value.message


def test_vcdm_required_properties() -> None:
    for prop in ("issuer", "credentialSubject"):
        doc = full_ld()
        del doc[prop]
        with pytest.raises(MissingClaim):
            check_ld(doc)
    expect("jsonld_type_mismatch", minimal_vc(issuer={"name": "no id"}))


def test_valid_from_must_not_follow_valid_until() -> None:
    doc = _set(full_ld(), ("validFrom",), "2026-05-01T00:00:00Z")
    expect("invalid_validity", doc)


def test_not_an_object() -> None:
    expect("invalid_jsonld", [full_ld()])
    expect("invalid_jsonld", "{}")


# --- limits ----------------------------------------------------------------------------------


def test_depth_limit() -> None:
    nested: dict[str, Any] = {"name": "leaf"}
    for _ in range(40):
        nested = {"name": nested}
    with pytest.raises(LimitExceeded):
        check_ld(minimal_vc(credentialSubject=nested))
    shallow: dict[str, Any] = {"name": "leaf"}
    for _ in range(20):
        shallow = {"name": shallow}
    check_ld(minimal_vc(credentialSubject=shallow))


def test_depth_limit_on_nested_arrays() -> None:
    nested: Any = "leaf"
    for _ in range(40):
        nested = [nested]
    expect("limit_exceeded", minimal_vc(credentialSubject={"name": nested}))


def test_depth_limit_inside_json_literals() -> None:
    nested: Any = {}
    for _ in range(40):
        nested = {"a": nested}
    expect("limit_exceeded", minimal_vc(credentialSubject={"cnf": {"jwk": nested}}))


def test_value_count_limit() -> None:
    many = minimal_vc(credentialSubject={"name": ["x"] * 30_000})
    expect("limit_exceeded", many)
    registry = ContextRegistry.default()
    small = ContextRegistry(limits=JsonLdLimits(max_values=50))
    for url in registry.urls:
        small.add(url, read_bundled(_filename(url)), registry.sha256(url))
    expect("limit_exceeded", full_ld(), small)


def test_string_length_limit() -> None:
    expect("limit_exceeded", _set(full_ld(), (CS, "identity", "hkid"), "A" * 20_000))


def test_context_count_limit() -> None:
    expect(
        "limit_exceeded",
        minimal_vc(**{"@context": [V2] + [f"https://x.example/{i}" for i in range(9)]}),
    )


def test_cyclic_structure_is_bounded() -> None:
    loop: dict[str, Any] = {"name": "x"}
    loop["description"] = loop
    with pytest.raises(LimitExceeded):
        check_ld(minimal_vc(credentialSubject=loop))


def test_check_does_not_modify_the_document() -> None:
    doc = full_ld()
    before = copy.deepcopy(doc)
    check_ld(doc)
    assert doc == before


def test_errors_are_typed() -> None:
    with pytest.raises(TypeMismatch):
        check_ld(_set(full_ld(), (CS, "score", "value"), "1"))


def _filename(url: str) -> str:
    from vc.contexts import BUNDLED

    return BUNDLED[url][0]


def test_openid4vp_vcld_example_uses_a_context_we_do_not_serve(no_network: None) -> None:
    """The OpenID4VP SD-JWT VCLD example (read in place: it carries no licence to copy)."""
    example = (
        Path(__file__).resolve().parents[1]
        / ".."
        / "shared"
        / "vectors"
        / "sd-jwt"
        / "openid4vp-sd_jwt_vcld"
        / "01"
        / "verified_contents.json"
    )
    if not example.is_file():
        pytest.skip(f"OpenID4VP example not found at {example}")
    ld = json.loads(example.read_text(encoding="utf-8"))["ld"]
    assert ld["@context"][0] == V2
    expect("unknown_context", ld)  # https://w3id.org/citizenship/v3 is not allow-listed
