"""The wallet's screens: one small class per screen, styled by ``app.tcss``."""
