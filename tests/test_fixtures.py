"""Tests stand alone: the recorded data they read lives inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

from tests.ami.transcripts import TRANSCRIPTS_DIR, originate_paths

REPO = Path(__file__).resolve().parents[1]

# A path built upwards out of the checkout: ``.parent / "shared"``, ``"../shared"``, ``parents[2].parent``.
_OUTWARD = re.compile(r"""\.parent\s*/\s*["']shared|["']\.\./shared|parents\[\d\]\.parent""")


def test_transcripts_live_inside_the_repository() -> None:
    assert TRANSCRIPTS_DIR.is_relative_to(REPO)
    assert (TRANSCRIPTS_DIR / "README.md").is_file()
    assert (TRANSCRIPTS_DIR / "asterisk-etc" / "extensions.conf").is_file()


def test_every_originate_capture_names_its_outcome() -> None:
    for path in originate_paths():
        assert "# Outcome: " in path.read_text(), path.name


def test_no_test_builds_a_path_out_of_the_checkout() -> None:
    offenders = [
        str(path.relative_to(REPO))
        for path in sorted((REPO / "tests").rglob("*.py"))
        if path.name != "test_fixtures.py" and _OUTWARD.search(path.read_text())
    ]
    assert [] == offenders
