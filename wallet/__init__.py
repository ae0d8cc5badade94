"""wallet — the resident's wallet: encrypted vault, holder keys, consent history, backup.

See DESIGN.md flows 1–2. The CLI and the OpenID4VCI/VP flows build on these.
"""

from .backup import export_backup, inspect_backup, restore_backup
from .errors import WalletError
from .history import ConsentEvent, ConsentReceipt, History, verify_history_export
from .home import resolve_home, vault_path, wallet_dir
from .keystore import KeyStore
from .vault import PRODUCTION_KDF, KdfParams, Vault

__all__ = [
    "PRODUCTION_KDF",
    "ConsentEvent",
    "ConsentReceipt",
    "History",
    "KdfParams",
    "KeyStore",
    "Vault",
    "WalletError",
    "export_backup",
    "inspect_backup",
    "resolve_home",
    "restore_backup",
    "vault_path",
    "verify_history_export",
    "wallet_dir",
]
