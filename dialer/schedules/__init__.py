"""Schedules (harmonogramy): when a campaign may call, as pure, time-zone-correct calendar arithmetic.

Pure: may import only ``dialer.errors``; the store, the campaign engine, the CLI and the API use it.
"""
