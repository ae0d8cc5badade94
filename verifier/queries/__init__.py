"""DCQL queries shipped with selfcarry, as JSON files (see :mod:`verifier.request`)."""
