"""Preview and push-preview: the agent sees the record before the call is placed.

Preview: a record goes to each agent who asks for one. Push preview: the system offers a
record to every ready agent without one. In both, a call is placed only for an agent who
accepted their record, reserved to that agent, so there are never more calls than agents
who accepted.
"""

from __future__ import annotations

from pacing.snapshot import CallObservation, CampaignSnapshot, DialDecision, DialMode


class PreviewPolicy:
    """Preview: a record per agent who asked (``record_requests``)."""

    mode = DialMode.PREVIEW

    def decide(self, snapshot: CampaignSnapshot) -> DialDecision:
        push = self.mode is DialMode.PUSH_PREVIEW
        records = snapshot.ready_agents if push else snapshot.record_requests
        launch = min(snapshot.records_accepted, snapshot.lines_free)
        active = snapshot.active_agents
        level = (snapshot.reserved_ringing + launch) / active if active else 0.0
        return DialDecision(launch=launch, reserved=launch, records_to_offer=records,
                            dial_level=level, mode=self.mode)

    def observe_call(self, observation: CallObservation) -> None:
        return None

    def observe_talk(self, t_s: float, talk_s: float) -> None:
        return None

    def observe_wrap(self, t_s: float, wrap_s: float) -> None:
        return None


class PushPreviewPolicy(PreviewPolicy):
    """Push preview: a record offered to every ready agent (offered agents are not ready)."""

    mode = DialMode.PUSH_PREVIEW
