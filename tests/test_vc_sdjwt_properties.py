"""Property tests: issue → present → verify round-trips for arbitrary claims and
selections, and every single-character change to a presentation is rejected."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vc import errors
from vc.jose import PrivateKey
from vc.sdjwt import SD, Decoys, HolderCredential, KeyBindingPolicy, issue, verify

ISSUER, HOLDER = PrivateKey.generate(), PrivateKey.generate()
AUD, NONCE, NOW = "https://bank.example", "nonce-123", 1_750_000_000
POLICY = KeyBindingPolicy(aud=AUD, nonce=NONCE, now=NOW)

names = st.text(min_size=1, max_size=8).filter(lambda s: s not in ("_sd", "...", "_sd_alg"))
scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=12) | st.floats(
    allow_nan=False, allow_infinity=False
)


def _marked(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Containers whose keys and elements are randomly made selectively disclosable."""
    def mark_dict(d: dict[str, Any], flags: list[bool]) -> dict[Any, Any]:
        return {(SD(k) if f else k): v for (k, v), f in zip(d.items(), flags, strict=False)}

    def mark_list(items: list[Any], flags: list[bool]) -> list[Any]:
        return [SD(v) if f else v for v, f in zip(items, flags, strict=False)]

    dicts = st.builds(mark_dict, st.dictionaries(names, children, max_size=4),
                      st.lists(st.booleans(), min_size=4, max_size=4))
    lists = st.builds(mark_list, st.lists(children, max_size=4),
                      st.lists(st.booleans(), min_size=4, max_size=4))
    return dicts | lists


claims_strategy = st.builds(
    lambda d, flags: {(SD(k) if f else k): v for (k, v), f in zip(d.items(), flags, strict=False)},
    st.dictionaries(
        names.filter(lambda n: n != "cnf"),
        st.recursive(scalars, _marked, max_leaves=12),
        max_size=5,
    ),
    st.lists(st.booleans(), min_size=5, max_size=5),
)


def _oracle(value: Any, chosen: set[tuple[Any, ...]], path: tuple[Any, ...] = ()) -> Any:
    """Claims the verifier must see: an SD node is present iff it or a node below it was chosen."""
    def released(p: tuple[Any, ...]) -> bool:
        return any(c[: len(p)] == p for c in chosen)

    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            name = key.value if isinstance(key, SD) else key
            if isinstance(key, SD) and not released((*path, name)):
                continue
            out[name] = _oracle(item, chosen, (*path, name))
        return out
    if isinstance(value, list):
        result = []
        for pos, item in enumerate(value):
            if isinstance(item, SD):
                if not released((*path, pos)):
                    continue
                item = item.value
            result.append(_oracle(item, chosen, (*path, pos)))
        return result
    return value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claims=claims_strategy, data=st.data())
def test_round_trip_any_claims_any_selection(claims: dict[Any, Any], data: st.DataObject) -> None:
    issued = issue(claims, ISSUER, holder_key=HOLDER.public_key(), decoys=Decoys(0, 2))
    holder = HolderCredential.from_issuance(issued.serialization)
    disclosable = holder.disclosable_paths()
    chosen = data.draw(st.lists(st.sampled_from(disclosable), unique=True) if disclosable
                       else st.just([]))
    presentation = holder.present(
        chosen, descendants=False, holder_key=HOLDER, aud=AUD, nonce=NONCE, iat=NOW
    )
    result = verify(presentation, ISSUER.public_key(), key_binding=POLICY)
    expected = _oracle(claims, set(chosen))
    expected["cnf"] = {"jwk": HOLDER.public_key().to_jwk()}
    assert result.claims == expected


FIXED = issue(
    {"iss": "https://cra.example", SD("name"): "Chan", "score": {SD("grade"): "B", SD("value"): 3468},
     "accounts": [SD({"limit": 80000}), SD({"limit": 5000})]},
    ISSUER, holder_key=HOLDER.public_key(), decoys=Decoys(1, 2),
)
PRESENTATION = HolderCredential.from_issuance(FIXED.serialization).present(
    [["score", "grade"], ["accounts", 1]], holder_key=HOLDER, aud=AUD, nonce=NONCE, iat=NOW
)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~=+/ {}\"\x00é"


@settings(max_examples=400, deadline=None)
@given(position=st.integers(0, len(PRESENTATION) - 1), replacement=st.sampled_from(ALPHABET))
def test_any_single_character_change_is_rejected_with_a_name(position: int, replacement: str) -> None:
    if PRESENTATION[position] == replacement:
        return
    mutated = PRESENTATION[:position] + replacement + PRESENTATION[position + 1:]
    try:
        verify(mutated, ISSUER.public_key(), key_binding=POLICY)
    except errors.VCError as exc:
        assert exc.code and exc.message
    else:
        raise AssertionError(f"a change at {position} was accepted")


def test_unmutated_presentation_verifies() -> None:
    assert verify(PRESENTATION, ISSUER.public_key(), key_binding=POLICY).claims["score"] == {
        "grade": "B"}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=400))
def test_arbitrary_input_gets_a_named_rejection(blob: bytes | str) -> None:
    text = blob.decode("latin-1") if isinstance(blob, bytes) else blob
    try:
        verify(text, ISSUER.public_key(), key_binding=POLICY)
    except errors.VCError:
        pass
    else:
        raise AssertionError("garbage verified")
