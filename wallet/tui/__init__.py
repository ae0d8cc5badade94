"""The resident's terminal app (Textual). ``wallet`` with no arguments calls
:func:`wallet.tui.app.run`; nothing here is imported by the rest of the wallet, so
the CLI and the library work without Textual installed."""
