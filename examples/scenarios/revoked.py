"""A revoked report: the CRA withdrew it after issuance; the resident presents it anyway.

Expected: the bank refuses with ``revoked`` — the registry holds a revocation entry
for the credential's digest (and the CRA's status list bit is set).
"""

from __future__ import annotations

from ._world import PURPOSE, build_world, expect_rejection, say


def main() -> int:
    say("Scenario: a revoked report.")
    with build_world() as world:
        issued, stored = world.issue_to_wallet(seed=8)
        say(f"1. The wallet holds report {stored.id} (registry index {issued.receipt.index}).")
        index = world.cra.revoke(issued.digest, "data_error")
        say(f"2. The CRA found a data error and revoked it: status list bit set, and a "
            f"revocation entry for its digest appended at registry index {index}.")
        with world.bank() as bank:
            request = bank.create_request("loan-precheck", PURPOSE)
            _, delivery = world.answer(request)
            say("3. The resident presents the report to the bank anyway.")
            result = bank.verify(delivery.response, request=request)
    return expect_rejection(result, "revoked",
                            "the registry and the CRA both say this report was withdrawn, so "
                            "the bank must not rely on it.")


if __name__ == "__main__":
    raise SystemExit(main())
