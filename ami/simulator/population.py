"""Who picks up: the called population of the simulated PBX.

Two sources, chosen by the number. Numbers in one of the transcripts' classes
(``shared/ami-transcripts/README.md``: 100 person, 110 person with AMD, 120 answering
machine, 200 busy, 300 never answers, 400 congestion, 500 unallocated, 600 answers and hangs
up while waiting) behave as the ``sim-pstn`` context of ``asterisk-conf/extensions-sim.conf``
does, so a test scripts an outcome by choosing a number. Any other number is drawn from a
seeded :class:`PopulationModel`, for load runs.

The class of a number (:func:`convention_class`, the same rule as extensions-sim.conf): its
first three digits after an optional ``+`` (the captures' ``1005550001``, the tests'
``+1005550001``), else its last three digits -- which is how a real, valid E.164 number the
engine dials after a CSV import carries a class (``+48500002110`` is a 110 person; fact 12 of
the transcripts' README: the engine dials ``+48...``, which no leading-digit pattern
matches). No valid E.164 number starts with a class except the Falklands' ``+500``.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np


class FarEnd(enum.StrEnum):
    """What the called party does."""

    PERSON = "person"  # answers after ring_s, hangs up talk_s after answering
    MACHINE = "machine"  # answers; AMD says MACHINE
    BUSY = "busy"
    NO_ANSWER = "no_answer"  # rings until the Originate Timeout
    CONGESTION = "congestion"
    UNALLOCATED = "unallocated"  # Hangup(1) before answer


@dataclass(frozen=True, slots=True)
class Behaviour:
    """One called party's behaviour for one call.

    ``talk_s`` counts from the answer: the person hangs up then, wherever the call is
    (waiting in the queue, talking to an agent, hearing the abandon message).
    ``amd_s`` is how long AMD() listens before deciding; ``amd_cause`` its AMDCAUSE.
    """

    far_end: FarEnd
    ring_s: float = 0.0
    talk_s: float = 0.0
    amd_s: float = 2.0
    amd_cause: str = ""
    # Frames flow from the far end once it answers (speech, a greeting, a Playback). Asterisk
    # optimises a bridged Local pair away only when frames pass through it (fact 11 of the
    # transcripts' README); sim-pstn's 100 and 600 only Wait(), so those calls never are.
    media: bool = True


# sim-pstn's timings (asterisk-etc/extensions.conf and the capture times): every answering
# number rings 1 s; 100 talks 8 s; 110 says hello and is silent ~9.5 s in all; AMD decided
# HUMAN after ~2.3 s and MACHINE after ~2.0 s. 600 hangs up 0.5 s after answering (the
# capture's 1 s equalled a simulated agent's 1 s ring, so whether the person or the agent came
# first was a race; 0.5 s makes it always "hung up while waiting", as the class means).
_CONVENTION: dict[str, Behaviour] = {
    "100": Behaviour(
        FarEnd.PERSON, ring_s=1.0, talk_s=8.0, amd_s=2.3, amd_cause="HUMAN-800-800", media=False
    ),
    "110": Behaviour(FarEnd.PERSON, ring_s=1.0, talk_s=9.5, amd_s=2.3, amd_cause="HUMAN-800-800"),
    "120": Behaviour(FarEnd.MACHINE, ring_s=1.0, talk_s=12.0, amd_s=2.0, amd_cause="LONGGREETING-1500-1500"),
    "200": Behaviour(FarEnd.BUSY),
    "300": Behaviour(FarEnd.NO_ANSWER),
    "400": Behaviour(FarEnd.CONGESTION),
    "500": Behaviour(FarEnd.UNALLOCATED),
    "600": Behaviour(
        FarEnd.PERSON, ring_s=1.0, talk_s=0.5, amd_s=2.3, amd_cause="HUMAN-800-800", media=False
    ),
}


def convention_class(number: str) -> str | None:
    """The number's class (``"100"`` ... ``"600"``), else None: see the module docstring.

    ``1005550001``, ``+1005550001`` -> 100 (first three digits); ``+48500002110`` -> 110 (last
    three); ``+48500002999`` -> None. The same rule as sim-pstn in extensions-sim.conf.
    """
    digits = number.removeprefix("+")
    if not digits.isdigit():
        return None
    for cls in (digits[:3], digits[-3:]):
        if cls in _CONVENTION:
            return cls
    return None


def convention_behaviour(number: str) -> Behaviour | None:
    """The scripted behaviour of the number's class (:func:`convention_class`), else None."""
    cls = convention_class(number)
    return _CONVENTION[cls] if cls is not None else None


@dataclass(frozen=True, slots=True)
class PopulationParams:
    """Shares and distributions of the load population (any non-convention number).

    Defaults are a plausible B2C list, not measured data: about 35 % of dials reach a
    person, answer after a median of ~8 s, talk a median of ~60 s.
    """

    answer_p: float = 0.45  # share of dials answered (person or machine)
    machine_share: float = 0.2  # of answered dials, the share that are machines
    busy_share: float = 0.3  # of unanswered dials
    congestion_share: float = 0.05  # of unanswered dials
    unallocated_share: float = 0.05  # of unanswered dials; the rest ring out (no answer)
    answer_median_s: float = 8.0  # lognormal time to answer
    answer_sigma: float = 0.5
    talk_median_s: float = 60.0  # lognormal talk time (from answer to the person hanging up)
    talk_sigma: float = 0.8

    def __post_init__(self) -> None:
        for name in ("answer_p", "machine_share", "busy_share", "congestion_share", "unallocated_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}: must be within [0, 1] (got {value})")
        if self.busy_share + self.congestion_share + self.unallocated_share > 1.0:
            raise ValueError("busy_share: with congestion_share and unallocated_share must not exceed 1")
        for name in ("answer_median_s", "talk_median_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: must be positive (got {getattr(self, name)})")


class PopulationModel:
    """Draws a :class:`Behaviour` per dial; the generator is injected (NEP 19)."""

    def __init__(self, params: PopulationParams, rng: np.random.Generator) -> None:
        self.params = params
        self._rng = rng

    def behaviour_for(self, number: str) -> Behaviour:
        scripted = convention_behaviour(number)
        if scripted is not None:
            return scripted
        p = self.params
        rng = self._rng
        if rng.random() < p.answer_p:
            ring_s = float(rng.lognormal(math.log(p.answer_median_s), p.answer_sigma))
            talk_s = float(rng.lognormal(math.log(p.talk_median_s), p.talk_sigma))
            if rng.random() < p.machine_share:
                return Behaviour(
                    FarEnd.MACHINE,
                    ring_s=ring_s,
                    talk_s=max(talk_s, 5.0),
                    amd_s=2.0,
                    amd_cause="LONGGREETING-1500-1500",
                )
            return Behaviour(
                FarEnd.PERSON, ring_s=ring_s, talk_s=talk_s, amd_s=2.3, amd_cause="HUMAN-800-800"
            )
        u = rng.random()
        if u < p.busy_share:
            return Behaviour(FarEnd.BUSY, ring_s=float(rng.uniform(0.0, 2.0)))
        u -= p.busy_share
        if u < p.congestion_share:
            return Behaviour(FarEnd.CONGESTION)
        u -= p.congestion_share
        if u < p.unallocated_share:
            return Behaviour(FarEnd.UNALLOCATED)
        return Behaviour(FarEnd.NO_ANSWER)
