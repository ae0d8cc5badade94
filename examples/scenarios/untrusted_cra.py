"""A report from a CRA the bank does not trust.

A second credit reference agency (Nova Credit HK, simulated) is admitted on the
registry, so the resident's wallet accepts its report. But this bank has not chosen
to trust that CRA. Expected: the bank refuses with ``untrusted_issuer`` — being on
the registry proves a CRA's key is genuine, not that every bank must rely on it.
"""

from __future__ import annotations

from ._world import PURPOSE, build_world, expect_rejection, say


def main() -> int:
    say("Scenario: a report from a CRA this bank does not trust.")
    with build_world() as world:
        nova = world.start_cra("nova", cra="nova-credit-hk")
        say(f"1. The registry operator admitted a second CRA, nova-credit-hk ({nova.issuer_id}).")
        _, stored = world.issue_to_wallet(seed=12, cra=nova)
        say(f"2. It issued a report to the resident; the wallet verified it against the registry "
            f"and stored it as {stored.id} ({stored.issuer_name}).")
        with world.bank() as bank:
            trusted = ", ".join(sorted(meta.issuer for meta in bank.issuers))
            say(f"3. The bank trusts only TransUnion HK (simulated) at {trusted}; the resident "
                f"shows it the Nova report.")
            request = bank.create_request("loan-precheck", PURPOSE)
            _, delivery = world.answer(request)
            result = bank.verify(delivery.response, request=request)
    return expect_rejection(result, "untrusted_issuer",
                            "the bank decides which CRAs it relies on; a report from any other "
                            "is refused before its contents are even read.")


if __name__ == "__main__":
    raise SystemExit(main())
