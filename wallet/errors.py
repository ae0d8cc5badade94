"""The wallet's named errors.

Every rejection the vault, key store, history and backup make is one of these,
each with a stable snake_case ``code`` (the CLI prints it, the TUI maps it to a
sentence, tests assert it). They root in :class:`vc.errors.SelfcarryError`.
"""

from __future__ import annotations

from vc.errors import SelfcarryError


class WalletError(SelfcarryError):
    """Root of every error the wallet raises on purpose."""

    code = "wallet_error"
    default_message = "the wallet operation failed"


# --- vault ----------------------------------------------------------------------------


class NoVault(WalletError):
    code = "no_vault"
    default_message = "there is no wallet vault in this home (run `wallet init` first)"


class VaultExists(WalletError):
    code = "vault_exists"
    default_message = "this home already has a wallet vault"


class WrongPassphrase(WalletError):
    code = "wrong_passphrase"
    default_message = "the passphrase is wrong"


class InvalidPassphrase(WalletError):
    """A *new* passphrase that breaks the length rules (too short, too long, not text)."""

    code = "invalid_passphrase"
    default_message = "the passphrase does not meet the length rules"


class VaultLocked(WalletError):
    code = "vault_locked"
    default_message = "the vault is locked or closed; unlock it first"


class VaultTampered(WalletError):
    """The vault's contents fail authentication: altered, swapped, rolled back or deleted."""

    code = "vault_tampered"
    default_message = "the vault has been altered and cannot be trusted"


class VaultCorrupt(VaultTampered):
    """The vault file is not a readable vault database at all (truncated, overwritten)."""

    code = "vault_corrupt"
    default_message = "the vault file is damaged and cannot be read"


class UnsupportedVaultVersion(WalletError):
    code = "vault_version_unsupported"
    default_message = "the vault was written by a newer, unknown format version"


class VaultBusy(WalletError):
    code = "vault_busy"
    default_message = "the vault is in use by another process; try again"


class VaultIOError(WalletError):
    code = "vault_io_error"
    default_message = "the vault could not be read or written (disk full, permissions?)"


class InvalidKdfParams(WalletError):
    code = "invalid_kdf_params"
    default_message = "the key-derivation parameters are outside the allowed bounds"


class InvalidRecord(WalletError):
    """A record the caller tried to store: bad kind or id, not a JSON object."""

    code = "invalid_record"
    default_message = "the record cannot be stored"


class RecordTooLarge(InvalidRecord):
    code = "record_too_large"
    default_message = "the record is larger than the vault allows"


class NotFound(WalletError):
    code = "not_found"
    default_message = "no such record in the vault"


# --- keys -------------------------------------------------------------------------------


class HolderKeyReused(WalletError):
    """A holder key may bind exactly one credential, so credentials cannot be linked by key."""

    code = "holder_key_reused"
    default_message = "this holder key is already bound to another credential"


# --- history ------------------------------------------------------------------------------


class InvalidConsentEvent(WalletError):
    code = "invalid_consent_event"
    default_message = "the consent event is incomplete or inconsistent"


class HistoryInvalid(WalletError):
    """A consent receipt or a history export fails its signature or hash-chain check."""

    code = "history_invalid"
    default_message = "the disclosure history does not verify"


# --- backup -------------------------------------------------------------------------------


class BackupInvalid(WalletError):
    code = "backup_invalid"
    default_message = "the backup file is damaged or has been altered"


class WrongBackupPassphrase(WrongPassphrase):
    code = "wrong_backup_passphrase"
    default_message = "the backup passphrase is wrong"


class BackupIOError(WalletError):
    code = "backup_io_error"
    default_message = "the backup file could not be written (disk full, permissions?)"


class FileExists(WalletError):
    code = "file_exists"
    default_message = "the output file already exists"
