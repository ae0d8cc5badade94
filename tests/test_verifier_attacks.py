"""The verifier's attack suite: every known way to fool it, each refused with its named reason.

Every attack runs against real parties (SQLite registry with its witness, a CRA, a bank;
PostgreSQL for the shared nonce store) built by :mod:`tests.world`. An attack passes only
if ``verify`` *returns* ``verified=False`` with the precise reason code, and — where it
matters — the refusal comes from the check that is meant to catch it. Sources: RFC 9901
§7.1/§7.3 and §9 (standards.md §1), OpenID4VP 1.0 §8 (standards.md §4), RFC 9162 and
C2SP signed notes / checkpoints / cosignatures (standards.md §6), RFC 8725 (JWT BCP).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hash_registry.client import LocalRegistry
from hash_registry.entries import AnchorEntry, RevocationEntry
from hash_registry.home import init_registry, open_log
from issuer_sim.cra import Cra
from issuer_sim.home import init_issuer
from tests.world import World, make_world
from vc import dcql
from vc.b64 import b64u_decode, b64u_encode
from vc.jose import PrivateKey, decode_compact, sign_compact
from vc.presentation_response import PresentationResponse, Staple
from vc.sdjwt import HolderCredential, make_kb_jwt
from verifier.home import add_issuer
from verifier.verify import VerificationResult, Verifier

PG_URLS = (
    [os.environ["SELFCARRY_TEST_POSTGRES_URL"]]
    if os.environ.get("SELFCARRY_TEST_POSTGRES_URL")
    else ["postgresql://postgres@127.0.0.1:5432/test", "postgresql://root@127.0.0.1:5432/test"]
)
QID = "credit_report"
UNUSED_STATUS_IDX = 7  # a status-list slot for credentials built but never recorded


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path)
    yield w
    w.cra.close()


@pytest.fixture
def verifier(world: World) -> Iterator[Verifier]:
    with world.verifier() as v:
        yield v


# --------------------------------------------------------------------------- helpers


def b64json(value: Any) -> str:
    return b64u_encode(json.dumps(value, separators=(",", ":")).encode())


def split(text: str) -> tuple[str, list[str], str]:
    """``<jwt>~<d1>~…~<dn>~<kb>`` → (jwt, [d1…dn], kb-or-empty)."""
    parts = text.split("~")
    return parts[0], parts[1:-1], parts[-1]


def join(jwt: str, disclosures: list[str], kb: str = "") -> str:
    return "~".join([jwt, *disclosures]) + "~" + kb


def rebind(jwt: str, disclosures: list[str], holder: PrivateKey, aud: str, nonce: str,
           iat: int | None = None) -> str:
    """What a dishonest holder does after editing the SD-JWT: a fresh, valid KB-JWT over it.

    This isolates each attack: the KB-JWT is right, so only the forged part can fail."""
    base = join(jwt, disclosures)
    return base + make_kb_jwt(base, holder, aud=aud, nonce=nonce,
                              iat=int(time.time()) if iat is None else iat)


def resign(jwt: str, key: PrivateKey, *, header: dict[str, Any] | None = None,
           edit: Callable[[dict[str, Any]], None] | None = None) -> str:
    """The issuer JWT re-signed with ``key`` after editing its header and/or payload."""
    decoded = decode_compact(jwt)
    payload = decoded.claims()
    if edit is not None:
        edit(payload)
    hdr = {k: v for k, v in decoded.header.items() if k != "alg"}
    hdr.update(header or {})
    return sign_compact(hdr, payload, key)


def respond(text: str, request: Any, staple: Staple | None = None) -> PresentationResponse:
    return PresentationResponse({QID: [text]}, request.state, {QID: [staple or Staple()]})


def present_text(world: World, issued: Any, holder: PrivateKey, request: Any, **kw: Any) -> str:
    return world.present(issued, holder, request, **kw).vp_token[QID][0]


def present_issuance(credential: str, holder: PrivateKey, request: Any) -> str:
    """What a wallet answers to ``request`` from an issuance serialization (required claims)."""
    wallet = HolderCredential.from_issuance(credential)
    matches = dcql.match(request.dcql_query, [("c", wallet.claims["vct"], wallet.claims)])
    return wallet.present([list(p) for p in matches[0].required], holder_key=holder,
                          aud=request.client_id, nonce=request.nonce, iat=int(time.time()))


def staple_of(world: World, issued: Any) -> Staple:
    return Staple(json.loads(issued.receipt.to_json()), world.cra.status_list_token())


def refused(result: VerificationResult, reason: str, check: str | None = None) -> None:
    """The attack was refused with ``reason``, by ``check`` (the last, failed, one)."""
    assert isinstance(result, VerificationResult)
    assert not result.verified, result.to_json()
    assert result.reason == reason, result.to_json()
    assert result.message
    assert result.claims == {} and result.policy is None
    if check is not None:
        assert result.checks, result.to_json()
        assert result.checks[-1].name == check and not result.checks[-1].ok, result.to_json()
        assert all(c.ok for c in result.checks[:-1])


def anchor(world: World, jwt: str) -> dict[str, Any]:
    """Anchor an issuer-signed JWT on the world's registry as the CRA; return its receipt."""
    registry = world.cra.registry
    appended = registry.append([AnchorEntry.for_credential(jwt + "~")], world.cra.key,
                               world.cra.issuer_id)
    receipt: dict[str, Any] = json.loads(registry.receipt(appended.indices[0]).to_json())
    return receipt


def resigned_presentation(world: World, request: Any, *, header: dict[str, Any] | None = None,
                          edit: Callable[[dict[str, Any]], None] | None = None,
                          seed: int = 11) -> PresentationResponse:
    """A credential the *CRA itself* signed (with its key, as ``issue_credential`` would) with
    an edited header/payload, disclosures kept, anchored on the registry, and presented with
    an honest KB-JWT and both staples: only the edit can make it fail."""
    issued, holder = world.issue(seed)
    jwt, disclosures, _ = split(present_text(world, issued, holder, request))
    new_jwt = resign(jwt, world.cra.key, header=header, edit=edit)
    receipt = anchor(world, new_jwt)
    text = rebind(new_jwt, disclosures, holder, request.client_id, request.nonce)
    return respond(text, request, Staple(receipt, world.cra.status_list_token()))


def honest(world: World, verifier: Verifier, seed: int = 3
           ) -> tuple[Any, PrivateKey, Any, str]:
    issued, holder = world.issue(seed)
    request = verifier.create_request()
    return issued, holder, request, present_text(world, issued, holder, request)


def pg_url() -> str:
    psycopg = pytest.importorskip("psycopg")
    last: BaseException | None = None
    for url in PG_URLS:
        try:
            with psycopg.connect(url, connect_timeout=3):
                return url
        except psycopg.Error as exc:
            last = exc
    message = f"PostgreSQL (database test) is not reachable: {last}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so a missing server is a failure)")
    pytest.skip(message)


# --------------------------------------------------------------------------- sanity


def test_the_honest_presentation_verifies(world: World, verifier: Verifier) -> None:
    """The control: the unmodified presentation passes, so every refusal below is the attack's."""
    issued, _holder, request, text = honest(world, verifier)
    result = verifier.verify(respond(text, request, staple_of(world, issued)), request=request)
    assert result.verified, result.to_json()


# --------------------------------------------------------------------------- JOSE (RFC 8725)


def test_alg_none_is_refused(world: World, verifier: Verifier) -> None:
    issued, holder, request, text = honest(world, verifier)
    jwt, disclosures, _ = split(text)
    header = {**decode_compact(jwt).header, "alg": "none"}
    forged = f"{b64json(header)}.{jwt.split('.')[1]}."
    result = verifier.verify(respond(rebind(forged, disclosures, holder, request.client_id,
                                            request.nonce), request, staple_of(world, issued)),
                             request=request)
    refused(result, "unsupported_alg", "signature_disclosures_key_binding")


@pytest.mark.parametrize("secret_form", ["jwk-json", "pem", "raw-point"])
def test_hs256_with_the_issuer_public_key_as_secret_is_refused(
        world: World, verifier: Verifier, secret_form: str) -> None:
    """Algorithm confusion: HMAC keyed with the (public) issuer key must never verify."""
    from cryptography.hazmat.primitives import serialization

    issued, holder, request, text = honest(world, verifier)
    jwt, disclosures, _ = split(text)
    public = world.cra.key.public_key()
    secret = {
        "jwk-json": json.dumps(public.to_jwk()).encode(),
        "pem": public.crypto_key.public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo),
        "raw-point": public.crypto_key.public_bytes(serialization.Encoding.X962,
                                                    serialization.PublicFormat.UncompressedPoint),
    }[secret_form]
    header = {**decode_compact(jwt).header, "alg": "HS256"}
    signing_input = f"{b64json(header)}.{jwt.split('.')[1]}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{b64u_encode(mac)}"
    result = verifier.verify(respond(rebind(forged, disclosures, holder, request.client_id,
                                            request.nonce), request, staple_of(world, issued)),
                             request=request)
    refused(result, "unsupported_alg", "signature_disclosures_key_binding")


def _attacker_credential(jwt: str, attacker: PrivateKey, kid: str | None) -> str:
    """The issuer payload with a better grade claim, signed by ``attacker`` whose key rides
    in the header (``jwk``), as if the header could name its own verification key."""
    payload = decode_compact(jwt).claims()
    payload["ld"]["credentialSubject"]["assessment"] = {"riskGrade": "A"}
    header: dict[str, Any] = {"typ": "dc+sd-jwt", "jwk": attacker.public_key().to_jwk()}
    if kid is not None:
        header["kid"] = kid
    return sign_compact(header, payload, attacker)


@pytest.mark.parametrize("kid", ["issuer", "attacker", None])
def test_key_from_the_token_header_is_never_trusted(world: World, verifier: Verifier,
                                                    kid: str | None) -> None:
    _issued, holder, request, text = honest(world, verifier)
    jwt, _, _ = split(text)
    attacker = PrivateKey.generate()
    kid_value = {"issuer": world.cra.config.kid, "attacker": attacker.public_key().thumbprint(),
                 None: None}[kid]
    forged = _attacker_credential(jwt, attacker, kid_value)
    result = verifier.verify(respond(rebind(forged, [], holder, request.client_id,
                                            request.nonce), request), request=request)
    if kid == "attacker":  # no such key for this issuer: refused before any signature check
        refused(result, "untrusted_issuer", "issuer_trusted")
    else:  # the configured CRA key is used, and the attacker's signature fails under it
        refused(result, "invalid_signature", "signature_disclosures_key_binding")


def test_unknown_crit_is_refused_even_when_signed_by_the_issuer(world: World,
                                                                verifier: Verifier) -> None:
    request = verifier.create_request()
    response = resigned_presentation(
        world, request, header={"crit": ["urn:example:must-understand"],
                                "urn:example:must-understand": True})
    refused(verifier.verify(response, request=request), "unknown_crit",
            "signature_disclosures_key_binding")


@pytest.mark.parametrize("edit", ["exp", "iat-backdated", "vct", "status", "ld-plain-claim",
                                  "cnf"])
def test_tampered_payload_with_the_original_signature_is_refused(
        world: World, verifier: Verifier, edit: str) -> None:
    issued, holder, request, text = honest(world, verifier)
    jwt, disclosures, _ = split(text)
    h, p, s = jwt.split(".")
    payload = json.loads(b64u_decode(p))
    if edit == "exp":
        payload["exp"] += 365 * 86400
    elif edit == "iat-backdated":  # before the key's admission: still the signature's failure
        payload["iat"] -= 365 * 86400
    elif edit == "vct":
        payload["vct"] += "#premium"
    elif edit == "status":
        payload["status"]["status_list"]["idx"] += 1
    elif edit == "ld-plain-claim":
        payload["ld"]["credentialSubject"]["score"]["scale"] = "1000-4000:A-B"
    else:  # the holder swaps in a key it holds... but the signature covers cnf
        payload["cnf"]["jwk"] = PrivateKey.generate().public_key().to_jwk()
    tampered = f"{h}.{b64json(payload)}.{s}"
    result = verifier.verify(respond(rebind(tampered, disclosures, holder, request.client_id,
                                            request.nonce), request, staple_of(world, issued)),
                             request=request)
    refused(result, "invalid_signature", "signature_disclosures_key_binding")


def test_signature_bit_flip_is_refused(world: World, verifier: Verifier) -> None:
    issued, holder, request, text = honest(world, verifier)
    jwt, disclosures, _ = split(text)
    h, p, s = jwt.split(".")
    sig = bytearray(b64u_decode(s))
    sig[10] ^= 0x01
    forged = f"{h}.{p}.{b64u_encode(bytes(sig))}"
    result = verifier.verify(respond(rebind(forged, disclosures, holder, request.client_id,
                                            request.nonce), request, staple_of(world, issued)),
                             request=request)
    refused(result, "invalid_signature", "signature_disclosures_key_binding")


def test_typ_vc_sd_jwt_is_refused(world: World, verifier: Verifier) -> None:
    """The legacy ``vc+sd-jwt`` typ, even validly signed by the CRA, is not ``dc+sd-jwt``."""
    request = verifier.create_request()
    response = resigned_presentation(world, request, header={"typ": "vc+sd-jwt"})
    refused(verifier.verify(response, request=request), "wrong_typ", "size_and_syntax")


def test_wrong_vct_is_refused(world: World, verifier: Verifier) -> None:
    request = verifier.create_request()

    def edit(payload: dict[str, Any]) -> None:
        payload["vct"] = "https://w3id.org/selfcarry/vct/hk-credit-report/v0-unchecked"

    response = resigned_presentation(world, request, edit=edit)
    refused(verifier.verify(response, request=request), "unsupported_vct",
            "signature_disclosures_key_binding")


# --------------------------------------------------------------------------- disclosures


def test_tampered_disclosure_is_refused(world: World, verifier: Verifier) -> None:
    issued, holder, request, text = honest(world, verifier)
    jwt, disclosures, _ = split(text)
    for i, d in enumerate(disclosures):
        decoded = json.loads(b64u_decode(d))
        if len(decoded) == 3 and decoded[1] == "riskGrade":
            decoded[2] = "A" if decoded[2] != "A" else "B"
            disclosures[i] = b64json(decoded)
            break
    else:
        pytest.fail("the presentation discloses no riskGrade")
    result = verifier.verify(respond(rebind(jwt, disclosures, holder, request.client_id,
                                            request.nonce), request, staple_of(world, issued)),
                             request=request)
    refused(result, "unreferenced_disclosure", "signature_disclosures_key_binding")


def test_disclosure_from_another_credential_is_refused(world: World,
                                                       verifier: Verifier) -> None:
    issued, holder, request, text = honest(world, verifier)
    other, _ = world.issue(4)
    jwt, disclosures, _ = split(text)
    theirs = HolderCredential.from_issuance(other.credential).disclosures
    extra = next(d for d in theirs if d not in disclosures)
    result = verifier.verify(respond(rebind(jwt, [*disclosures, extra], holder,
                                            request.client_id, request.nonce),
                                     request, staple_of(world, issued)), request=request)
    refused(result, "unreferenced_disclosure", "signature_disclosures_key_binding")


@pytest.mark.parametrize("shape", ["property", "array-element", "collides-with-disclosed"])
def test_fabricated_disclosure_is_refused(world: World, verifier: Verifier, shape: str) -> None:
    issued, holder, request, text = honest(world, verifier)
    jwt, disclosures, _ = split(text)
    salt = b64u_encode(secrets.token_bytes(16))
    fabricated = {
        "property": [salt, "noBankruptcy", True],
        "array-element": [salt, {"creditor": "Nobody Finance"}],
        "collides-with-disclosed": [salt, "riskGrade", "A"],
    }[shape]
    result = verifier.verify(
        respond(rebind(jwt, [*disclosures, b64json(fabricated)], holder, request.client_id,
                       request.nonce), request, staple_of(world, issued)), request=request)
    refused(result, "unreferenced_disclosure", "signature_disclosures_key_binding")


def test_duplicated_disclosure_is_refused(world: World, verifier: Verifier) -> None:
    issued, holder, request, text = honest(world, verifier)
    jwt, disclosures, _ = split(text)
    result = verifier.verify(respond(rebind(jwt, [*disclosures, disclosures[0]], holder,
                                            request.client_id, request.nonce),
                                     request, staple_of(world, issued)), request=request)
    refused(result, "duplicate_disclosure", "signature_disclosures_key_binding")


def test_undisclosed_required_claim_fails_the_request(world: World, verifier: Verifier) -> None:
    """Dropping a disclosure the query requires is authentic but incomplete: refused."""
    issued, holder, request, text = honest(world, verifier)
    jwt, disclosures, _ = split(text)
    kept = [d for d in disclosures if json.loads(b64u_decode(d))[1:2] != ["riskGrade"]]
    assert len(kept) == len(disclosures) - 1
    result = verifier.verify(respond(rebind(jwt, kept, holder, request.client_id,
                                            request.nonce), request, staple_of(world, issued)),
                             request=request)
    refused(result, "dcql_claim_missing", "request_satisfied")


# --------------------------------------------------------------------------- key binding


def test_dropped_kb_jwt_is_refused(world: World, verifier: Verifier) -> None:
    issued, _holder, request, text = honest(world, verifier)
    jwt, disclosures, _ = split(text)
    result = verifier.verify(respond(join(jwt, disclosures), request, staple_of(world, issued)),
                             request=request)
    refused(result, "kb_jwt_missing", "signature_disclosures_key_binding")


def test_kb_jwt_for_another_audience_is_refused(world: World, verifier: Verifier) -> None:
    issued, holder, request, _ = honest(world, verifier)
    wallet = HolderCredential.from_issuance(issued.credential)
    jwt, disclosures, _ = split(present_text(world, issued, holder, request))
    text = rebind(jwt, disclosures, holder, "https://other-bank.example", request.nonce)
    assert wallet.jwt_text == jwt
    refused(verifier.verify(respond(text, request, staple_of(world, issued)), request=request),
            "aud_mismatch", "signature_disclosures_key_binding")


def test_kb_jwt_with_another_nonce_is_refused(world: World, verifier: Verifier) -> None:
    issued, holder, request, text = honest(world, verifier)
    jwt, disclosures, _ = split(text)
    forged = rebind(jwt, disclosures, holder, request.client_id, secrets.token_urlsafe(32))
    refused(verifier.verify(respond(forged, request, staple_of(world, issued)), request=request),
            "nonce_mismatch", "signature_disclosures_key_binding")


def test_kb_jwt_signed_by_a_key_other_than_cnf_is_refused(world: World,
                                                          verifier: Verifier) -> None:
    """A thief with the credential but not the holder key cannot bind it."""
    issued, _holder, request, text = honest(world, verifier)
    jwt, disclosures, _ = split(text)
    thief = PrivateKey.generate()
    forged = rebind(jwt, disclosures, thief, request.client_id, request.nonce)
    result = verifier.verify(respond(forged, request, staple_of(world, issued)), request=request)
    refused(result, "kb_jwt_invalid", "signature_disclosures_key_binding")
    assert "signature" in (result.message or "")


def test_kb_jwt_over_other_disclosures_is_refused(world: World, verifier: Verifier) -> None:
    """The KB-JWT's sd_hash binds exactly the disclosures sent: swapping them is caught."""
    issued, _holder, request, text = honest(world, verifier)
    jwt, disclosures, kb = split(text)
    forged = join(jwt, disclosures[:-1], kb)
    refused(verifier.verify(respond(forged, request, staple_of(world, issued)), request=request),
            "sd_hash_mismatch", "signature_disclosures_key_binding")


@pytest.mark.parametrize("offset", [-3600, +3600])
def test_kb_jwt_outside_the_iat_window_is_refused(world: World, verifier: Verifier,
                                                  offset: int) -> None:
    issued, holder, request, text = honest(world, verifier)
    jwt, disclosures, _ = split(text)
    forged = rebind(jwt, disclosures, holder, request.client_id, request.nonce,
                    iat=int(time.time()) + offset)
    refused(verifier.verify(respond(forged, request, staple_of(world, issued)), request=request),
            "kb_jwt_iat_out_of_window", "signature_disclosures_key_binding")


def test_kb_jwt_with_wrong_typ_is_refused(world: World, verifier: Verifier) -> None:
    issued, holder, request, text = honest(world, verifier)
    jwt, disclosures, _ = split(text)
    base = join(jwt, disclosures)
    sd_hash = b64u_encode(hashlib.sha256(base.encode()).digest())
    kb = sign_compact({"typ": "JWT"}, {"iat": int(time.time()), "aud": request.client_id,
                                       "nonce": request.nonce, "sd_hash": sd_hash}, holder)
    result = verifier.verify(respond(base + kb, request, staple_of(world, issued)),
                             request=request)
    refused(result, "kb_jwt_invalid", "signature_disclosures_key_binding")


# --------------------------------------------------------------------------- nonces and requests


def test_replayed_nonce_is_refused(world: World, verifier: Verifier) -> None:
    issued, _holder, request, text = honest(world, verifier)
    response = respond(text, request, staple_of(world, issued))
    assert verifier.verify(response, request=request).verified
    refused(verifier.verify(response, request=request), "nonce_replayed", "nonce_single_use")


def test_replay_across_two_verifier_instances_sharing_postgresql(world: World) -> None:
    """Two instances of the bank's verifier behind a load balancer, one nonce store: the
    presentation that one instance accepted is refused by the other."""
    from verifier.nonce_store import PostgresNonceStore

    url = pg_url()
    schema = "h2_attack_" + secrets.token_hex(6)
    try:
        with world.verifier(nonce_store=PostgresNonceStore(url, schema=schema)) as first, \
                world.verifier(nonce_store=PostgresNonceStore(url, schema=schema)) as second:
            issued, holder = world.issue(9)
            request = first.create_request()
            response = world.present(issued, holder, request)
            assert first.verify(response, request=request).verified
            refused(second.verify(response, request=request), "nonce_replayed",
                    "nonce_single_use")
            # and the other way round: a request made by the second instance
            request2 = second.create_request()
            response2 = world.present(issued, holder, request2)
            assert second.verify(response2, request=request2.to_json()).verified
            refused(first.verify(response2, request=request2.to_json()), "nonce_replayed",
                    "nonce_single_use")
    finally:
        import psycopg

        with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_presentation_for_request_a_against_request_b_is_refused(world: World,
                                                                 verifier: Verifier) -> None:
    issued, holder = world.issue(3)
    request_a = verifier.create_request()
    request_b = verifier.create_request()
    response = world.present(issued, holder, request_a)
    refused(verifier.verify(response, request=request_b), "nonce_mismatch",
            "signature_disclosures_key_binding")
    # request A is still answerable once: a failed attempt against B burnt nothing of A
    assert verifier.verify(response, request=request_a).verified


def test_request_from_another_bank_is_refused(world: World, tmp_path: Path) -> None:
    """A request document signed by another bank's key is not one of ours."""
    other = make_world(tmp_path / "other")
    try:
        with other.verifier() as theirs, world.verifier() as ours:
            request = theirs.create_request()
            issued, holder = world.issue(3)
            response = world.present(issued, holder, request)
            result = ours.verify(response, request=request.to_json())
        refused(result, "invalid_request", "size_and_syntax")
        assert "invalid_signature" in (result.message or "")
    finally:
        other.cra.close()


def test_response_with_two_presentations_is_refused(world: World, verifier: Verifier) -> None:
    issued, _holder, request, text = honest(world, verifier)
    response = PresentationResponse({QID: [text, text]}, request.state,
                                    {QID: [staple_of(world, issued)] * 2})
    refused(verifier.verify(response, request=request), "unsupported_response",
            "size_and_syntax")


def test_response_answering_an_unknown_query_id_is_refused(world: World,
                                                           verifier: Verifier) -> None:
    _issued, _holder, request, text = honest(world, verifier)
    response = PresentationResponse({"something_else": [text]}, request.state)
    refused(verifier.verify(response, request=request), "dcql_unknown_credential",
            "size_and_syntax")


# --------------------------------------------------------------------------- validity times


def test_expired_credential_is_refused(world: World) -> None:
    """Verified 91 days after issuance (credentials live 90 days). The bank's clock moves,
    not the CRA's: in this fresh world a credential issued 91 days *ago* would predate the
    admission of its issuer key, refused as such (see the backdated test below)."""
    later = time.time() + 91 * 86400
    issued, holder = world.issue(3)
    with world.verifier(clock=lambda: later) as v:
        request = v.create_request()
        response = world.present(issued, holder, request, iat=int(later))
        refused(v.verify(response, request=request), "expired",
                "signature_disclosures_key_binding")


def test_not_yet_valid_credential_is_refused(world: World, verifier: Verifier) -> None:
    holder = PrivateKey.generate()
    [issued] = world.cra.issue_batch([(3, holder.public_key())], now=int(time.time()) + 3600)
    request = verifier.create_request()
    refused(verifier.verify(world.present(issued, holder, request), request=request),
            "not_yet_valid", "signature_disclosures_key_binding")


def test_credential_backdated_before_the_issuer_admission_is_refused(
        world: World, verifier: Verifier) -> None:
    """``iat`` before the CRA key was admitted on the registry: that key could not have
    issued it (a stolen-then-rotated key cannot mint "old" credentials)."""
    holder = PrivateKey.generate()
    [issued] = world.cra.issue_batch([(3, holder.public_key())],
                                     now=int(time.time()) - 30 * 86400)
    request = verifier.create_request()
    refused(verifier.verify(world.present(issued, holder, request), request=request),
            "issuer_key_not_valid_at_issuance", "signature_disclosures_key_binding")


# --------------------------------------------------------------------------- revocation


def test_revoked_credential_is_refused(world: World, verifier: Verifier) -> None:
    """Revoked by the CRA the normal way: status list bit and registry revocation entry."""
    issued, holder = world.issue(3)
    world.cra.revoke(issued.digest, "data_error")
    request = verifier.create_request()
    result = verifier.verify(world.present(issued, holder, request), request=request)
    refused(result, "revoked", "registry_anchor")  # the registry is asked first (online)


def test_revoked_on_the_status_list_only_is_refused(world: World, verifier: Verifier) -> None:
    """The registry has no revocation entry (not yet appended), but the CRA's freshly
    stapled, signed status list says INVALID: the status list catches it."""
    issued, holder = world.issue(3)
    assert world.cra.state.mark_revoked(issued.digest, "data_error")
    request = verifier.create_request()
    response = world.present(issued, holder, request)
    refused(verifier.verify(response, request=request), "revoked", "not_revoked")


def test_revoked_on_the_registry_only_is_refused(world: World, verifier: Verifier) -> None:
    """The CRA's status list still says VALID (stale or lying), but the registry holds a
    revocation entry for the credential: the registry wins."""
    issued, holder = world.issue(3)
    world.cra.registry.append([RevocationEntry(bytes.fromhex(issued.digest), "key_compromise",
                                               int(time.time()))], world.cra.key,
                              world.cra.issuer_id)
    request = verifier.create_request()
    response = world.present(issued, holder, request)
    assert response.staples[QID][0].status_list_token is not None  # stapled: says VALID
    refused(verifier.verify(response, request=request), "revoked", "registry_anchor")


def test_revoked_on_the_registry_only_is_refused_without_staples(world: World,
                                                                 verifier: Verifier) -> None:
    issued, holder = world.issue(3)
    world.cra.registry.append([RevocationEntry(bytes.fromhex(issued.digest), "key_compromise",
                                               int(time.time()))], world.cra.key,
                              world.cra.issuer_id)
    request = verifier.create_request()
    response = world.present(issued, holder, request, staple_receipt=False)
    refused(verifier.verify(response, request=request), "revoked", "registry_anchor")


def test_stale_stapled_status_token_is_refused_even_after_it_verified_once(
        world: World) -> None:
    """A holder keeps staple-ing the status token it got before its revocation. The token
    verified (and was remembered) while fresh; once past its ``exp`` it is refused, cache
    or not."""
    clock = [time.time()]
    issued, holder = world.issue(3)
    token = world.cra.status_list_token()
    staple = Staple(json.loads(issued.receipt.to_json()), token)
    with world.verifier(clock=lambda: clock[0]) as v:
        request = v.create_request()
        text = present_text(world, issued, holder, request)
        assert v.verify(respond(text, request, staple), request=request).verified
        clock[0] += 3 * 3600  # the token lives 2 × ttl (10 min); the credential 90 days
        request = v.create_request()
        text = present_text(world, issued, holder, request, iat=int(clock[0]))
        refused(v.verify(respond(text, request, staple), request=request),
                "status_list_expired", "not_revoked")


def test_status_uri_on_another_origin_is_never_fetched(world: World, verifier: Verifier) -> None:
    """A credential (signed by the trusted CRA) whose status list lives elsewhere: without a
    staple the verifier would have to fetch it from that host — it refuses instead."""
    request = verifier.create_request()

    def edit(payload: dict[str, Any]) -> None:
        payload["status"]["status_list"]["uri"] = "http://169.254.169.254/latest/meta-data"

    response = resigned_presentation(world, request, edit=edit)
    staple = response.staples[QID][0]
    response = PresentationResponse(response.vp_token, response.state,
                                    {QID: [Staple(staple.registry_receipt, None)]})
    refused(verifier.verify(response, request=request), "untrusted_status_uri", "not_revoked")


def test_stapled_status_token_for_another_list_is_refused(world: World,
                                                          verifier: Verifier) -> None:
    """The stapled token must be for the list the credential names (its ``sub``)."""
    request = verifier.create_request()

    def edit(payload: dict[str, Any]) -> None:
        payload["status"]["status_list"]["uri"] = world.cra.config.status_uri + "-b"

    response = resigned_presentation(world, request, edit=edit)
    refused(verifier.verify(response, request=request), "status_list_sub_mismatch",
            "not_revoked")


# --------------------------------------------------------------------------- the registry


def test_credential_not_anchored_is_refused(world: World, verifier: Verifier) -> None:
    holder = PrivateKey.generate()
    report = world.cra.report(3)
    text, _ = world.cra.build(report, holder.public_key(), now=int(time.time()), seed=3,
                              status_idx=UNUSED_STATUS_IDX)
    request = verifier.create_request()
    presented = present_issuance(text, holder, request)
    response = respond(presented, request, Staple(None, world.cra.status_list_token()))
    refused(verifier.verify(response, request=request), "not_anchored", "registry_anchor")


def test_receipt_of_another_credential_is_refused(world: World, verifier: Verifier) -> None:
    _issued, _holder, request, text = honest(world, verifier)
    other, _ = world.issue(4)
    staple = Staple(json.loads(other.receipt.to_json()), world.cra.status_list_token())
    refused(verifier.verify(respond(text, request, staple), request=request),
            "invalid_receipt", "registry_anchor")


def test_receipt_with_a_forged_inclusion_proof_is_refused(world: World,
                                                          verifier: Verifier) -> None:
    issued, _holder, request, text = honest(world, verifier)
    receipt = json.loads(issued.receipt.to_json())
    receipt["index"] = 0 if receipt["index"] else 1  # another leaf of the same tree
    staple = Staple(receipt, world.cra.status_list_token())
    refused(verifier.verify(respond(text, request, staple), request=request), "invalid_proof",
            "registry_anchor")


def test_checkpoint_signed_by_an_unknown_log_key_is_refused(world: World, verifier: Verifier,
                                                            tmp_path: Path) -> None:
    """An impostor registry (same origin name, its own log and witness keys) anchors an
    unanchored credential: its receipt is internally valid but not under our log's key."""
    evil = tmp_path / "evil-registry"
    init_registry(evil)
    log = open_log(evil)
    try:
        log.admit_issuer(world.cra.metadata())
    finally:
        log.close()
    holder = PrivateKey.generate()
    with Cra(world.root / "cra", registry=LocalRegistry(evil)) as cra:
        [issued] = cra.issue_batch([(3, holder.public_key())])
    request = verifier.create_request()
    response = world.present(issued, holder, request)
    refused(verifier.verify(response, request=request), "unknown_log_key", "registry_anchor")


def test_checkpoint_without_the_witness_cosignature_is_refused(world: World,
                                                               verifier: Verifier) -> None:
    issued, _holder, request, text = honest(world, verifier)
    receipt = json.loads(issued.receipt.to_json())
    origin = world.keys["log"]["origin"]
    lines = receipt["checkpoint"].split("\n")
    cosignatures = [ln for ln in lines if ln.startswith("\u2014 ") and
                    not ln.startswith(f"\u2014 {origin} ")]
    assert cosignatures, "the receipt's checkpoint should carry a witness cosignature"
    receipt["checkpoint"] = "\n".join(ln for ln in lines if ln not in cosignatures)
    staple = Staple(receipt, world.cra.status_list_token())
    refused(verifier.verify(respond(text, request, staple), request=request),
            "witness_quorum_not_met", "registry_anchor")


def test_checkpoint_with_a_forged_witness_cosignature_is_refused(world: World,
                                                                 verifier: Verifier) -> None:
    issued, _holder, request, text = honest(world, verifier)
    receipt = json.loads(issued.receipt.to_json())
    origin = world.keys["log"]["origin"]
    out = []
    for line in receipt["checkpoint"].split("\n"):
        if line.startswith("\u2014 ") and not line.startswith(f"\u2014 {origin} "):
            name, sig = line[2:].rsplit(" ", 1)
            raw = bytearray(base64.b64decode(sig))
            raw[-1] ^= 0x01
            line = f"\u2014 {name} {base64.b64encode(bytes(raw)).decode()}"
        out.append(line)
    receipt["checkpoint"] = "\n".join(out)
    # C2SP signed-note: a line from a known (name, key ID) MUST verify, else the whole note
    # is rejected — not merely "one cosignature short"
    refused(verifier.verify(respond(text, request, Staple(receipt, None)), request=request),
            "invalid_note", "registry_anchor")


def _fork(world: World) -> Path:
    """A second copy of the registry (same origin, same log and witness keys)."""
    fork = world.root / "reg-fork"
    shutil.copytree(world.registry_home, fork)
    return fork


def test_split_view_is_detected(world: World, verifier: Verifier) -> None:
    """A log (with a colluding witness) shows two histories: after the bank has seen one,
    a receipt from the other, at the same size, is a split view."""
    fork = _fork(world)
    holder_a, holder_b = PrivateKey.generate(), PrivateKey.generate()
    [issued_a] = world.cra.issue_batch([(3, holder_a.public_key())])
    with Cra(world.root / "cra", registry=LocalRegistry(fork)) as forked_cra:
        [issued_b] = forked_cra.issue_batch([(4, holder_b.public_key())])
    assert issued_a.receipt.index == issued_b.receipt.index  # same size, different roots

    request = verifier.create_request()
    assert verifier.verify(world.present(issued_a, holder_a, request), request=request).verified
    request = verifier.create_request()
    refused(verifier.verify(world.present(issued_b, holder_b, request), request=request),
            "split_view", "registry_anchor")


def test_split_view_is_remembered_across_restarts(world: World) -> None:
    """The checkpoint memory lives under the bank's home: a new verifier instance still
    refuses fork B. Here fork B is one entry *longer*: the log signed (and its witness
    cosigned) a tree its own API cannot prove consistent with the one the bank saw."""
    fork = _fork(world)
    holder_a, holder_b = PrivateKey.generate(), PrivateKey.generate()
    [issued_a] = world.cra.issue_batch([(3, holder_a.public_key())])
    with Cra(world.root / "cra", registry=LocalRegistry(fork)) as forked_cra:
        issued_b, _ = forked_cra.issue_batch([(4, holder_b.public_key()),
                                              (5, holder_b.public_key())])
    with world.verifier() as v:
        request = v.create_request()
        assert v.verify(world.present(issued_a, holder_a, request), request=request).verified
    with world.verifier() as v:
        request = v.create_request()
        result = v.verify(world.present(issued_b, holder_b, request), request=request)
    refused(result, "split_view", "registry_anchor")


# --------------------------------------------------------------------------- issuers


def test_untrusted_cra_is_refused_even_when_admitted_on_the_registry(
        world: World, verifier: Verifier, tmp_path: Path) -> None:
    home = tmp_path / "rogue-cra"
    init_issuer(home, registry=str(world.registry_home), url="http://127.0.0.1:8799")
    with Cra(home) as rogue:
        log = open_log(world.registry_home)
        try:
            log.admit_issuer(rogue.metadata())
        finally:
            log.close()
        holder = PrivateKey.generate()
        [issued] = rogue.issue_batch([(3, holder.public_key())])
        request = verifier.create_request()
        response = world.present(issued, holder, request)
        response = PresentationResponse(response.vp_token, response.state,
                                        {QID: [Staple(json.loads(issued.receipt.to_json()),
                                                      rogue.status_list_token())]})
        refused(verifier.verify(response, request=request), "untrusted_issuer", "issuer_trusted")


def test_trusted_cra_whose_key_is_not_admitted_is_refused(world: World,
                                                          tmp_path: Path) -> None:
    home = tmp_path / "unadmitted-cra"
    init_issuer(home, registry=str(world.registry_home), url="http://127.0.0.1:8798")
    with Cra(home) as cra:
        add_issuer(world.bank_home, cra.metadata(), "Unadmitted CRA")
        holder = PrivateKey.generate()
        text, _ = cra.build(cra.report(3), holder.public_key(), now=int(time.time()), seed=3,
                            status_idx=UNUSED_STATUS_IDX)
        with world.verifier() as v:
            request = v.create_request()
            response = respond(present_issuance(text, holder, request), request,
                               Staple(None, cra.status_list_token()))
            refused(v.verify(response, request=request), "issuer_key_not_on_registry",
                    "issuer_key_on_registry")


def test_trusted_issuer_name_with_another_issuers_key_is_refused(
        world: World, verifier: Verifier, tmp_path: Path) -> None:
    """A second CRA, admitted on the registry, claims ``iss`` of the trusted CRA but
    signs with its own key (naming its own kid): the bank has no such key for that issuer."""
    home = tmp_path / "impersonating-cra"
    init_issuer(home, registry=str(world.registry_home), url="http://127.0.0.1:8797")
    with Cra(home) as rogue:
        _issued, holder, request, text = honest(world, verifier)
        jwt, disclosures, _ = split(text)
        forged = resign(jwt, rogue.key, header={"kid": rogue.config.kid})
        result = verifier.verify(respond(rebind(forged, disclosures, holder, request.client_id,
                                                request.nonce), request), request=request)
    refused(result, "untrusted_issuer", "issuer_trusted")


# --------------------------------------------------------------------------- JSON-LD


def test_remote_json_ld_context_is_refused(world: World, verifier: Verifier) -> None:
    """A credential (validly signed and anchored by the CRA) whose ``ld`` pulls in a context
    from the network: the verifier never fetches it and refuses the document."""
    request = verifier.create_request()

    def edit(payload: dict[str, Any]) -> None:
        payload["ld"]["@context"].append("https://evil.example/context.jsonld")

    response = resigned_presentation(world, request, edit=edit)
    refused(verifier.verify(response, request=request), "unknown_context", "jsonld_terms")


def test_inline_json_ld_context_is_refused(world: World, verifier: Verifier) -> None:
    """An inline context object could redefine terms: only allow-listed URLs are accepted."""
    request = verifier.create_request()

    def edit(payload: dict[str, Any]) -> None:
        payload["ld"]["@context"].append({"riskGrade": "https://evil.example/grade"})

    response = resigned_presentation(world, request, edit=edit)
    refused(verifier.verify(response, request=request), "unknown_context", "jsonld_terms")


def test_undefined_json_ld_term_is_refused(world: World, verifier: Verifier) -> None:
    request = verifier.create_request()

    def edit(payload: dict[str, Any]) -> None:
        payload["ld"]["credentialSubject"]["approvedByBank"] = True

    response = resigned_presentation(world, request, edit=edit)
    refused(verifier.verify(response, request=request), "undefined_term", "jsonld_terms")


# --------------------------------------------------------------------------- size and shape


def test_oversized_presentation_is_refused(world: World, verifier: Verifier) -> None:
    issued, holder, request, text = honest(world, verifier)
    jwt, disclosures, _ = split(text)
    padding = [b64json([b64u_encode(secrets.token_bytes(16)), f"pad{i}", "x" * 4000])
               for i in range(70)]
    big = rebind(jwt, [*disclosures, *padding], holder, request.client_id, request.nonce)
    assert len(big) > 256 * 1024
    result = verifier.verify(respond(big, request, staple_of(world, issued)), request=request)
    refused(result, "limit_exceeded", "size_and_syntax")
    # and as raw text of more than the response limit (1 MiB)
    refused(verifier.verify("A" * (1024 * 1024 + 1), request=request), "limit_exceeded",
            "size_and_syntax")


@pytest.mark.parametrize(("depth", "reason"), [(100, "limit_exceeded"), (5_000, "invalid_json"),
                                               (200_000, "invalid_json")])
def test_deeply_nested_response_is_refused(world: World, verifier: Verifier, depth: int,
                                           reason: str) -> None:
    """Below the recursion limit the depth bound names it; beyond, the parser's own
    recursion guard becomes ``invalid_json`` — never a RecursionError."""
    request = verifier.create_request()
    doc = '{"vp_token": {"credit_report": [' + "[" * depth + "]" * depth + "]}}"
    refused(verifier.verify(doc, request=request), reason, "size_and_syntax")


@pytest.mark.parametrize(("depth", "reason", "check"), [
    (100, "limit_exceeded", "signature_disclosures_key_binding"),
    (5_000, "invalid_json", "size_and_syntax"),
])
def test_deeply_nested_issuer_payload_is_refused(world: World, verifier: Verifier, depth: int,
                                                 reason: str, check: str) -> None:
    """A CRA-signed payload nested deep: bounded, named, no RecursionError."""
    request = verifier.create_request()

    def edit(payload: dict[str, Any]) -> None:
        node: dict[str, Any] = {}
        payload["ld"]["credentialSubject"]["deep"] = node
        for _ in range(depth):
            node["n"] = {}
            node = node["n"]

    issued, holder = world.issue(3)
    jwt, disclosures, _ = split(present_text(world, issued, holder, request))
    decoded = decode_compact(jwt)
    payload = decoded.claims()
    edit(payload)
    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)  # only to *build* the token; the verifier runs normally
    try:
        body = b64u_encode(json.dumps(payload).encode())
    finally:
        sys.setrecursionlimit(limit)
    header = b64json({k: v for k, v in decoded.header.items()})
    signing_input = f"{header}.{body}".encode()
    forged = f"{header}.{body}.{b64u_encode(world.cra.key.sign(signing_input))}"
    result = verifier.verify(respond(rebind(forged, disclosures, holder, request.client_id,
                                            request.nonce), request), request=request)
    refused(result, reason, check)


@pytest.mark.parametrize(("depth", "reason"), [(20_000, "malformed_disclosure"),
                                               (50_000, "limit_exceeded")])
def test_deeply_nested_disclosure_is_refused(world: World, verifier: Verifier, depth: int,
                                             reason: str) -> None:
    """Too deep for the parser (malformed) or too large to even parse (64 KiB limit)."""
    issued, holder, request, text = honest(world, verifier)
    jwt, disclosures, _ = split(text)
    deep = "[" * depth + "]" * depth
    evil = b64u_encode(f'["{b64u_encode(secrets.token_bytes(16))}","x",{deep}]'.encode())
    result = verifier.verify(respond(rebind(jwt, [*disclosures, evil], holder,
                                            request.client_id, request.nonce),
                                     request, staple_of(world, issued)), request=request)
    refused(result, reason, "signature_disclosures_key_binding")


def test_deeply_nested_referenced_disclosure_is_refused(world: World,
                                                        verifier: Verifier) -> None:
    """A CRA-issued disclosure whose value nests past the walk's depth bound (48)."""
    from vc.sdjwt import SD
    from vc.sdjwt_vc import issue_credential

    holder = PrivateKey.generate()
    value: Any = "bottom"
    for _ in range(60):
        value = {"n": value}
    issued = issue_credential({"ld": {SD("deep"): value}}, world.cra.key,
                              issuer=world.cra.issuer_id,
                              vct="https://w3id.org/selfcarry/vct/hk-credit-report/v1",
                              iat=int(time.time()), exp=int(time.time()) + 3600,
                              holder_key=holder.public_key(), kid=world.cra.config.kid)
    request = verifier.create_request()
    text = rebind(issued.jwt, list(issued.disclosures), holder, request.client_id,
                  request.nonce)
    refused(verifier.verify(respond(text, request), request=request), "limit_exceeded",
            "signature_disclosures_key_binding")


@pytest.mark.parametrize("presentation", [
    "", "~", "~~~", "a.b.c", "a.b.c~", "{}", "[]", "null", '{"vp_token": {}}',
    '{"vp_token": {"credit_report": []}}', '{"vp_token": {"credit_report": [1]}}',
    '{"vp_token": {"credit_report": ["x"]}, "extra": 1}', "\x00\x01\x02", "\ud800",
    '{"vp_token": {"credit_report": ["a"]}, "vp_token": {}}',
])
def test_garbage_is_a_named_rejection(world: World, verifier: Verifier,
                                      presentation: str) -> None:
    request = verifier.create_request()
    result = verifier.verify(presentation, request=request)
    assert result.reason and result.reason != "verification_error"
    refused(result, result.reason, "size_and_syntax")


def test_garbage_request_is_a_named_rejection(world: World, verifier: Verifier) -> None:
    _issued, _holder, request, text = honest(world, verifier)
    for bad in ("", "{}", "not json", {"id": 1}, {**request.to_json(), "nonce": "x"},
                {**request.to_json(), "request": "a.b.c"}, 42, b"\xff"):
        result = verifier.verify(respond(text, request), request=bad)
        refused(result, "invalid_request", "size_and_syntax")
