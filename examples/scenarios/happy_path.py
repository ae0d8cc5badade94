"""Happy path: a resident shows a Shenzhen bank a loan pre-check, and the bank verifies it.

Expected: the bank's verdict is VERIFIED (every check passed); the lending policy's
decision is reported apart and does not change that.
"""

from __future__ import annotations

from ._world import PURPOSE, build_world, say, tell_bank


def main() -> int:
    say("Scenario: happy path — an honest resident, an admitted bank, a trusted CRA.")
    with build_world() as world:
        issued, stored = world.issue_to_wallet(seed=7)
        say(f"1. The CRA issued a credit report and anchored its digest at registry index "
            f"{issued.receipt.index}; the wallet checked it and stored it as {stored.id}.")
        with world.bank() as bank:
            request = bank.create_request("loan-precheck", PURPOSE)
            say(f"2. The bank opened a loan pre-check request ({request.id}).")
            review, delivery = world.answer(request)
            say(f"3. The wallet saw an {'authenticated' if review.authenticated else 'UNKNOWN'}"
                f" bank ({review.bank_name}) asking for: {review.purpose_text()}.")
            [candidate] = review.candidates
            say(f"   It disclosed only the {len(candidate.required)} claims the request "
                f"requires, e.g. {candidate.required[0].dotted}; accounts, enquiries and the "
                f"HKID stay in the wallet.")
            result = bank.verify(delivery.response, request=request)
    tell_bank(result)
    if result.verified:
        say("As expected: every check passed, so the bank can rely on the disclosed claims.")
        return 0
    say("UNEXPECTED: the honest presentation was refused.")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
