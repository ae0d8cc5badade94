"""Holder keys: a fresh P-256 key for every credential, kept encrypted in the vault.

Why one key per credential: the holder key travels inside the credential
(``cnf.jwk``) and signs every Key Binding JWT, so two credentials sharing a key
could be linked by any two banks that saw them. :meth:`KeyStore.bind` therefore
ties a key to exactly one credential and refuses a second (``holder_key_reused``).

Key ids are RFC 7638 JWK thumbprints of the public key: the same id the
credential's ``cnf.jwk`` yields, so a credential finds its key without a table.
Private JWKs live only inside vault records (``holder_key``); the wallet's own
*receipt key* (``wallet_key/receipt``) signs consent receipts that involve no
credential (a declined request) and the signed head of a history export.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from vc.errors import VCError
from vc.jose import ES256, PrivateKey, PublicKey, jwk_thumbprint

from .errors import HolderKeyReused, NotFound, VaultTampered
from .vault import Vault

__all__ = ["KeyStore"]

KIND_HOLDER_KEY = "holder_key"
KIND_BINDING = "credential_key"
KIND_WALLET_KEY = "wallet_key"
RECEIPT_KEY = "receipt"


def _private(obj: Mapping[str, Any], key_id: str) -> PrivateKey:
    try:
        key = PrivateKey.from_jwk(obj.get("jwk"))
    except VCError as exc:
        raise VaultTampered(f"stored key {key_id!r} is not a valid private key") from exc
    if key.public_key().thumbprint() != key_id:
        raise VaultTampered(f"stored key {key_id!r} does not match its id")
    return key


class KeyStore:
    """The holder keys and the wallet's receipt key, on top of an unlocked :class:`Vault`."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    @property
    def vault(self) -> Vault:
        return self._vault

    def new_holder_key(self) -> tuple[str, PublicKey]:
        """Reserve a fresh P-256 key (stored encrypted); returns ``(key_id, public key)``."""
        key = PrivateKey.generate(ES256)
        key_id = key.public_key().thumbprint()
        self._vault.put(
            KIND_HOLDER_KEY,
            key_id,
            {"jwk": key.to_jwk(), "created": int(time.time()), "credential_id": None},
        )
        return key_id, key.public_key()

    def holder_key(self, key_id: str) -> PrivateKey:
        return _private(self._vault.get(KIND_HOLDER_KEY, key_id), key_id)

    def public_key(self, key_id: str) -> PublicKey:
        return self.holder_key(key_id).public_key()

    def public_jwk(self, key_id: str) -> dict[str, str]:
        return self.public_key(key_id).to_jwk()

    def key_id_for_jwk(self, jwk: Mapping[str, Any]) -> str:
        """The id of the key we hold for a public JWK (e.g. a credential's ``cnf.jwk``)."""
        try:
            key_id = jwk_thumbprint(jwk)
        except VCError as exc:
            raise NotFound("the JWK is not a key this wallet can hold") from exc
        self.holder_key(key_id)  # NotFound if we do not hold it
        return key_id

    def bind(self, key_id: str, credential_id: str) -> None:
        """Record that ``key_id`` belongs to ``credential_id``; a key binds one credential only."""
        with self._vault.transaction() as v:
            obj = v.get(KIND_HOLDER_KEY, key_id)
            _private(obj, key_id)
            bound = obj.get("credential_id")
            if bound is not None and bound != credential_id:
                raise HolderKeyReused(f"holder key {key_id[:12]}… already binds credential {bound}")
            existing = v.find(KIND_BINDING, credential_id)
            if existing is not None and existing.get("key_id") != key_id:
                raise HolderKeyReused(f"credential {credential_id} is bound to another key")
            v.put(KIND_HOLDER_KEY, key_id, {**obj, "credential_id": credential_id})
            v.put(KIND_BINDING, credential_id, {"key_id": key_id})

    def key_for_credential(self, credential_id: str) -> str:
        """The key id bound to a credential (:class:`NotFound` if none)."""
        found = self._vault.find(KIND_BINDING, credential_id)
        if found is None or not isinstance(found.get("key_id"), str):
            raise NotFound(f"no holder key is bound to credential {credential_id!r}")
        return str(found["key_id"])

    def holder_keys(self) -> list[dict[str, Any]]:
        """Every holder key's public metadata: ``{key_id, jwk, created, credential_id}``."""
        out = []
        for key_id, obj in self._vault.items(KIND_HOLDER_KEY):
            out.append(
                {
                    "key_id": key_id,
                    "jwk": _private(obj, key_id).public_key().to_jwk(),
                    "created": obj.get("created"),
                    "credential_id": obj.get("credential_id"),
                }
            )
        return out

    def delete_holder_key(self, key_id: str) -> None:
        """Forget a holder key and its binding (when its credential is deleted)."""
        with self._vault.transaction() as v:
            obj = v.get(KIND_HOLDER_KEY, key_id)
            credential_id = obj.get("credential_id")
            v.delete(KIND_HOLDER_KEY, key_id)
            if isinstance(credential_id, str) and v.has(KIND_BINDING, credential_id):
                v.delete(KIND_BINDING, credential_id)

    def receipt_key(self) -> tuple[str, PrivateKey]:
        """The wallet's own signing key for receipts, created on first use."""
        obj = self._vault.find(KIND_WALLET_KEY, RECEIPT_KEY)
        if obj is None:
            with self._vault.transaction() as v:  # re-check under the write lock
                obj = v.find(KIND_WALLET_KEY, RECEIPT_KEY)
                if obj is None:
                    key = PrivateKey.generate(ES256)
                    record = {"jwk": key.to_jwk(), "created": int(time.time())}
                    v.put(KIND_WALLET_KEY, RECEIPT_KEY, record)
                    return key.public_key().thumbprint(), key
        try:
            key = PrivateKey.from_jwk(obj.get("jwk"))
        except VCError as exc:
            raise VaultTampered("the stored receipt key is not a valid private key") from exc
        return key.public_key().thumbprint(), key

    def signing_key(self, key_id: str) -> PrivateKey:
        """A holder key or the receipt key, by thumbprint."""
        found = self._vault.find(KIND_HOLDER_KEY, key_id)
        if found is not None:
            return _private(found, key_id)
        rid, key = self.receipt_key()
        if rid == key_id:
            return key
        raise NotFound(f"no key {key_id!r} in this wallet")
