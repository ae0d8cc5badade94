"""A registry showing a split view: two histories, each signed and cosigned.

A compromised registry operator, with a colluding witness, keeps two copies of the
log (here: the registry home copied to a second directory). Each copy grows by a
different entry, so both reach the same size with different roots — both properly
signed. One resident's wallet is shown the main history, another's only the forked
one. The bank verifies the first resident's report, and so remembers the main
history's checkpoint. Expected: the second report's receipt, from the fork, is
refused with ``split_view`` — no honest log signs two different trees of one size.
"""

from __future__ import annotations

import shutil

from hash_registry.client import LocalRegistry
from issuer_sim.cra import Cra

from ._world import PURPOSE, build_world, expect_rejection, say, tell_bank


def main() -> int:
    say("Scenario: a registry showing a split view.")
    with build_world() as world:
        fork = world.root / "registry-fork"
        shutil.copytree(world.registry_home, fork)
        say("1. The registry operator forks its log: a second copy with the same keys.")
        main_issued, _ = world.issue_to_wallet(seed=13)
        say(f"2. Resident A's report is anchored on the main history at index "
            f"{main_issued.receipt.index}; A's wallet sees only the main history.")
        wallet_b = world.new_wallet("wallet-b", registry_url=str(fork))
        with Cra(world.root / "cra", registry=LocalRegistry(fork)) as forked:
            fork_issued, _ = world.issue_to_wallet(seed=14, cra=forked, wallet=wallet_b)
        say(f"3. Resident B's report is anchored on the fork, also at index "
            f"{fork_issued.receipt.index}; B's wallet is shown only the fork, and sees "
            f"nothing wrong.")
        with world.bank() as bank:
            request = bank.create_request("loan-precheck", PURPOSE)
            _, delivery = world.answer(request)
            first = bank.verify(delivery.response, request=request)
            say("4. Resident A presents first; the bank remembers the checkpoint it saw:")
            tell_bank(first)
            if not first.verified:
                say("UNEXPECTED: resident A's honest presentation should have verified.")
                return 1
            request = bank.create_request("loan-precheck", PURPOSE)
            _, delivery = world.answer(request, wallet=wallet_b)
            say("5. Resident B presents, with a receipt under the fork's checkpoint:")
            result = bank.verify(delivery.response, request=request)
    return expect_rejection(result, "split_view",
                            "the bank has now seen two different trees of the same size, both "
                            "signed by the same log; that pair of checkpoints proves the log "
                            "shows two histories, so nothing it vouches for can be relied on.")


if __name__ == "__main__":
    raise SystemExit(main())
