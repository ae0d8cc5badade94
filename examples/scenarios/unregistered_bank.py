"""A request from a bank the registry operator never admitted.

Anyone can make a key and sign a request claiming to be a bank. The resident's
wallet authenticates a request only when it is signed by a key the registry admitted
for that ``client_id``. Expected: the wallet marks the request unauthenticated and
refuses to answer without the resident's explicit confirmation
(``unauthenticated_request``); the refusal is recorded in the wallet's history.
"""

from __future__ import annotations

from wallet.api import RequestRefused

from ._world import PURPOSE, build_world, say


def main() -> int:
    say("Scenario: a request from a bank the registry never admitted.")
    with build_world(admit_bank=False) as world:
        world.issue_to_wallet(seed=15)
        with world.bank() as bank:
            request = bank.create_request("loan-precheck", PURPOSE)
            say(f"1. A 'bank' calling itself {bank.client_id} sends a loan pre-check request.")
        wallet = world.wallet
        review = wallet.open_request(request.to_json_text())
        say(f"2. The wallet checked the request's signing key against the registry: "
            f"{'authenticated' if review.authenticated else 'NOT authenticated'} "
            f"({review.auth_detail}).")
        for warning in review.warnings:
            say(f"   warning ({warning.code}): {warning.message}")
        try:
            wallet.approve(review, review.candidates[0].credential_id, deliver="none")
        except RequestRefused as exc:
            say(f"The wallet concluded: NOT SENT ({exc.code}) — {exc.message}.")
            if exc.code != "unauthenticated_request":
                say("UNEXPECTED: the wallet refused for another reason.")
                return 1
        else:
            say("UNEXPECTED: the wallet answered an unauthenticated request unasked.")
            return 1
        row = wallet.decline(review)
        say(f"3. The resident declines; the wallet signs and keeps a consent receipt: "
            f"{row.decision}, {row.outcome}, to {row.client_id}.")
    say("As expected: nothing left the wallet. Only a bank the platform operator admitted "
        "can be told apart from a phishing page; answering anyone else takes an explicit "
        "'yes, even so' from the resident (wallet present --yes-unauthenticated).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
