"""Progressive pacing: one call per free agent, each reserved to that agent.

A live answer always finds its agent, so this mode cannot abandon by design (the 0%
profile); its cost is the agent's wait while the call rings.
"""

from __future__ import annotations

from pacing.snapshot import CallObservation, CampaignSnapshot, DialDecision, DialMode


def progressive_decision(snapshot: CampaignSnapshot, *, fallback: bool = False,
                         keep_ready: int = 0) -> DialDecision:
    """One reserved call per ready agent, within the free lines.

    ``keep_ready`` agents get none: they stay free for unreserved calls still in flight
    (a predictive campaign falling back, :func:`pacing.exposure.ready_to_keep`).
    """
    launch = max(min(snapshot.ready_agents - keep_ready, snapshot.lines_free), 0)
    in_flight = len(snapshot.ringing_ages_s) + snapshot.reserved_ringing + launch
    level = in_flight / snapshot.active_agents if snapshot.active_agents else 0.0
    return DialDecision(launch=launch, reserved=launch, dial_level=level, fallback=fallback,
                        mode=DialMode.PROGRESSIVE)


class ProgressivePolicy:
    """Progressive mode as a policy object (it learns nothing)."""

    mode = DialMode.PROGRESSIVE

    def decide(self, snapshot: CampaignSnapshot) -> DialDecision:
        return progressive_decision(snapshot)

    def observe_call(self, observation: CallObservation) -> None:
        return None

    def observe_talk(self, t_s: float, talk_s: float) -> None:
        return None

    def observe_wrap(self, t_s: float, wrap_s: float) -> None:
        return None
