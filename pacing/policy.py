"""The one protocol every pacing policy follows, so the runner can hold any of them."""

from __future__ import annotations

from typing import Protocol

from pacing.snapshot import CallObservation, CampaignSnapshot, DialDecision, DialMode


class PacingPolicy(Protocol):
    """Numbers in, decisions out.

    The runner calls :meth:`decide` on every decision tick (and whenever an agent becomes
    free), and feeds every call outcome and agent duration to the ``observe_*`` methods, in
    the order they happened. No method reads a clock or does I/O.
    """

    mode: DialMode

    def decide(self, snapshot: CampaignSnapshot) -> DialDecision: ...

    def observe_call(self, observation: CallObservation) -> None: ...

    def observe_talk(self, t_s: float, talk_s: float) -> None: ...

    def observe_wrap(self, t_s: float, wrap_s: float) -> None: ...
