"""The house rules of ``docs/architecture.md``, checked on the source: who may import whom.

Each package lists the project packages it may import (an allowlist, so a new dependency is a
decision: add it here and to the architecture page together). Pure packages also may not import
the I/O libraries. The rules read imports with :mod:`ast`, so a name imported inside a function
counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROJECT = ("dialer", "ami", "pacing", "config")

_KERNEL = ("dialer.errors", "dialer.model", "dialer.ports", "dialer.clock", "dialer.schedules")

# package -> the project packages (prefixes) its modules may import, besides itself.
MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "pacing": (),
    "config": (),
    "ami": ("config",),
    "dialer.errors": (),
    "dialer.model": (),
    "dialer.audit": (),
    "dialer.schedules": ("dialer.errors",),
    "dialer.clock": (),
    "dialer.gc_tuning": (),
    "dialer.ports": ("dialer.errors", "dialer.model", "dialer.schedules"),
    "dialer.contacts": ("dialer.errors", "dialer.model"),
    "dialer.callbacks": ("dialer.errors", "dialer.model", "dialer.schedules"),
    "dialer.agents": (*_KERNEL, "ami.agent_events", "ami.outcome"),
    "dialer.observability": ("config", "dialer.errors"),
    "dialer.store": (
        *_KERNEL,
        "config",
        "dialer.contacts",
        "dialer.campaign.retry",
        "dialer.campaign.rules",
        "dialer.audit",
        "dialer.notify.errors",
        "dialer.notify.planning",
        "dialer.notify.sms",
        "dialer.notify.templates",
        "dialer.callbacks",
    ),
    "dialer.notify": (*_KERNEL, "config", "dialer.store"),
    "dialer.campaign": (
        *_KERNEL,
        "pacing",
        "ami.agent_events",
        "ami.outcome",
        "dialer.agents",
        "dialer.observability",
    ),
    "dialer.pbx": (*_KERNEL, "ami.client", "ami.errors", "ami.pool", "dialer.observability"),
    "dialer.api": (
        *_KERNEL,
        "config",
        "dialer.agents.state",
        "dialer.agents.views",
        "dialer.campaign.desk",
        "dialer.campaign.engine",
        "dialer.campaign.runner",
        "dialer.campaign.settings",
        "dialer.contacts.csv_reader",
        "dialer.contacts.dnc_file",
        "dialer.contacts.importer",
        "dialer.callbacks",
        "dialer.contacts.phone",
        "dialer.contacts.transfer",
        "dialer.store",
        "dialer.web",
    ),
    "dialer.web": (),
    "dialer.app": (
        *_KERNEL,
        "config",
        "ami.client",
        "ami.errors",
        "ami.pool",
        "dialer.api",
        "dialer.campaign",
        "dialer.gc_tuning",
        "dialer.notify",
        "dialer.observability",
        "dialer.pbx",
        "dialer.store",
    ),
    "dialer.cli": PROJECT,
    "dialer": (),  # dialer/__init__.py: lazy exports by name only
}

# Pure packages: numbers and values in, decisions and effects out (STYLE rules 5, 9, 12).
IO_LIBRARIES = ("asyncio", "asyncpg", "panoramisk", "prometheus_client", "structlog", "socket")
PURE = (
    "pacing",
    "dialer.agents",
    "dialer.schedules",
    "dialer.model",
    "dialer.campaign.retry",
    "dialer.campaign.rules",
    "dialer.audit",
    "dialer.callbacks",
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _owner(module: str, table: dict[str, tuple[str, ...]] | tuple[str, ...]) -> str | None:
    """The longest key of ``table`` that ``module`` is or lies under."""
    keys = table if isinstance(table, tuple) else tuple(table)
    found = [k for k in keys if module == k or module.startswith(k + ".")]
    return max(found, key=len) if found else None


def _imports(source: str) -> Iterator[str]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from dialer.store import migrate`` imports the module dialer.store.migrate.
            yield from (f"{node.module}.{a.name}" for a in node.names)


def _sources() -> list[Path]:
    return sorted(p for top in PROJECT for p in (REPO / top).rglob("*.py"))


def _violations(module: str, source: str) -> list[str]:
    owner = _owner(module, MAY_IMPORT)
    assert owner is not None, f"{module}: no rule in MAY_IMPORT; add one (and to docs/architecture.md)"
    allowed = MAY_IMPORT[owner]
    pure = _owner(module, PURE) is not None
    bad = []
    for target in _imports(source):
        top = target.split(".")[0]
        if pure and top in IO_LIBRARIES:
            bad.append(f"{module} imports {target} (pure package)")
        if top not in PROJECT or _owner(target, (owner,)) is not None:
            continue
        if _owner(target, allowed) is None and not _is_name_of_allowed(target, allowed):
            bad.append(f"{module} imports {target}")
    return bad


def _is_name_of_allowed(target: str, allowed: tuple[str, ...]) -> bool:
    """``from dialer.model import Campaign`` reads as ``dialer.model.Campaign``: the module is allowed."""
    module = target.rsplit(".", 1)[0]
    return _owner(module, allowed) is not None


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(REPO)))
def test_module_imports_only_what_its_package_may(path: Path) -> None:
    assert [] == _violations(_module_name(path), path.read_text())


def test_the_rules_catch_a_forbidden_import() -> None:
    """The checker itself: the store importing the runner, or pacing importing asyncio, is caught."""
    assert ["dialer.store.probe imports dialer.campaign.runner.CampaignRunner"] == _violations(
        "dialer.store.probe", "def f():\n    from dialer.campaign.runner import CampaignRunner\n"
    )
    assert ["pacing.probe imports asyncio (pure package)"] == _violations("pacing.probe", "import asyncio\n")
    assert [] == _violations("dialer.store.probe", "from dialer.campaign import retry\n")


def test_nothing_below_the_command_line_imports_it() -> None:
    offenders = [
        f"{_module_name(p)} imports {t}"
        for p in _sources()
        if not _module_name(p).startswith("dialer.cli")
        for t in _imports(p.read_text())
        if t == "dialer.cli" or t.startswith("dialer.cli.")
    ]
    assert [] == offenders


# Size: a module a newcomer can read in one sitting, a class that holds one responsibility.
MAX_MODULE_LINES = 600
MAX_CLASS_LINES = 400
_REASON = "Length:"  # a docstring paragraph that says why this one is longer


def _oversized(path: Path) -> list[str]:
    source = path.read_text()
    tree = ast.parse(source)
    module = _module_name(path)
    found = []
    if len(source.splitlines()) > MAX_MODULE_LINES and _REASON not in (ast.get_docstring(tree) or ""):
        found.append(f"{module}: {len(source.splitlines())} lines")
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_CLASS_LINES and _REASON not in (ast.get_docstring(node) or ""):
                found.append(f"{module}.{node.name}: {lines} lines")
    return found


def test_no_module_or_class_in_dialer_is_oversized_without_a_reason() -> None:
    assert [] == [o for p in sorted((REPO / "dialer").rglob("*.py")) for o in _oversized(p)]


def test_every_lazy_export_of_the_dialer_package_resolves() -> None:
    import dialer

    missing = [name for name in dialer.__all__ if getattr(dialer, name, None) is None]
    assert [] == missing
