"""The disclosure plan: code, docs, Type Metadata and JSON Schema say the same thing.

And it works end to end with the SD-JWT reference implementation (sd-jwt-python,
a dev dependency): a resident can show the grade without the score, "no material
default" without any account, the name without the HKID, one account of four.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.test_vc_credit_report_fixtures import ISSUER, full_ld, marked_ld
from vc.contexts import read_bundled
from vc.credit_report import (
    DISCLOSURE_UNITS,
    NEVER_DISCLOSABLE,
    VCT,
    Account,
    parse_ld_subject,
)
from vc.jsonld import check_ld
from vc.sdjwt import SD
from vc.type_metadata import integrity, payload_schema, read_bytes, type_metadata

DOCS = Path(__file__).resolve().parents[1] / "docs" / "credit-report-vocabulary.md"
CR_NS = "https://w3id.org/selfcarry/credit-report#"
Path_ = tuple[Any, ...]


def sd_paths(value: Any, path: Path_ = ()) -> set[Path_]:
    """Every claim path (None = array element) that carries an SD marker."""
    found: set[Path_] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            name = key.value if isinstance(key, SD) else key
            child = (*path, name)
            if isinstance(key, SD):
                found.add(child)
            found |= sd_paths(item, child)
    elif isinstance(value, list):
        child = (*path, None)
        for item in value:
            if isinstance(item, SD):
                found.add(child)
                item = item.value
            found |= sd_paths(item, child)
    return found


def docs_rows() -> dict[Path_, tuple[str, str, str]]:
    """Path -> (IRI, type, disclosability) from the tables of the vocabulary document."""
    rows: dict[Path_, tuple[str, str, str]] = {}
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `ld."):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        dotted = cells[0].strip("`")[len("ld.") :]
        path: list[Any] = []
        for part in dotted.split("."):
            if part.endswith("[]"):
                path += [part[:-2], None]
            else:
                path.append(part)
        rows[tuple(path)] = (cells[1].strip("`"), cells[2], cells[4])
    return rows


def context_terms() -> dict[Path_, tuple[str, str | None]]:
    """Path -> (IRI, @type) for every term of the credit-report context, by scoping."""
    import json

    out: dict[Path_, tuple[str, str | None]] = {}

    def walk(ctx: dict[str, Any], prefix: Path_) -> None:
        for term, definition in ctx.items():
            if term.startswith("@") or not isinstance(definition, dict):
                continue
            path = (*prefix, term)
            out[path] = (definition["@id"], definition.get("@type"))
            if "@context" in definition:
                is_array = term in {"addresses", "phones", "accounts", "enquiries", "publicRecords"}
                walk(definition["@context"], (*path, None) if is_array else path)

    walk(json.loads(read_bundled("credit-report-v1.jsonld"))["@context"], ("credentialSubject",))
    return out


# --- the plan in code -------------------------------------------------------------------------


def test_every_disclosure_unit_is_marked_and_nothing_else() -> None:
    assert sd_paths(marked_ld()) == set(DISCLOSURE_UNITS)


def test_the_frame_and_groups_are_never_disclosable() -> None:
    marked = marked_ld()
    for path in NEVER_DISCLOSABLE:
        node: Any = marked
        for step in path:
            assert step in node, path  # a plain key, not an SD marker
            node = node[step]
    for key in ("@context", "type", "issuer", "validFrom", "validUntil"):
        assert key in marked
    assert not set(NEVER_DISCLOSABLE) & set(DISCLOSURE_UNITS)


def test_units_the_product_promises() -> None:
    units = set(DISCLOSURE_UNITS)
    cs = "credentialSubject"
    assert (cs, "score", "grade") in units and (cs, "score", "value") in units
    assert (cs, "score", "scale") in NEVER_DISCLOSABLE  # a grade is read with its scale
    assert (cs, "identity", "nameEn") in units and (cs, "identity", "hkid") in units
    for key in ("noMaterialDefault60m", "currentlyPastDue", "riskGrade", "enquiries3m"):
        assert (cs, "assessment", key) in units
    assert (cs, "accounts", None) in units
    for f in Account.FIELDS:
        assert (cs, "accounts", None, f.ld) in units


# --- the plan in the docs and in the Type Metadata --------------------------------------------


def test_docs_list_exactly_the_disclosure_units() -> None:
    rows = docs_rows()
    separately = {p for p, (_, _, d) in rows.items() if d == "separately"}
    never = {p for p, (_, _, d) in rows.items() if d.startswith("never")}
    assert separately == set(DISCLOSURE_UNITS)
    assert never == set(NEVER_DISCLOSABLE)
    assert {d for _, _, d in rows.values()} == {
        "separately",
        "never (always shown)",
        "with its parent",
    }


def test_docs_name_every_context_term_with_its_iri_and_type() -> None:
    rows = docs_rows()
    terms = context_terms()
    for path, (iri, datatype) in terms.items():
        assert path in rows, path
        doc_iri, doc_type, _ = rows[path]
        assert doc_iri == "cr:" + iri[len(CR_NS) :], path
        if datatype is not None:
            assert doc_type == "xsd:" + datatype.split("#")[1], path
    documented = {
        p for p in rows if p[0] == "credentialSubject" and len(p) > 1 and p[-1] is not None
    }
    assert documented == set(terms)


def test_type_metadata_matches_the_plan() -> None:
    meta = type_metadata()
    assert meta["vct"] == VCT
    assert {d["locale"] for d in meta["display"]} == {"en", "zh-Hant-HK", "zh-Hans"}
    by_path = {tuple(c["path"]): c for c in meta["claims"]}
    assert len(by_path) == len(meta["claims"])
    always = {p[1:] for p, c in by_path.items() if c["sd"] == "always"}
    never = {p[1:] for p, c in by_path.items() if c["sd"] == "never"}
    assert all(p[0] == "ld" for p in by_path)
    assert always == set(DISCLOSURE_UNITS)
    assert set(NEVER_DISCLOSABLE) <= never
    assert always | never == set(docs_rows())
    for claim in meta["claims"]:
        locales = {d["locale"]: d["label"] for d in claim["display"]}
        assert set(locales) == {"en", "zh-Hant-HK", "zh-Hans"} and all(locales.values())


def test_type_metadata_integrity_string() -> None:
    import base64
    import hashlib

    expected = base64.b64encode(hashlib.sha256(read_bytes()).digest()).decode()
    assert integrity() == "sha256-" + expected


# --- JSON Schema of the processed payload -----------------------------------------------------


@pytest.fixture(scope="module")
def validator() -> Any:
    try:
        import jsonschema
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("jsonschema (a dev dependency) is not installed")
        pytest.skip("jsonschema is not installed (pip install jsonschema)")
    schema = payload_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def payload(ld: dict[str, Any]) -> dict[str, Any]:
    return {
        "iss": ISSUER,
        "vct": VCT,
        "iat": 1772417665,
        "exp": 1775009665,
        "cnf": {"jwk": {"kty": "EC", "crv": "P-256", "x": "x", "y": "y"}},
        "status": {"status_list": {"idx": 7, "uri": ISSUER + "/status/1"}},
        "ld": ld,
    }


def withhold(value: Any, drop: set[Path_], path: Path_ = ()) -> Any:
    """The processed payload when the holder withholds the units in ``drop``."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            name = key.value if isinstance(key, SD) else key
            if isinstance(key, SD) and (*path, name) in drop:
                continue
            out[name] = withhold(item, drop, (*path, name))
        return out
    if isinstance(value, list):
        kept = []
        for item in value:
            if isinstance(item, SD):
                if (*path, None) in drop:
                    continue
                item = item.value
            kept.append(withhold(item, drop, (*path, None)))
        return kept
    return value


def test_full_payload_validates(validator: Any) -> None:
    validator.validate(payload(full_ld()))


def test_every_disclosure_subset_validates(validator: Any) -> None:
    marked = marked_ld()
    everything = set(DISCLOSURE_UNITS)
    for drop in [everything, *({u} for u in DISCLOSURE_UNITS), everything - {DISCLOSURE_UNITS[0]}]:
        ld = withhold(marked, drop)
        validator.validate(payload(ld))
        check_ld(ld)
        parse_ld_subject(ld["credentialSubject"])


BAD_PAYLOADS = [
    (("ld", "credentialSubject", "score", "value"), 4001),
    (("ld", "credentialSubject", "score", "grade"), "K"),
    (("ld", "credentialSubject", "score", "grade"), "b"),
    (("ld", "credentialSubject", "score", "scale"), "1000-4000:X"),
    (("ld", "credentialSubject", "score", "rank"), 1),
    (("ld", "credentialSubject", "accounts", 0, "repaymentHistory24m"), "0"),
    (("ld", "credentialSubject", "identity", "birthDate"), "1988-7-14"),
    (("ld", "validFrom"), "2026-03-02T02:14:25"),
    (("ld", "@context"), ["https://w3id.org/selfcarry/credit-report/v1"]),
    (("ld", "type"), ["VerifiableCredential"]),
    (("ld", "issuer"), "http://cra.example.com"),
    (("ld", "extra"), 1),
    (("vct",), "https://example.com/other"),
]


@pytest.mark.parametrize(("path", "value"), BAD_PAYLOADS, ids=[str(b[0]) for b in BAD_PAYLOADS])
def test_schema_refuses_bad_payloads(validator: Any, path: Path_, value: Any) -> None:
    import jsonschema

    doc = payload(full_ld())
    target: Any = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(doc)


def test_schema_requires_the_frame(validator: Any) -> None:
    import jsonschema

    for key in ("@context", "type", "issuer", "validFrom", "validUntil", "credentialSubject"):
        doc = payload(full_ld())
        del doc["ld"][key]
        with pytest.raises(jsonschema.ValidationError):
            validator.validate(doc)


# --- end to end with the SD-JWT reference implementation -------------------------------------


def _to_reference_markers(value: Any) -> Any:
    from sd_jwt.common import SDObj

    if isinstance(value, SD):
        return SDObj(_to_reference_markers(value.value))
    if isinstance(value, dict):
        return {
            (SDObj(k.value) if isinstance(k, SD) else k): _to_reference_markers(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_to_reference_markers(v) for v in value]
    return value


@pytest.fixture(scope="module")
def issued() -> tuple[str, Any, Any]:
    from jwcrypto.jwk import JWK
    from sd_jwt.issuer import SDJWTIssuer

    issuer_key = JWK.generate(kty="EC", crv="P-256")
    holder_key = JWK.generate(kty="EC", crv="P-256")
    claims = {"iss": ISSUER, "vct": VCT, "ld": _to_reference_markers(marked_ld())}
    issuer = SDJWTIssuer(
        claims,
        issuer_key,
        holder_key,
        add_decoy_claims=True,
        extra_header_parameters={"typ": "dc+sd-jwt"},
    )
    return issuer.sd_jwt_issuance, issuer_key, holder_key


def present(issued: tuple[str, Any, Any], selection: dict[str, Any]) -> dict[str, Any]:
    from sd_jwt.holder import SDJWTHolder
    from sd_jwt.verifier import SDJWTVerifier

    issuance, issuer_key, holder_key = issued
    holder = SDJWTHolder(issuance)
    holder.create_presentation(
        {"ld": {"credentialSubject": selection}},
        nonce="n-1",
        aud="https://bank.example",
        holder_key=holder_key,
    )
    verifier = SDJWTVerifier(
        holder.sd_jwt_presentation,
        lambda iss, header: issuer_key,
        expected_aud="https://bank.example",
        expected_nonce="n-1",
    )
    verified: dict[str, Any] = verifier.get_verified_payload()
    return verified


def test_grade_without_score(issued: tuple[str, Any, Any], validator: Any) -> None:
    verified = present(issued, {"score": {"grade": True}})
    ld = verified["ld"]
    check_ld(ld)
    validator.validate(verified)
    view = parse_ld_subject(ld["credentialSubject"])
    assert view.score.grade == "B" and view.score.value is None
    assert view.score.scale == "1000-4000:A-J"
    assert view.accounts is None and view.identity.hkid is None
    assert ld["issuer"] == ISSUER and ld["validFrom"] == "2026-03-02T02:14:25Z"


def test_no_material_default_without_any_account(issued: tuple[str, Any, Any]) -> None:
    verified = present(
        issued, {"assessment": {"noMaterialDefault60m": True, "currentlyPastDue": True}}
    )
    check_ld(verified["ld"])
    view = parse_ld_subject(verified["ld"]["credentialSubject"])
    assert view.assessment.no_material_default_60m is True
    assert view.assessment.currently_past_due is False
    assert view.assessment.total_outstanding is None
    assert view.accounts is None and "accounts" not in verified["ld"]["credentialSubject"]


def test_name_without_hkid(issued: tuple[str, Any, Any]) -> None:
    verified = present(issued, {"identity": {"nameEn": True, "nameZh": True}})
    check_ld(verified["ld"])
    view = parse_ld_subject(verified["ld"]["credentialSubject"])
    assert view.identity.name_en is not None and view.identity.name_en.surname == "CHAN"
    assert view.identity.name_zh == "陳大文"
    assert view.identity.hkid is None and view.identity.birth_date is None


def test_one_account_of_four_selected_fields(issued: tuple[str, Any, Any], validator: Any) -> None:
    verified = present(
        issued,
        {"accounts": [{"accountStatus": True, "amountPastDue": True, "repaymentHistory24m": True}]},
    )
    ld = verified["ld"]
    check_ld(ld)
    validator.validate(verified)
    accounts = ld["credentialSubject"]["accounts"]
    assert accounts == [
        {"accountStatus": "open", "amountPastDue": 0, "repaymentHistory24m": "0" * 24}
    ]
    view = parse_ld_subject(ld["credentialSubject"])
    assert view.accounts is not None and view.accounts[0].account_number_masked is None


def test_everything_disclosed_equals_the_unmarked_document(issued: tuple[str, Any, Any]) -> None:
    def select_all(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: select_all(v) for k, v in value.items()}
        if isinstance(value, list):
            return [select_all(v) if isinstance(v, dict | list) else True for v in value]
        return True

    everything = copy.deepcopy(full_ld())
    verified = present(issued, select_all(everything["credentialSubject"]))
    assert verified["ld"] == everything
    check_ld(verified["ld"])


def test_docs_path_notation_is_the_cli_claim_path_notation() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert "ld.credentialSubject.score.grade" in text
    assert re.search(r"ld\.credentialSubject\.accounts\.0", text)
