"""hash_registry — the witnessed Merkle transparency log that holds only hashes.

Client side (wallets, verifiers, issuers): :func:`open_registry` gives a
:class:`RegistryClient` for an ``http(s)://`` URL or a :class:`LocalRegistry` for a
registry home on this machine; :class:`TrustedLog`, :func:`verify_checkpoint` and
:func:`verify_receipt` check what they return. Operator side: :class:`Log` over a
store (``store_sqlite`` / ``store_postgres``), opened from a home by
``hash_registry.home.open_log``; the HTTP service is ``hash_registry.service``.

Importing this package pulls in neither a web server nor a database driver (and its
names are imported lazily, on first use).
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .checkpoint import Checkpoint
    from .client import (
        AsyncRegistryClient,
        LocalRegistry,
        RegistryClient,
        RegistryUnavailable,
        WitnessClient,
        open_registry,
    )
    from .entries import (
        AnchorEntry,
        Entry,
        IssuerKeyEntry,
        RevocationEntry,
        VerifierKeyEntry,
        credential_digest,
        decode_entry,
    )
    from .errors import (
        InconsistentCheckpoint,
        InvalidCheckpoint,
        InvalidEntry,
        InvalidNote,
        InvalidProof,
        InvalidReceipt,
        NotAnchored,
        NotFound,
        RegistryError,
        Revoked,
        StoreError,
        Unauthorized,
        UnknownLogKey,
        WitnessQuorumNotMet,
        WitnessRefused,
    )
    from .log import (
        Appended,
        ConsistencyProof,
        DigestStatus,
        InclusionProof,
        Log,
        LogEntry,
    )
    from .merkle import SHA256, SM3, HashAlg, get_hash_alg
    from .receipt import Receipt, verify_receipt
    from .trust import FileCheckpointMemory, TrustedLog, verify_checkpoint

_LAZY = {
    "client": (
        "AsyncRegistryClient LocalRegistry RegistryClient RegistryUnavailable WitnessClient "
        "open_registry"
    ),
    "checkpoint": "Checkpoint",
    "entries": (
        "AnchorEntry Entry IssuerKeyEntry RevocationEntry VerifierKeyEntry credential_digest "
        "decode_entry"
    ),
    "errors": (
        "InconsistentCheckpoint InvalidCheckpoint InvalidEntry InvalidNote InvalidProof "
        "InvalidReceipt NotAnchored NotFound RegistryError Revoked StoreError Unauthorized "
        "UnknownLogKey WitnessQuorumNotMet WitnessRefused"
    ),
    "log": "Appended ConsistencyProof DigestStatus InclusionProof Log LogEntry",
    "merkle": "SHA256 SM3 HashAlg get_hash_alg",
    "receipt": "Receipt verify_receipt",
    "trust": "FileCheckpointMemory TrustedLog verify_checkpoint",
}
_WHERE = {name: module for module, names in _LAZY.items() for name in names.split()}


def __getattr__(name: str) -> Any:
    """Import on first use, so ``hash-registry`` and banks start fast (httpx is not free)."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'hash_registry' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "SHA256",
    "SM3",
    "AnchorEntry",
    "Appended",
    "AsyncRegistryClient",
    "Checkpoint",
    "ConsistencyProof",
    "DigestStatus",
    "Entry",
    "FileCheckpointMemory",
    "HashAlg",
    "InclusionProof",
    "InconsistentCheckpoint",
    "InvalidCheckpoint",
    "InvalidEntry",
    "InvalidNote",
    "InvalidProof",
    "InvalidReceipt",
    "IssuerKeyEntry",
    "LocalRegistry",
    "Log",
    "LogEntry",
    "NotAnchored",
    "NotFound",
    "Receipt",
    "RegistryClient",
    "RegistryError",
    "RegistryUnavailable",
    "RevocationEntry",
    "Revoked",
    "StoreError",
    "TrustedLog",
    "Unauthorized",
    "UnknownLogKey",
    "VerifierKeyEntry",
    "WitnessClient",
    "WitnessQuorumNotMet",
    "WitnessRefused",
    "credential_digest",
    "decode_entry",
    "get_hash_alg",
    "open_registry",
    "verify_checkpoint",
    "verify_receipt",
]
