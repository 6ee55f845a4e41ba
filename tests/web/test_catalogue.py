"""The console's files: both catalogues complete, every text the modules name exists, and every
static file ships in the package (pyproject package-data)."""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from pathlib import Path

import pytest

from dialer.web.mount import STATIC

REPO = Path(__file__).resolve().parents[2]
CATALOGUES = {p.stem: json.loads(p.read_text()) for p in (STATIC / "i18n").glob("*.json")}
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# t('key' ...) and t("key" ...) with a literal key; keys built at run time (`state.${s}`) go
# through label(), which falls back to the raw value.
LITERAL_KEY = re.compile(r"""\bt\(\s*['"]([\w.]+)['"]""")


def test_english_and_polish_have_the_same_keys_and_placeholders() -> None:
    assert {"en", "pl"} == set(CATALOGUES)
    en, pl = CATALOGUES["en"], CATALOGUES["pl"]
    assert sorted(set(en) ^ set(pl)) == []
    differ = [k for k in en if set(PLACEHOLDER.findall(en[k])) != set(PLACEHOLDER.findall(pl[k]))]
    assert [] == differ
    assert all(v.strip() for c in CATALOGUES.values() for v in c.values())


@pytest.mark.parametrize("module", sorted((STATIC / "js").glob("*.js")), ids=lambda p: p.name)
def test_every_literal_key_a_module_uses_is_in_the_catalogue(module: Path) -> None:
    used = set(LITERAL_KEY.findall(module.read_text()))
    assert sorted(used - set(CATALOGUES["en"])) == []


def test_the_catalogue_checker_sees_keys() -> None:
    assert {"agent.ready", "x.y"} == set(LITERAL_KEY.findall("t('agent.ready'); t(\"x.y\", {a: 1}); t(k)"))


def test_every_static_file_is_package_data() -> None:
    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "dialer.web"
    ]
    files = [p.relative_to(STATIC.parent).as_posix() for p in STATIC.rglob("*") if p.is_file()]
    assert len(files) >= 10
    assert [] == [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)]
