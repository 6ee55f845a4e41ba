"""Baseline pacing policies for the benchmark, behind the same protocol as ours.

* :class:`FixedRatioPolicy`: keep ``ratio`` calls in progress per ready agent.
* :class:`VicidialAdaptivePolicy`: VICIdial's adaptive dial level, re-implemented from the
  description in ``shared/reference/vicidial-adaptive.md`` (VICIdial 2.14,
  ``bin/AST_VDadapt.pl`` and ``bin/AST_VDauto_dial.pl``), in its TAPERED drop mode, with
  the benchmark's 2-second connect limit instead of VICIdial's 5 s.
* The clairvoyant bound is analytic: :meth:`Scenario.clairvoyant_talk_share`.
"""

from __future__ import annotations

from collections import deque

from pacing import (
    AbandonTracker,
    CallObservation,
    CallOutcomeKind,
    CampaignSnapshot,
    ComplianceProfile,
    DialDecision,
    DialMode,
)


class _Blind:
    """Baselines learn nothing from durations."""

    def observe_talk(self, t_s: float, talk_s: float) -> None:
        return None

    def observe_wrap(self, t_s: float, wrap_s: float) -> None:
        return None


class FixedRatioPolicy(_Blind):
    """A fixed dial ratio: ``round(ratio * ready agents)`` calls ringing, no feedback."""

    mode = DialMode.PREDICTIVE

    def __init__(self, ratio: float = 2.0) -> None:
        self.ratio = ratio

    def observe_call(self, observation: CallObservation) -> None:
        return None

    def decide(self, snapshot: CampaignSnapshot) -> DialDecision:
        goal = round(self.ratio * snapshot.ready_agents)
        launch = max(0, min(goal - len(snapshot.ringing_ages_s), snapshot.lines_free))
        active = snapshot.active_agents
        level = (len(snapshot.ringing_ages_s) + launch) / active if active else 0.0
        return DialDecision(launch=launch, dial_level=level, mode=DialMode.PREDICTIVE)


class VicidialAdaptivePolicy(_Blind):
    """VICIdial's adaptive ratio controller (see ``vicidial-adaptive.md``).

    What we followed, step by step:

    * every 1 s: sample ``ready`` (idle agents) and ``waiting`` (answered customers with no
      agent); keep the last 15 samples; ``differential = mean(ready) - mean(waiting)``;
    * every 15 s: ``mul = (differential + dl_diff_target) / agents logged in (average of
      the last minute)``; ``change_pct = mul * 100 * (k + 1)`` if ``mul >= 0`` else
      ``mul * 100 * |k - 1|`` with ``k = intensity / 100``; ``level *= 1 + change_pct / 100``,
      clamped to ``[1, max_level]``; halved if more than 20 calls in the last minute dropped
      more than 50%; and, when more than 50 calls today dropped more than ``drop_limit`` of
      their human answers, by ``drop_mode``: TAPERED (the default here, as the issue asks)
      ``level *= min(1, hours_left_in_shift / 10)``, AVERAGE ``level /= 2``, HARD_LIMIT
      ``level = 1``;
    * at every decision: ``goal = round(level * (ready + in call))`` and launch
      ``goal - calls in progress``.

    Days are shifts here (the simulator's shift starts at t = 0). Defaults are VICIdial's:
    intensity 0, dl_diff_target 0, max level 3.0, drop limit 3%.
    """

    mode = DialMode.PREDICTIVE

    def __init__(self, profile: ComplianceProfile, *, drop_limit: float | None = None,
                 shift_s: float = 8 * 3600, max_level: float = 3.0, intensity: float = 0.0,
                 dl_diff_target: float = 0.0, drop_mode: str = "TAPERED") -> None:
        if drop_mode not in ("TAPERED", "AVERAGE", "HARD_LIMIT"):
            raise ValueError(f"drop_mode: expected TAPERED, AVERAGE or HARD_LIMIT (got {drop_mode!r})")
        self.drop_mode = drop_mode
        self.drop_limit = profile.abandon_cap if drop_limit is None else drop_limit
        self.shift_s = shift_s
        self.max_level = max_level
        self.k = intensity / 100.0
        self.dl_diff_target = dl_diff_target
        self.level = 1.0
        self._samples: deque[tuple[int, int]] = deque(maxlen=15)
        self._agents_minute: deque[int] = deque(maxlen=60)
        self._next_sample_s = 0.0
        self._next_adapt_s = 15.0
        self._today = AbandonTracker(shift_s * 2, buckets=1)
        self._calls: deque[float] = deque()            # launch times, last minute
        self._minute_answers: deque[tuple[float, bool]] = deque()
        self._calls_today = 0

    def observe_call(self, observation: CallObservation) -> None:
        if observation.outcome in (CallOutcomeKind.CONNECTED, CallOutcomeKind.ABANDONED):
            dropped = observation.outcome is CallOutcomeKind.ABANDONED
            self._today.record_answer(observation.t_s, abandoned=dropped)
            self._minute_answers.append((observation.t_s, dropped))

    def _adapt(self, now: float) -> None:
        ready = sum(r for r, _ in self._samples) / len(self._samples)
        waiting = sum(w for _, w in self._samples) / len(self._samples)
        differential = ready - waiting
        agents = max(sum(self._agents_minute) / len(self._agents_minute), 1.0)
        mul = (differential + self.dl_diff_target) / agents
        change_pct = mul * 100 * abs(self.k - 1) if mul < 0 else mul * 100 * (self.k + 1)
        level = self.level * (1 + change_pct / 100)
        level = min(max(level, 1.0), self.max_level)
        while self._calls and self._calls[0] < now - 60:
            self._calls.popleft()
        while self._minute_answers and self._minute_answers[0][0] < now - 60:
            self._minute_answers.popleft()
        minute_answers = len(self._minute_answers)
        minute_drops = sum(1 for _, d in self._minute_answers if d)
        if len(self._calls) > 20 and minute_answers and minute_drops / minute_answers > 0.5:
            level /= 2
        today = self._today.counts(now)
        if self._calls_today > 50 and today.live_answers and \
                today.abandoned / today.live_answers > self.drop_limit:
            if self.drop_mode == "HARD_LIMIT":
                level = 1.0
            elif self.drop_mode == "AVERAGE":
                level /= 2
            else:
                hours_left = max(self.shift_s - now, 0.0) / 3600.0
                level *= min(1.0, hours_left / 10.0)
        self.level = level

    def decide(self, snapshot: CampaignSnapshot) -> DialDecision:
        now = snapshot.now_s
        in_call = len(snapshot.talking_elapsed_s) + snapshot.reserved_agents
        while now >= self._next_sample_s:
            self._samples.append((snapshot.ready_agents, snapshot.customers_waiting))
            self._agents_minute.append(snapshot.ready_agents + in_call + len(snapshot.wrapping_elapsed_s))
            self._next_sample_s += 1.0
        while now >= self._next_adapt_s:
            self._adapt(now)
            self._next_adapt_s += 15.0
        agents = snapshot.ready_agents + in_call
        goal = round(self.level * agents)
        # Calls in progress are all the campaign's lines: ringing, queued, and connected to
        # agents (VICIdial counts every vicidial_auto_calls row, so that a level of 1.0
        # means one line per agent).
        in_progress = (len(snapshot.ringing_ages_s) + snapshot.reserved_ringing + snapshot.customers_waiting
                       + len(snapshot.talking_elapsed_s))
        launch = max(0, min(goal - in_progress, snapshot.lines_free))
        self._calls_today += launch
        for _ in range(launch):
            self._calls.append(now)
        active = snapshot.active_agents
        level = (in_progress + launch) / active if active else 0.0
        return DialDecision(launch=launch, dial_level=level, mode=DialMode.PREDICTIVE)
