"""An expired report: issued long ago, its validity period (90 days) is over.

Expected: the wallet refuses to store it (``expired``), and when it is presented
anyway — by hand, outside the wallet, with the holder key the wallet reserved for
it — the bank refuses it with ``expired``.
"""

from __future__ import annotations

import json
import time

from vc import dcql
from vc.errors import SelfcarryError
from vc.jose import PublicKey
from vc.presentation_response import PresentationResponse, Staple
from vc.sdjwt import HolderCredential

from ._world import PURPOSE, build_world, expect_rejection, say

DAYS_AGO = 120


def main() -> int:
    say("Scenario: an expired report.")
    with build_world() as world:
        keys = world.wallet.keys
        jwk = world.wallet.reserve_holder_key()
        holder = keys.holder_key(keys.key_id_for_jwk(jwk))
        long_ago = int(time.time()) - DAYS_AGO * 86400
        [issued] = world.cra.issue_batch([(11, PublicKey.from_jwk(jwk))], now=long_ago)
        say(f"1. The CRA issued a report {DAYS_AGO} days ago; it was valid for "
            f"{world.cra.config.credential_days} days.")
        try:
            world.wallet.import_credential(issued.credential,
                                           json.loads(issued.receipt.to_json()))
            say("UNEXPECTED: the wallet stored an expired report.")
            return 1
        except SelfcarryError as exc:
            say(f"2. The wallet concluded: not stored ({exc.code}) — {exc.message}.")
            if exc.code != "expired":
                say("UNEXPECTED: the wallet should have refused it as expired.")
                return 1
        with world.bank() as bank:
            request = bank.create_request("loan-precheck", PURPOSE)
            say("3. The resident presents it by hand anyway: the required claims, a fresh "
                "Key Binding JWT for this request, and the registry receipt.")
            credential = HolderCredential.from_issuance(issued.credential)
            [match] = dcql.match(request.dcql_query,
                                 [("c", credential.claims["vct"], credential.claims)])
            text = credential.present([list(p) for p in match.required], holder_key=holder,
                                      aud=request.client_id, nonce=request.nonce,
                                      iat=int(time.time()))
            qid = request.query.ids[0]
            staple = Staple(json.loads(issued.receipt.to_json()), world.cra.status_list_token())
            response = PresentationResponse({qid: [text]}, request.state, {qid: [staple]})
            result = bank.verify(response, request=request)
    return expect_rejection(result, "expired",
                            "the CRA vouched for this report only until its exp; an old "
                            "report says nothing about the resident's credit today.")


if __name__ == "__main__":
    raise SystemExit(main())
