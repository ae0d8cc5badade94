"""A tampered presentation: the resident edits the report on the way to the bank.

Two edits, each one character of the decoded report:

* a disclosure: the risk grade H becomes A. Its digest no longer
  matches any digest the CRA signed — expected ``unreferenced_disclosure``;
* the issuer-signed payload: the expiry year is pushed forward. The CRA's signature
  no longer matches — expected ``invalid_signature``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from vc.b64 import b64u_decode, b64u_encode
from verifier import Verifier

from ._world import PURPOSE, World, build_world, expect_rejection, say

QID = "credit_report"  # the credential query id of the built-in loan-precheck request


def _b64json(value: Any) -> str:
    return b64u_encode(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def better_grade(presentation: str) -> str:
    """Change the disclosed risk grade to the best one, A (one character)."""
    jwt, *disclosures, kb = presentation.split("~")
    for i, disclosure in enumerate(disclosures):
        decoded = json.loads(b64u_decode(disclosure))
        if len(decoded) == 3 and decoded[1] == "riskGrade":
            grade = decoded[2]
            decoded[2] = "A" if grade != "A" else "B"
            say(f"   The disclosed riskGrade {grade} becomes {decoded[2]}.")
            disclosures[i] = _b64json(decoded)
            return "~".join([jwt, *disclosures, kb])
    raise RuntimeError("the presentation discloses no riskGrade")


def longer_validity(presentation: str) -> str:
    """Push the credential's exp a year on, keeping the CRA's original signature."""
    jwt, rest = presentation.split("~", 1)
    header, payload_b64, signature = jwt.split(".")
    payload = json.loads(b64u_decode(payload_b64))
    payload["exp"] += 365 * 86400
    say("   The signed payload's exp moves one year later; the CRA's signature is kept.")
    return ".".join([header, _b64json(payload), signature]) + "~" + rest


def tamper_and_verify(world: World, bank: Verifier, edit: Callable[[str], str]) -> Any:
    request = bank.create_request("loan-precheck", PURPOSE)
    _, delivery = world.answer(request)
    response = json.loads(json.dumps(delivery.response))  # a copy we may edit
    response["vp_token"][QID][0] = edit(response["vp_token"][QID][0])
    return bank.verify(response, request=request)


def main() -> int:
    say("Scenario: a tampered presentation.")
    with build_world() as world:
        world.issue_to_wallet(seed=6)  # a report graded H
        with world.bank() as bank:
            say("1. The resident edits a disclosure before it reaches the bank.")
            disclosure = tamper_and_verify(world, bank, better_grade)
            failed = expect_rejection(disclosure, "unreferenced_disclosure",
                                      "the CRA signed a digest of every disclosure; an edited "
                                      "disclosure matches none of them.")
            say("2. The resident edits the CRA-signed part instead.")
            payload = tamper_and_verify(world, bank, longer_validity)
            failed |= expect_rejection(payload, "invalid_signature",
                                       "the CRA's signature covers the whole payload; any "
                                       "change breaks it.")
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
