"""A replayed presentation: someone who captured a resident's answer sends it again.

Expected: the first delivery verifies; the second is refused with ``nonce_replayed``
— each request's nonce is accepted once, and the Key Binding JWT is bound to it.
"""

from __future__ import annotations

from ._world import PURPOSE, build_world, expect_rejection, say, tell_bank


def main() -> int:
    say("Scenario: a replayed presentation.")
    with build_world() as world:
        world.issue_to_wallet(seed=9)
        with world.bank() as bank:
            request = bank.create_request("loan-precheck", PURPOSE)
            _, delivery = world.answer(request)
            first = bank.verify(delivery.response, request=request)
            say("1. The resident's answer reached the bank:")
            tell_bank(first)
            if not first.verified:
                say("UNEXPECTED: the original delivery should have verified.")
                return 1
            say("2. An eavesdropper (or a careless intermediary) sends the same answer again.")
            again = bank.verify(delivery.response, request=request)
    return expect_rejection(again, "nonce_replayed",
                            "a presentation answers one request once; a copy proves nothing "
                            "about who is at the counter now.")


if __name__ == "__main__":
    raise SystemExit(main())
