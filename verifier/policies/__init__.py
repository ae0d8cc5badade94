"""Lending policies shipped with selfcarry, as TOML files (see :mod:`verifier.policy`)."""
