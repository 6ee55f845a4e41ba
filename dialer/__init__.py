"""The dialer engine: the kernel (model, errors, ports, clock), ``app.py``, one sub-package per noun.

``docs/architecture.md`` maps the sub-packages and what each may import. The few public names
below load lazily (PEP 562), so importing ``dialer.errors`` or a pure module such as
``dialer.schedules.schedule`` does not pull in asyncpg.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Store": "dialer.store.store",
    "DEFAULT_RULES": "dialer.store.statuses",
    "resolve_dsn": "dialer.store.database",
    "import_contacts": "dialer.contacts.importer",
    "ImportReport": "dialer.contacts.importer",
    "move_contacts": "dialer.contacts.transfer",
    "TransferResult": "dialer.contacts.transfer",
    "Schedule": "dialer.schedules.schedule",
    "Frequency": "dialer.schedules.schedule",
    "Agent": "dialer.model",
    "AppliedOutcome": "dialer.model",
    "Attempt": "dialer.model",
    "AttemptResult": "dialer.model",
    "Backoff": "dialer.model",
    "Callback": "dialer.model",
    "CallbackKind": "dialer.model",
    "Campaign": "dialer.model",
    "CampaignSpec": "dialer.model",
    "CampaignState": "dialer.model",
    "CampaignSummary": "dialer.model",
    "Compliance": "dialer.model",
    "Contact": "dialer.model",
    "DialingMode": "dialer.model",
    "LeasedContact": "dialer.model",
    "Outcome": "dialer.model",
    "Phone": "dialer.model",
    "Qualifier": "dialer.model",
    "RetryRule": "dialer.model",
    "Status": "dialer.model",
    "StatusSpec": "dialer.model",
    "SystemStatus": "dialer.model",
    "Trigger": "dialer.model",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dialer' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
