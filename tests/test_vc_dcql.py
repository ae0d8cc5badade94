"""DCQL (OpenID4VP 1.0 §6): parsing, the wallet's matching, the verifier's re-check.

The OpenID example queries have no licence, so they are read from the shared
folder (``../shared`` from the repository) and those tests skip when it is absent.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from vc.dcql import (
    DcqlNotSatisfied,
    DcqlUnsatisfiable,
    InvalidDcql,
    Presented,
    WalletCredential,
    check_satisfied,
    match,
    parse_query,
    revealed_paths,
    select_response,
)
from vc.errors import InvalidJSON, LimitExceeded

OPENID_EXAMPLES = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "vectors"
    / "openid4vc"
    / "openid4vp-1.0-final"
    / "examples"
)
PID = "https://credentials.example.com/identity_credential"


def openid_example(name: str) -> dict[str, Any]:
    path = OPENID_EXAMPLES / name
    if not path.is_file():
        pytest.skip(f"OpenID4VP example {name} not found at {path} (not redistributable)")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def sd_query(claims: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    cq: dict[str, Any] = {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": [PID]}}
    if claims is not None:
        cq["claims"] = claims
    cq.update(extra)
    return {"credentials": [cq]}


PERSON: dict[str, Any] = {
    "iss": "https://issuer.example",
    "vct": PID,
    "last_name": "Doe",
    "first_name": "John",
    "family_name": "Doe",
    "given_name": "John",
    "postal_code": "90210",
    "locality": "Beverly Hills",
    "region": "CA",
    "date_of_birth": "1970-01-01",
    "address": {"street_address": "1 Main St"},
    "degrees": [{"type": "BSc"}, {"type": "MSc"}, {"type": "PhD"}],
}


# --- parsing -------------------------------------------------------------------------------


class TestParseSpecExamples:
    @pytest.mark.parametrize(
        "name",
        [
            "simple.json",
            "claims_alternatives.json",
            "credentials_alternatives.json",
            "value_matching_simple.json",
            "multi_credentials.json",
            "simple_mdoc.json",
            "complex_mdoc.json",
        ],
    )
    def test_every_query_example_parses(self, name: str) -> None:
        raw = openid_example(f"query_lang/{name}")
        query = parse_query(raw)
        assert [c.id for c in query.credentials] == [c["id"] for c in raw["credentials"]]
        assert query.to_json() == raw

    def test_claims_alternatives_example(self) -> None:
        query = parse_query(openid_example("query_lang/claims_alternatives.json"))
        cq = query.credentials[0]
        assert cq.claim_sets == (("a", "c", "d", "e"), ("a", "b", "e"))
        assert cq.guaranteed_paths() == {("last_name",), ("date_of_birth",)}
        assert len(cq.requested_paths()) == 5

    def test_credentials_alternatives_example(self) -> None:
        query = parse_query(openid_example("query_lang/credentials_alternatives.json"))
        assert query.credential_sets is not None
        assert [s.required for s in query.credential_sets] == [True, False]
        assert query.credential_sets[0].options[2] == ("pid_reduced_cred_1", "pid_reduced_cred_2")


class TestParse:
    def test_defaults(self) -> None:
        cq = parse_query(sd_query([{"path": ["last_name"]}])).credentials[0]
        assert cq.multiple is False
        assert cq.require_cryptographic_holder_binding is True  # §6.1 default
        assert cq.vct_values == (PID,)
        assert cq.claim_options() == (cq.claims,)

    def test_json_text_and_unknown_members(self) -> None:
        raw = sd_query([{"path": ["x"], "future": 1}], future_member={"a": [1]})
        raw["future_top"] = True
        query = parse_query(json.dumps(raw))
        assert query.to_json() == raw  # §6: unknown properties ignored, but kept

    def test_no_claims_requests_only_the_mandatory_parts(self) -> None:
        cq = parse_query(sd_query()).credentials[0]
        assert cq.claim_options() == ((),)

    @pytest.mark.parametrize(
        ("mutate", "why"),
        [
            (lambda q: q.pop("credentials"), "credentials is required"),
            (lambda q: q.update(credentials=[]), "credentials is non-empty"),
            (lambda q: q["credentials"][0].pop("meta"), "meta is REQUIRED in 1.0"),
            (lambda q: q["credentials"][0].update(meta=[]), "meta is an object"),
            (lambda q: q["credentials"][0].pop("format"), "format is required"),
            (lambda q: q["credentials"][0].update(id="a b"), "id charset"),
            (lambda q: q["credentials"][0].update(id=""), "id non-empty"),
            (lambda q: q["credentials"].append(copy.deepcopy(q["credentials"][0])), "unique ids"),
            (lambda q: q["credentials"][0].update(multiple="yes"), "multiple is a boolean"),
            (
                lambda q: q["credentials"][0].update(require_cryptographic_holder_binding=1),
                "holder binding flag is a boolean",
            ),
            (lambda q: q["credentials"][0].update(claims=[]), "claims non-empty"),
            (lambda q: q["credentials"][0]["claims"].append({"path": ["a"]}), "duplicate path"),
            (lambda q: q["credentials"][0]["claims"][0].pop("path"), "path required"),
            (lambda q: q["credentials"][0]["claims"][0].update(values=[]), "values non-empty"),
            (lambda q: q["credentials"][0]["claims"][0].update(values=[1.5]), "values types"),
            (lambda q: q["credentials"][0]["claims"][0].update(values=[None]), "values types"),
            (lambda q: q["credentials"][0]["claims"][0].update(id=None), "explicit null"),
            (lambda q: q["credentials"][0]["meta"].update(vct_values=[]), "vct_values non-empty"),
            (lambda q: q["credentials"][0]["meta"].update(vct_values=[1]), "vct_values strings"),
            (lambda q: q["credentials"][0].update(claim_sets=[["a"]]), "claim_sets need ids"),
            (lambda q: q.update(credential_sets=[{"options": [["nope"]]}]), "unknown set id"),
            (lambda q: q.update(credential_sets=[{"options": []}]), "options non-empty"),
            (lambda q: q.update(credential_sets=[{"options": [[]]}]), "option non-empty"),
            (lambda q: q.update(credential_sets=[{}]), "options required"),
            (
                lambda q: q.update(credential_sets=[{"options": [["pid"]], "required": "no"}]),
                "required is a boolean",
            ),
            (
                lambda q: q["credentials"][0].update(trusted_authorities=[{"type": "aki"}]),
                "trusted authority values",
            ),
        ],
    )
    def test_refuses(self, mutate: Any, why: str) -> None:
        raw = sd_query([{"path": ["a"]}])
        mutate(raw)
        with pytest.raises(InvalidDcql) as err:
            parse_query(raw)
        assert err.value.code == "invalid_dcql", why

    def test_claim_sets_rules(self) -> None:
        base = [{"id": "a", "path": ["a"]}, {"id": "b", "path": ["b"]}]
        with pytest.raises(InvalidDcql, match="without claims"):
            parse_query(sd_query(None, claim_sets=[["a"]]))
        with pytest.raises(InvalidDcql, match="unknown ids"):
            parse_query(sd_query(base, claim_sets=[["a", "c"]]))
        with pytest.raises(InvalidDcql, match="repeats"):
            parse_query(sd_query(base, claim_sets=[["a", "a"]]))
        with pytest.raises(InvalidDcql, match="used twice"):
            parse_query(sd_query([{"id": "a", "path": ["a"]}, {"id": "a", "path": ["b"]}]))

    def test_not_json(self) -> None:
        with pytest.raises(InvalidDcql):
            parse_query('{"credentials": [}')
        with pytest.raises(InvalidDcql):
            parse_query('{"credentials": 1, "credentials": 2}')  # duplicate member
        with pytest.raises(InvalidDcql):
            parse_query([1, 2])
        with pytest.raises(InvalidDcql):
            parse_query({"credentials": [{"id": "x", "format": "f", "meta": {1: 2}}]})

    def test_limits(self) -> None:
        many = [{"path": [f"c{i}"]} for i in range(129)]
        with pytest.raises(LimitExceeded):
            parse_query(sd_query(many))
        deep: Any = "x"
        for _ in range(40):
            deep = {"d": deep}
        with pytest.raises(LimitExceeded):
            parse_query(sd_query([{"path": ["a"]}], extension=deep))
        with pytest.raises((LimitExceeded, InvalidJSON)):
            parse_query(json.dumps(sd_query([{"path": ["a"]}], extension=deep)))
        with pytest.raises(LimitExceeded):
            parse_query(" " * (64 * 1024 + 1))
        huge = sd_query([{"path": ["a"]}], extension="x" * (64 * 1024))
        with pytest.raises(LimitExceeded):
            parse_query(huge)


# --- wallet side ----------------------------------------------------------------------------


def wallet(*claims: dict[str, Any]) -> list[WalletCredential]:
    return [WalletCredential(f"cred{i}", c.get("vct", PID), c) for i, c in enumerate(claims)]


class TestMatch:
    def test_all_claims_without_claim_sets(self) -> None:
        query = sd_query([{"path": ["last_name"]}, {"path": ["address", "street_address"]}])
        (m,) = match(query, wallet(PERSON))
        assert m.required == (("last_name",), ("address", "street_address"))
        assert m.optional == ()
        assert m.claim_set is None
        assert m.holder_binding is True

    def test_one_missing_claim_means_no_match(self) -> None:
        query = sd_query([{"path": ["last_name"]}, {"path": ["nickname"]}])
        assert match(query, wallet(PERSON)) == []

    def test_no_claims_matches_with_nothing_to_disclose(self) -> None:
        (m,) = match(sd_query(), wallet(PERSON))
        assert m.required == () and m.optional == ()

    def test_first_satisfiable_claim_set_is_required(self) -> None:
        query = openid_example("query_lang/claims_alternatives.json")
        # option 1 (a, c, d, e) is satisfiable: it is what the wallet discloses
        (m,) = match(query, wallet(PERSON))
        assert m.claim_set == ("a", "c", "d", "e")
        assert m.required == (("last_name",), ("locality",), ("region",), ("date_of_birth",))
        assert m.optional == (("postal_code",),)
        assert [o.claim_ids for o in m.options] == [("a", "c", "d", "e"), ("a", "b", "e")]
        # without a region, option 2 is the first satisfiable one and nothing is optional
        person = {k: v for k, v in PERSON.items() if k != "region"}
        (m,) = match(query, wallet(person))
        assert m.claim_set == ("a", "b", "e")
        assert m.required == (("last_name",), ("postal_code",), ("date_of_birth",))
        assert m.optional == ()

    def test_values_are_respected(self) -> None:
        query = openid_example("query_lang/value_matching_simple.json")
        (m,) = match(query, wallet(PERSON))
        assert ("postal_code",) in m.required
        assert match(query, wallet({**PERSON, "postal_code": "10001"})) == []
        assert match(query, wallet({**PERSON, "last_name": "Roe"})) == []

    def test_wildcards_resolve_to_concrete_paths(self) -> None:
        query = sd_query([{"path": ["degrees", None, "type"]}])
        (m,) = match(query, wallet(PERSON))
        assert m.required == (("degrees", 0, "type"), ("degrees", 1, "type"), ("degrees", 2, "type"))
        query = sd_query([{"path": ["degrees", None, "type"], "values": ["MSc", "PhD"]}])
        (m,) = match(query, wallet(PERSON))
        assert m.required == (("degrees", 1, "type"), ("degrees", 2, "type"))

    def test_vct_and_format_must_match(self) -> None:
        query = sd_query([{"path": ["last_name"]}])
        other = {**PERSON, "vct": "https://other.example/vct"}
        assert [m.credential_id for m in match(query, wallet(other, PERSON))] == ["cred1"]
        mdoc = openid_example("query_lang/simple_mdoc.json")
        assert match(mdoc, wallet(PERSON)) == []

    def test_tuple_input_and_bad_input(self) -> None:
        (m,) = match(sd_query([{"path": ["last_name"]}]), [("c", PID, PERSON)])
        assert m.credential_id == "c"
        with pytest.raises(Exception) as err:
            match(sd_query(), [("c", PID)])  # type: ignore[list-item]
        assert getattr(err.value, "code", None) == "invalid_credential_input"


class TestSelectResponse:
    def creds(self) -> list[WalletCredential]:
        return [
            WalletCredential("id-card", PID, {"vct": PID, **PERSON}),
            WalletCredential("reduced", "https://credentials.example.com/reduced_identity_credential", PERSON),
            WalletCredential("residence", "https://cred.example/residence_credential", PERSON),
        ]

    def test_credential_sets_pick_the_first_satisfiable_option(self) -> None:
        query = openid_example("query_lang/credentials_alternatives.json")
        chosen = select_response(query, match(query, self.creds()))
        assert list(chosen) == ["pid"]  # the optional "nice_to_have" set has no match: omitted
        # without the full PID, the reduced pair answers the required set
        chosen = select_response(query, match(query, self.creds()[1:]))
        assert list(chosen) == ["pid_reduced_cred_1", "pid_reduced_cred_2"]

    def test_required_set_unsatisfiable(self) -> None:
        query = openid_example("query_lang/credentials_alternatives.json")
        with pytest.raises(DcqlUnsatisfiable) as err:
            select_response(query, match(query, self.creds()[2:]))
        assert err.value.code == "dcql_unsatisfiable"

    def test_without_credential_sets_every_query_is_needed(self) -> None:
        query = openid_example("query_lang/multi_credentials.json")
        with pytest.raises(DcqlUnsatisfiable, match="mdl"):
            select_response(query, match(query, self.creds()))

    def test_multiple(self) -> None:
        query = sd_query([{"path": ["last_name"]}], multiple=True)
        chosen = select_response(query, match(query, wallet(PERSON, PERSON)))
        assert [m.credential_id for m in chosen["pid"]] == ["cred0", "cred1"]
        query = sd_query([{"path": ["last_name"]}])
        chosen = select_response(query, match(query, wallet(PERSON, PERSON)))
        assert [m.credential_id for m in chosen["pid"]] == ["cred0"]


# --- verifier side --------------------------------------------------------------------------


def code_of(query: Any, presented: Any) -> str:
    with pytest.raises(DcqlNotSatisfied) as err:
        check_satisfied(query, presented)
    return err.value.code


class TestCheckSatisfied:
    query = sd_query(
        [
            {"id": "a", "path": ["last_name"]},
            {"id": "b", "path": ["postal_code"], "values": ["90210"]},
            {"id": "c", "path": ["date_of_birth"]},
        ],
        claim_sets=[["a", "b"], ["a", "c"]],
    )

    def test_met_by_the_first_option(self) -> None:
        result = check_satisfied(self.query, {"pid": [PERSON]})
        (check,) = result.presentations
        assert check.claim_set == ("a", "b")
        assert check.requested == (("last_name",), ("postal_code",))
        assert check.unrequested is None  # no baseline given: not computed
        assert result.credential_ids == ("pid",)

    def test_met_by_a_later_option(self) -> None:
        person = {k: v for k, v in PERSON.items() if k != "postal_code"}
        (check,) = check_satisfied(self.query, {"pid": [person]}).presentations
        assert check.claim_set == ("a", "c")

    def test_values_are_rechecked(self) -> None:
        # a wallet that ignored `values`: option 1 fails on value, option 2 lacks date_of_birth
        person = {"vct": PID, "last_name": "Doe", "postal_code": "10001"}
        assert code_of(self.query, {"pid": [person]}) == "dcql_value_mismatch"
        # ...but option 2 is fine when it is disclosed
        (check,) = check_satisfied(self.query, {"pid": [{**person, "date_of_birth": "x"}]}).presentations
        assert check.claim_set == ("a", "c")

    def test_missing_claim(self) -> None:
        assert code_of(self.query, {"pid": [{"vct": PID, "postal_code": "90210"}]}) == "dcql_claim_missing"

    def test_vct(self) -> None:
        assert code_of(self.query, {"pid": [{**PERSON, "vct": "https://evil.example"}]}) == "dcql_vct_mismatch"
        assert code_of(self.query, {"pid": [{k: v for k, v in PERSON.items() if k != "vct"}]}) == (
            "dcql_vct_mismatch"
        )

    def test_multiple(self) -> None:
        assert code_of(self.query, {"pid": [PERSON, PERSON]}) == "dcql_multiple_not_allowed"
        many = sd_query([{"path": ["last_name"]}], multiple=True)
        assert len(check_satisfied(many, {"pid": [PERSON, PERSON]}).presentations) == 2

    def test_shape_of_the_vp_token(self) -> None:
        assert code_of(self.query, {"other": [PERSON]}) == "dcql_unknown_credential"
        assert code_of(self.query, {"pid": []}) == "dcql_invalid_presentation"
        assert code_of(self.query, {"pid": PERSON}) == "dcql_invalid_presentation"
        assert code_of(self.query, {"pid": ["text"]}) == "dcql_invalid_presentation"
        assert code_of(self.query, {}) == "dcql_credential_missing"
        assert code_of(self.query, [PERSON]) == "dcql_invalid_presentation"

    def test_holder_binding(self) -> None:
        bound = Presented(PERSON, holder_bound=False)
        assert code_of(self.query, {"pid": [bound]}) == "dcql_holder_binding_missing"
        relaxed = copy.deepcopy(self.query)
        relaxed["credentials"][0]["require_cryptographic_holder_binding"] = False
        assert check_satisfied(relaxed, {"pid": [bound]}).presentations

    def test_unsupported_format(self) -> None:
        mdoc = openid_example("query_lang/simple_mdoc.json")
        assert code_of(mdoc, {"my_credential": [PERSON]}) == "dcql_unsupported_format"

    def test_credential_sets(self) -> None:
        query = openid_example("query_lang/credentials_alternatives.json")
        reduced1 = {**PERSON, "vct": "https://credentials.example.com/reduced_identity_credential"}
        reduced2 = {**PERSON, "vct": "https://cred.example/residence_credential"}
        rewards = {"vct": "https://company.example/company_rewards", "rewards_number": 7}
        result = check_satisfied(
            query, {"pid_reduced_cred_1": [reduced1], "pid_reduced_cred_2": [reduced2]}
        )
        assert result.credential_ids == ("pid_reduced_cred_1", "pid_reduced_cred_2")
        assert result.extra_credentials == ()
        # only half of the pair: the required set is not met
        assert code_of(query, {"pid_reduced_cred_1": [reduced1]}) == "dcql_credential_set_unsatisfied"
        # the optional set may come along; a query id no met option needs is reported
        result = check_satisfied(
            query, {"pid": [PERSON], "nice_to_have": [rewards], "pid_reduced_cred_1": [reduced1]}
        )
        assert result.extra_credentials == ("pid_reduced_cred_1",)


class TestOverDisclosure:
    def test_revealed_paths_against_the_baseline(self) -> None:
        baseline = {"iss": "x", "vct": PID, "address": {}, "list": ["always"]}
        claims = {
            "iss": "x",
            "vct": PID,
            "last_name": "Doe",
            "address": {"street_address": "1 Main St", "locality": "L"},
            "list": ["revealed", "always", "also"],
        }
        assert revealed_paths(claims, baseline) == [
            ("last_name",),
            ("address", "street_address"),
            ("address", "locality"),
            ("list", 0),
            ("list", 2),
        ]

    def test_revealed_container_on_the_way_to_a_requested_claim_is_descended(self) -> None:
        baseline: dict[str, Any] = {"vct": PID}
        claims = {"vct": PID, "degrees": [{"type": "BSc", "year": 1}, {"type": "MSc"}]}
        found = revealed_paths(claims, baseline, [("degrees", 0, "type")])
        assert found == [("degrees", 0, "type"), ("degrees", 0, "year"), ("degrees", 1)]

    def test_unrequested_disclosures_are_listed(self) -> None:
        query = sd_query([{"path": ["last_name"]}, {"path": ["degrees", None, "type"], "values": ["MSc"]}])
        baseline = {"iss": "x", "vct": PID}
        claims = {**baseline, "last_name": "Doe", "first_name": "J", "degrees": [{"type": "BSc"}, {"type": "MSc"}]}
        result = check_satisfied(query, {"pid": [Presented(claims, baseline)]})
        assert result.presentations[0].requested == (("last_name",), ("degrees", 1, "type"))
        assert result.unrequested() == {"pid": [("first_name",), ("degrees", 0)]}

    def test_exactly_what_was_asked(self) -> None:
        query = sd_query([{"path": ["address"]}])
        baseline = {"vct": PID}
        claims = {"vct": PID, "address": {"street_address": "1", "locality": "2"}}
        result = check_satisfied(query, {"pid": [Presented(claims, baseline)]})
        assert result.presentations[0].unrequested == ()
        assert result.unrequested() == {}
