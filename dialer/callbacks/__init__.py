"""Callbacks as pure values: the slot grid arithmetic of a campaign and the web request rules (issue 13)."""
