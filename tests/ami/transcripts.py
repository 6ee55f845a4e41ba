"""Shared test helper: the real-Asterisk transcripts in ``tests/fixtures/ami-transcripts``.

They are recorded data from a real Asterisk 22 (copied from the project's shared captures
with their README and the dialplan that produced them), kept inside the repository so that
a fresh clone tests with nothing beside it. Found relative to this file, not to the working
directory.
"""

from __future__ import annotations

from pathlib import Path

from ami.transcript import Transcript, load_transcript

TRANSCRIPTS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "ami-transcripts"


def transcript_paths(pattern: str = "*.txt") -> list[Path]:
    """Transcript files matching ``pattern``, sorted; never empty (a missing folder fails loudly)."""
    paths = sorted(TRANSCRIPTS_DIR.glob(pattern))
    if not paths:
        raise FileNotFoundError(f"no transcripts matching {pattern!r} in {TRANSCRIPTS_DIR}")
    return paths


def originate_paths() -> list[Path]:
    """Every ``originate-*.txt`` capture: each names the outcome a dialer must derive."""
    return transcript_paths("originate-*.txt")


def load(name: str) -> Transcript:
    """One transcript by file stem, e.g. ``load("originate-busy")``."""
    return load_transcript(TRANSCRIPTS_DIR / f"{name}.txt")
