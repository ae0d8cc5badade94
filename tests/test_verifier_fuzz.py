"""Fuzzing the verifier (hypothesis): whatever comes in, a named rejection comes out.

Properties, over arbitrary text and bytes, arbitrary JSON shaped like OpenID4VP
responses, SD-JWT-shaped junk, arbitrary request documents, and mutations of a valid
presentation (byte flips, disclosure drops / duplicates / reorders, foreign disclosures,
KB-JWT swaps, truncation, staple corruption):

- ``Verifier.verify`` returns; it never raises;
- a refusal is ``verified=False`` with a stable snake_case ``reason`` that is not the
  internal catch-all ``verification_error``, and the last listed check is the one that
  failed (every earlier one passed);
- a mutated presentation is never ``verified``.

The world (registry, CRA, bank) is built once per module; mutations that fail before the
nonce is consumed reuse a request, the staple fuzz makes a fresh request per example.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.world import World, make_world
from vc import dcql
from vc.b64 import b64u_encode
from vc.presentation_response import PresentationResponse, Staple
from vc.sdjwt import HolderCredential, make_kb_jwt
from verifier.request import PresentationRequest
from verifier.verify import VerificationResult, Verifier

QID = "credit_report"
REASON = re.compile(r"[a-z][a-z0-9_]{1,63}")
FUZZ = settings(max_examples=120, deadline=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class Fixture:
    """The module's world; a plain class, so hypothesis prints it as ``Fixture(...)``."""

    def __init__(self, world: World, verifier: Verifier, holder: Any, wallet: HolderCredential,
                 staple: Staple, request: PresentationRequest) -> None:
        self.world, self.verifier, self.holder, self.wallet = world, verifier, holder, wallet
        self.staple = staple
        self.request = request  # shared by the mutations that fail before the nonce is used
        self.text = ""  # the valid presentation answering ``request``
        self.other_texts: list[str] = []  # presentations of other credentials, same request

    def __repr__(self) -> str:
        return "Fixture(...)"

    def fresh(self) -> tuple[PresentationRequest, str]:
        request = self.verifier.create_request()
        return request, self.present(self.wallet, self.holder, request)

    def present(self, wallet: HolderCredential, holder: Any,
                request: PresentationRequest) -> str:
        matches = dcql.match(request.dcql_query, [("c", wallet.claims["vct"], wallet.claims)])
        return wallet.present([list(p) for p in matches[0].required], holder_key=holder,
                              aud=request.client_id, nonce=request.nonce, iat=int(time.time()))


@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fixture]:
    world = make_world(Path(tmp_path_factory.mktemp("fuzz-world")))
    issued, holder = world.issue(21)
    wallet = HolderCredential.from_issuance(issued.credential)
    staple = Staple(json.loads(issued.receipt.to_json()), world.cra.status_list_token())
    with world.verifier() as verifier:
        fixture = Fixture(world, verifier, holder, wallet, staple, verifier.create_request())
        fixture.text = fixture.present(wallet, holder, fixture.request)
        for seed in (22, 23):
            other, other_holder = world.issue(seed)
            fixture.other_texts.append(fixture.present(
                HolderCredential.from_issuance(other.credential), other_holder,
                fixture.request))
        yield fixture
    world.cra.close()


def response(fx: Fixture, text: str, request: PresentationRequest | None = None,
             staple: Staple | None = None) -> PresentationResponse:
    request = request or fx.request
    return PresentationResponse({QID: [text]}, request.state, {QID: [staple or fx.staple]})


def assert_named_rejection(result: Any) -> None:
    assert isinstance(result, VerificationResult)
    doc = result.to_json()
    assert result.verified is False, doc
    assert isinstance(result.reason, str) and REASON.fullmatch(result.reason), doc
    assert result.reason != "verification_error", doc  # the internal catch-all: a bug
    assert isinstance(result.message, str) and result.message, doc
    assert result.checks and not result.checks[-1].ok, doc
    assert all(c.ok for c in result.checks[:-1]), doc
    assert result.claims == {} and result.policy is None, doc
    json.dumps(doc)  # the result is always a JSON document


def verify(fx: Fixture, presentation: Any, request: Any = None) -> VerificationResult:
    return fx.verifier.verify(presentation, request=fx.request if request is None else request)


# --------------------------------------------------------------------------- the control


def test_control_a_fresh_unmutated_presentation_verifies(fx: Fixture) -> None:
    request, text = fx.fresh()
    result = fx.verifier.verify(response(fx, text, request), request=request)
    assert result.verified, result.to_json()


# --------------------------------------------------------------------------- arbitrary input


ANY_CHAR = st.characters(exclude_categories=())  # lone surrogates too


@FUZZ
@given(st.text(max_size=2000) | st.text(ANY_CHAR, max_size=200))
def test_arbitrary_text(fx: Fixture, text: str) -> None:
    assert_named_rejection(verify(fx, text))
    assert_named_rejection(verify(fx, response(fx, text)))


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(fx: Fixture, data: bytes) -> None:
    assert_named_rejection(verify(fx, data))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12),
                                                                       children, max_size=4),
    max_leaves=20,
)
B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64json(value: Any) -> str:
    return b64u_encode(json.dumps(value).encode())


@st.composite
def jwt_like(draw: st.DrawFn) -> str:
    header = draw(st.fixed_dictionaries(
        {}, optional={"alg": st.sampled_from(["ES256", "EdDSA", "none", "HS256", "RS256", ""]),
                      "typ": st.sampled_from(["dc+sd-jwt", "vc+sd-jwt", "kb+jwt", "JWT"]),
                      "kid": st.text(max_size=50), "crit": JSON, "jwk": JSON}))
    payload = draw(st.dictionaries(
        st.sampled_from(["iss", "vct", "iat", "exp", "nbf", "cnf", "_sd", "_sd_alg", "status",
                         "ld", "aud", "nonce", "sd_hash", "..."]) | st.text(max_size=8),
        JSON, max_size=8))
    signature = draw(st.binary(max_size=80))
    return f"{b64json(header)}.{b64json(payload)}.{b64u_encode(signature)}"


@st.composite
def sd_jwt_like(draw: st.DrawFn) -> str:
    jwt = draw(jwt_like())
    disclosures = draw(st.lists(st.one_of(
        st.builds(b64json, st.lists(JSON, min_size=0, max_size=4)),
        st.text(alphabet=B64_ALPHABET, min_size=1, max_size=40),
    ), max_size=5))
    kb = draw(st.one_of(st.just(""), jwt_like(), st.text(alphabet=B64_ALPHABET + ".",
                                                         max_size=60)))
    return "~".join([jwt, *disclosures]) + "~" + kb


@FUZZ
@given(sd_jwt_like())
def test_sd_jwt_shaped_junk(fx: Fixture, text: str) -> None:
    assert_named_rejection(verify(fx, text))
    assert_named_rejection(verify(fx, response(fx, text)))


PRESENTATION_ITEM = st.one_of(sd_jwt_like(), st.text(max_size=50), JSON)


@st.composite
def response_like(draw: st.DrawFn) -> Any:
    doc = draw(st.fixed_dictionaries({}, optional={
        "vp_token": st.one_of(JSON, st.dictionaries(
            st.sampled_from([QID, "*", "other"]) | st.text(max_size=10),
            st.one_of(st.lists(PRESENTATION_ITEM, max_size=3), JSON), max_size=3)),
        "state": st.one_of(JSON, st.text(max_size=30)),
        "staples": st.one_of(JSON, st.dictionaries(
            st.sampled_from([QID, "other"]),
            st.lists(st.one_of(JSON, st.fixed_dictionaries({}, optional={
                "registry_receipt": st.one_of(JSON, st.fixed_dictionaries({
                    "index": st.integers(-2, 2**64), "entry": st.text(max_size=40),
                    "inclusion_proof": st.lists(st.text(max_size=44), max_size=3),
                    "checkpoint": st.text(max_size=200)})),
                "status_list_token": st.one_of(JSON, jwt_like())})), max_size=2),
            max_size=2)),
    }))
    extra = draw(st.dictionaries(st.text(max_size=8), JSON, max_size=2))
    return {**doc, **extra} if draw(st.booleans()) else doc


@FUZZ
@given(response_like())
def test_arbitrary_response_documents(fx: Fixture, doc: Any) -> None:
    assert_named_rejection(verify(fx, doc))
    assert_named_rejection(verify(fx, json.dumps(doc)))


@FUZZ
@given(st.one_of(JSON, st.text(max_size=200), st.fixed_dictionaries(
    {k: st.one_of(JSON, st.text(max_size=40)) for k in
     ("id", "nonce", "client_id", "response_uri", "dcql_query", "purpose", "request", "uri")})))
def test_arbitrary_request_documents(fx: Fixture, request: Any) -> None:
    assume(request is not None)  # None means "look the request up by state" (not junk)
    assert_named_rejection(verify(fx, response(fx, fx.text), request=request))


@FUZZ
@given(st.sampled_from(["id", "nonce", "client_id", "response_uri", "dcql_query", "purpose",
                        "request", "uri"]), JSON)
def test_request_document_with_one_member_changed(fx: Fixture, member: str, value: Any) -> None:
    doc = fx.request.to_json()
    assume(doc[member] != value)
    doc[member] = value
    assert_named_rejection(verify(fx, response(fx, fx.text), request=doc))


# --------------------------------------------------------------------------- mutations


def _parts(text: str) -> tuple[str, list[str], str]:
    parts = text.split("~")
    return parts[0], parts[1:-1], parts[-1]


@st.composite
def _pick_foreign_disclosure(draw: st.DrawFn, fx: Fixture) -> str:
    """By index: drawing from lists of long strings makes hypothesis print them all."""
    other = _parts(fx.other_texts[draw(st.integers(0, len(fx.other_texts) - 1))])[1]
    return other[draw(st.integers(0, len(other) - 1))]


@st.composite
def mutation(draw: st.DrawFn, fx: Fixture) -> tuple[str, str]:
    text = fx.text
    jwt, disclosures, kb = _parts(text)
    op = draw(st.sampled_from(["flip", "drop", "duplicate", "reorder", "foreign", "kb-swap",
                               "truncate", "rebind-foreign", "insert-char", "delete-char"]))
    if op == "flip":
        pos = draw(st.integers(0, len(text) - 1))
        new = draw(st.sampled_from(B64_ALPHABET + "~.=+/ \ud800\u00e9\x00"))
        assume(new != text[pos])
        return op, text[:pos] + new + text[pos + 1:]
    if op == "insert-char":
        pos = draw(st.integers(0, len(text)))
        new = draw(st.sampled_from(B64_ALPHABET + "~."))
        return op, text[:pos] + new + text[pos:]
    if op == "delete-char":
        pos = draw(st.integers(0, len(text) - 1))
        return op, text[:pos] + text[pos + 1:]
    if op == "drop":
        i = draw(st.integers(0, len(disclosures) - 1))
        return op, "~".join([jwt, *disclosures[:i], *disclosures[i + 1:]]) + "~" + kb
    if op == "duplicate":
        i = draw(st.integers(0, len(disclosures) - 1))
        j = draw(st.integers(0, len(disclosures)))
        mutated = [*disclosures[:j], disclosures[i], *disclosures[j:]]
        return op, "~".join([jwt, *mutated]) + "~" + kb
    if op == "reorder":
        order = draw(st.permutations(range(len(disclosures))))
        assume(list(order) != sorted(order))
        return op, "~".join([jwt, *(disclosures[i] for i in order)]) + "~" + kb
    if op == "foreign":  # a disclosure of another credential, slipped in
        foreign = draw(_pick_foreign_disclosure(fx))
        j = draw(st.integers(0, len(disclosures)))
        return op, "~".join([jwt, *disclosures[:j], foreign, *disclosures[j:]]) + "~" + kb
    if op == "kb-swap":  # the KB-JWT of another presentation to the same request
        other = fx.other_texts[draw(st.integers(0, len(fx.other_texts) - 1))]
        return op, "~".join([jwt, *disclosures]) + "~" + _parts(other)[2]
    if op == "rebind-foreign":  # a foreign disclosure, then a valid KB-JWT over the result
        foreign = draw(_pick_foreign_disclosure(fx))
        base = "~".join([jwt, *disclosures, foreign]) + "~"
        return op, base + make_kb_jwt(base, fx.holder, aud=fx.request.client_id,
                                      nonce=fx.request.nonce, iat=int(time.time()))
    cut = draw(st.integers(1, len(text) - 1))
    return op, text[:cut]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_presentations_never_verify(fx: Fixture, data: st.DataObject) -> None:
    op, mutated = data.draw(mutation(fx))
    assume(mutated != fx.text)
    result = verify(fx, response(fx, mutated))
    assert_named_rejection(result)
    # every text mutation is caught by the credential checks, before the nonce is used
    assert result.checks[-1].name in ("size_and_syntax", "issuer_trusted",
                                      "signature_disclosures_key_binding"), (op, result.to_json())


@st.composite
def corrupt_staple(draw: st.DrawFn, fx: Fixture) -> Staple:
    staple = fx.staple
    receipt = json.loads(json.dumps(staple.registry_receipt))
    token = staple.status_list_token
    assert receipt is not None and token is not None
    op = draw(st.sampled_from(["checkpoint", "entry", "proof", "index", "token"]))
    if op == "checkpoint":
        note = receipt["checkpoint"]
        pos = draw(st.integers(0, len(note) - 1))
        new = draw(st.sampled_from("0123456789abcdefABCDEF+/=\n \u2014"))
        assume(new != note[pos])
        receipt["checkpoint"] = note[:pos] + new + note[pos + 1:]
    elif op == "entry":
        entry = receipt["entry"]
        pos = draw(st.integers(0, len(entry) - 1))
        new = draw(st.sampled_from("ABCDEFGHabcdefgh0123+/"))
        assume(new != entry[pos])
        receipt["entry"] = entry[:pos] + new + entry[pos + 1:]
    elif op == "proof":
        proof = receipt["inclusion_proof"]
        if proof and draw(st.booleans()):
            i = draw(st.integers(0, len(proof) - 1))
            proof[i] = proof[i][::-1] if proof[i] != proof[i][::-1] else "A" + proof[i][1:]
        else:
            proof.append("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    elif op == "index":
        receipt["index"] = draw(st.integers(-1, 2**63).filter(lambda i: i != receipt["index"]))
    else:
        pos = draw(st.integers(0, len(token) - 1))
        new = draw(st.sampled_from(B64_ALPHABET + "."))
        assume(new != token[pos])
        token = token[:pos] + new + token[pos + 1:]
    return Staple(receipt, token)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_corrupted_staples_never_verify(fx: Fixture, data: st.DataObject) -> None:
    """A corrupted receipt or status token is refused — never silently replaced by an
    online lookup, never a pass."""
    staple = data.draw(corrupt_staple(fx))
    request, text = fx.fresh()
    result = fx.verifier.verify(response(fx, text, request, staple), request=request)
    assert_named_rejection(result)
    assert result.checks[-1].name in ("size_and_syntax", "registry_anchor", "not_revoked"), \
        result.to_json()
