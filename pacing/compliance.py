"""Jurisdiction profiles: the abandon-rate cap, its window, and what counts as an abandon.

The figures come from DESIGN.md, section "Regulatory facts the engine honours":

* US (FTC Telemarketing Sales Rule, FCC TCPA): at most 3% of live answers abandoned, per
  campaign, over 30 days.
* UK (Ofcom persistent-misuse policy): at most 3% in any 24 hours, and answering-machine
  detection (AMD) false positives count as abandoned calls; Ofcom accepts a reasoned
  estimate of their number.
* zero: Ofcom calls 3% a ceiling, not a target, so a profile that never abandons by design
  exists: progressive only (an agent is reserved before the number is dialled).

Every profile shares the 2-second connect limit (a live answer not put through to an agent
within 2 s of the greeting is abandoned) and the 15-second minimum ring.
"""

from __future__ import annotations

from dataclasses import dataclass

from pacing.errors import UnknownProfile

#: DESIGN.md "Connect limit": 2 s from the greeting to an agent, else abandoned.
CONNECT_LIMIT_S = 2.0
#: DESIGN.md "Ring time": at least 15 s (or four rings) before giving up on no answer.
MIN_RING_S = 15.0
#: DESIGN.md "Abandon rate": 3% for both the FTC/FCC rule and Ofcom's policy.
STATUTORY_CAP = 0.03

_DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class ComplianceProfile:
    """What a campaign's jurisdiction allows.

    Attributes:
        name: the text the store keeps (``"us"``, ``"uk"``, ``"zero"``).
        abandon_cap: the highest allowed abandoned / live-answer ratio on the window.
        window_s: the rolling window the cap applies to, in seconds.
        amd_false_positives_count: whether people hung up on by AMD (taken for machines)
            count as abandons, estimated from an AMD false-positive rate (Ofcom).
        predictive_allowed: whether the campaign may dial ahead of free agents at all.
        connect_limit_s: longest a live answer may wait for an agent.
        min_ring_s: shortest ring before an unanswered call may be given up.
    """

    name: str
    abandon_cap: float
    window_s: float
    amd_false_positives_count: bool
    predictive_allowed: bool
    connect_limit_s: float = CONNECT_LIMIT_S
    min_ring_s: float = MIN_RING_S


US = ComplianceProfile("us", STATUTORY_CAP, 30 * _DAY_S, amd_false_positives_count=False,
                       predictive_allowed=True)
UK = ComplianceProfile("uk", STATUTORY_CAP, _DAY_S, amd_false_positives_count=True,
                       predictive_allowed=True)
ZERO = ComplianceProfile("zero", 0.0, _DAY_S, amd_false_positives_count=True, predictive_allowed=False)

_PROFILES = {p.name: p for p in (US, UK, ZERO)}


def profile_named(name: str) -> ComplianceProfile:
    """Return the profile stored under ``name``.

    Raises:
        UnknownProfile: ``name`` is not ``us``, ``uk`` or ``zero``.
    """
    try:
        return _PROFILES[name]
    except (KeyError, TypeError):
        raise UnknownProfile(name, tuple(_PROFILES)) from None
