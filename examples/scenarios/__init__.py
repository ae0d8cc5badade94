"""Loan pre-check scenarios: one module per story, each runnable on its own.

    python -m examples.scenarios.happy_path      # from the repository root; any name below
    python -m examples.scenarios                 # all of them, one after another

Each builds a fresh world in a temporary directory (a witnessed registry, a CRA, a
bank and a resident's wallet; see ``_world.py``), plays one story through the real
code paths, prints what the bank (or the wallet) concluded and why, and exits 0 when
that conclusion is the expected one — for the attacks, when they were refused with
the right reason.
"""

SCENARIOS = (
    "happy_path",
    "revoked",
    "tampered",
    "replayed",
    "untrusted_cra",
    "expired",
    "split_view",
    "unregistered_bank",
)
