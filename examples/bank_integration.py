"""A bank embedding the selfcarry verifier in its own loan application.

:class:`PrecheckDesk` is all a bank writes: build a :class:`~verifier.Verifier` from
the bank's home (identity, request-signing key, trusted CRAs and registries, lending
policy, nonce store — set up once with the ``verifier`` CLI), create a request, and
turn the wallet's answer into what a loan officer reads. The bank's web framework
receives the wallet's ``direct_post`` body at ``response_uri`` and hands it to
:meth:`PrecheckDesk.finish` (or the bank runs ``verifier serve``, which does exactly
this). Run ``python -m examples.bank_integration`` to see it answer a real wallet in a
throwaway world (``examples/scenarios/_world.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vc.errors import SelfcarryError
from vc.presentation_response import PresentationResponse
from verifier import Verifier


class PrecheckDesk:
    def __init__(self, bank_home: str | Path) -> None:
        self.verifier = Verifier.from_home(bank_home)

    def start(self) -> dict[str, Any]:
        """A fresh request: show its ``uri`` as a QR code, or hand the whole document over."""
        request = self.verifier.create_request("loan-precheck", "Consumer loan pre-check")
        return request.to_json()

    def finish(self, form_body: bytes) -> dict[str, Any]:
        """The wallet's POST body → the officer's view. Never raises for bad input."""
        try:
            response = PresentationResponse.from_form(form_body)
        except SelfcarryError as exc:
            return {"verified": False, "reason": exc.code, "message": exc.message}
        result = self.verifier.verify(response)  # finds its request by `state`, uses it once
        if not result.verified or result.policy is None:
            return {"verified": False, "reason": result.reason, "message": result.message}
        subject = result.claims["ld"]["credentialSubject"]
        return {
            "verified": True,
            "applicant": subject["identity"]["nameEn"],
            "birth_date": subject["identity"]["birthDate"],
            "risk_grade": subject["assessment"]["riskGrade"],
            "decision": result.policy.decision,  # approve | refer | decline
            "reasons": [reason.en for reason in result.policy.reasons],
        }

    def close(self) -> None:
        self.verifier.close()


def main() -> int:
    from examples.scenarios._world import build_world

    with build_world() as world:
        world.issue_to_wallet(seed=3)
        desk = PrecheckDesk(world.bank_home)
        try:
            request = desk.start()
            print(f"request for the wallet: {request['uri']}")
            _, delivery = world.answer(request)  # the resident reviews and approves
            body = PresentationResponse.from_json(delivery.response).to_form_body()
            first = desk.finish(body)
            print(f"the officer sees: {first}")
            again = desk.finish(body)  # the same answer, replayed
            print(f"a replay gets: {again}")
        finally:
            desk.close()
    return 0 if first["verified"] and again["reason"] == "nonce_replayed" else 1


if __name__ == "__main__":
    raise SystemExit(main())
