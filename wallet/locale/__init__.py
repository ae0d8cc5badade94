"""The wallet app's string catalogues (``en.toml``, ``zh-Hant-HK.toml``, ``zh-Hans.toml``)."""
