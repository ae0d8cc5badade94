"""Small widgets shared by the wallet's screens."""
