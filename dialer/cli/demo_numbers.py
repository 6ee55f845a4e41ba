"""The numbers ``dialer demo`` imports: ranges reserved for fiction, never a real person's.

Apart from :mod:`dialer.cli.demo` so that the choice of ranges, and why, reads in one place.
"""

from __future__ import annotations

import io

import numpy as np

from ami.simulator.population import convention_class
from dialer.errors import ValidationError

__all__ = ["CAPACITY", "DEMO_CALLER_ID", "DRAMA_RANGES", "MAX_CONTACTS", "is_drama_number", "sample_csv"]

# The demo's numbers come from ranges Ofcom reserves for TV, radio and other fiction (Ofcom,
# "Telephone numbers for use in TV and radio drama programmes"): never allocated to anyone, so
# a demo number dialled on a real network reaches nobody. The geographic ones, because
# phonenumbers accepts them as valid (the mobile drama range 07700 900xxx it does not, nor
# 0115 496 0xxx, and the import path refuses invalid numbers). Each is 1,000 numbers:
# <prefix>0000-<prefix>0999.
# Poland's plan (UKE) reserves no such range, so the demo no longer uses Polish numbers; the
# demo's UK profile matches the numbers it calls. (The US equivalent, 555-0100..0199, is only
# 100 numbers per area code.)
DRAMA_RANGES = (
    ("+44113496", "Leeds"),
    ("+44114496", "Sheffield"),
    ("+44116496", "Leicester"),
    ("+44117496", "Bristol"),
    ("+44118496", "Reading"),
    ("+44121496", "Birmingham"),
    ("+44131496", "Edinburgh"),
    ("+44141496", "Glasgow"),
    ("+44151496", "Liverpool"),
    ("+44161496", "Manchester"),
    ("+44191498", "Newcastle"),
    ("+44207946", "London"),
    ("+44292018", "Cardiff"),
)
# Presented on the demo's calls: a drama number too.
DEMO_CALLER_ID = "+442079460999"


def is_drama_number(e164: str) -> bool:
    """True for a number in one of :data:`DRAMA_RANGES` (``<prefix>0000``-``<prefix>0999``)."""
    return any(e164.startswith(p + "0") and len(e164) == len(p) + 4 for p, _ in DRAMA_RANGES)


def _number(k: int) -> tuple[str, str]:
    """The ``k``-th number of the ranges (0 .. 1000 * len(DRAMA_RANGES) - 1) and its city."""
    prefix, city = DRAMA_RANGES[k // 1000]
    return f"{prefix}{k % 1000:04d}", city


# The simulated PBX scripts numbers by their last three digits (the AMI transcripts' classes,
# ami.simulator.population): ...0600 is a person who hangs up half a second after answering,
# before any agent can come, ...0100 and ...0110 talk 8-10 s, ...0200 is always busy. Drawn into
# the demo, each 600 was an abandoned call whatever the pacing (a 30-second demo ended at 6.5%,
# every abandon one of them), so the demo leaves the scripted numbers out.
_DIALLABLE = np.array([k for k in range(1000 * len(DRAMA_RANGES)) if convention_class(_number(k)[0]) is None])
#: Every number the demo may draw: the most contacts (with a second number for some) it imports.
CAPACITY = len(_DIALLABLE)
MAX_CONTACTS = CAPACITY * 10 // 13


def sample_csv(n: int, seed: int) -> str:
    """``n`` contacts as the CSV a user would import: name, phone, phone2 (some), city.

    Every number is drawn once from :data:`DRAMA_RANGES` (the import refuses a number twice).

    Raises:
        ValidationError: field ``contacts``, above :data:`MAX_CONTACTS`.
    """
    if n > MAX_CONTACTS:
        raise ValidationError("contacts", f"the fiction ranges hold numbers for at most {MAX_CONTACTS}", n)
    rng = np.random.default_rng(seed)
    seconds = rng.random(n) < 0.3
    # About 30% have a second number; near MAX_CONTACTS the draw may want more than the
    # ranges have left, so the last of them go without (the ranges are never overdrawn).
    over = int(seconds.sum()) - (CAPACITY - n)
    if over > 0:
        seconds[np.flatnonzero(seconds)[-over:]] = False
    drawn = iter(int(k) for k in rng.choice(_DIALLABLE, size=n + int(seconds.sum()), replace=False))

    out = io.StringIO()
    out.write("name,phone,phone2,city,segment\n")
    for i in range(n):
        first, city = _number(next(drawn))
        second = _number(next(drawn))[0] if seconds[i] else ""
        out.write(f"Klient {i + 1},{first},{second},{city},{'ABC'[int(rng.integers(3))]}\n")
    return out.getvalue()
