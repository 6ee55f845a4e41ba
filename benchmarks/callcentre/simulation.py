"""A discrete-event, virtual-time call centre driving a pacing policy.

Theory of operation
-------------------
Agents cycle ready -> (reserved) -> talking -> wrap-up -> ready. A policy is asked for a
:class:`~pacing.DialDecision` every ``tick_s`` virtual seconds and whenever an agent becomes
free, through the same :class:`~pacing.CampaignSnapshot` and ``observe_*`` calls the engine's
campaign runner makes. Launched call ``k`` takes its fate from :class:`CallDraws` stream 0
(common random numbers); redials of abandoned contacts ("call progressive", always with an
agent reserved) draw from stream 1.

A call's fate: busy and failed end after ``early_end_s``; no answer ends at the ring
timeout; a human answers after the answer time and, unless the AMD takes them for a machine
(then hung up after ``amd_detect_s``), needs an agent within the profile's connect limit or
is abandoned; a machine is detected after ``amd_detect_s`` and hung up, unless it slips
through the AMD and holds an agent for ``machine_agent_s``. With AMD off, every machine
reaches an agent and no human is misclassified.

The ground truth (what a regulator would count) is kept apart from what the policy is told:
the abandon rate reported counts true people only, plus, under a profile that counts them,
people the AMD hung up on.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from benchmarks.callcentre.clock import VirtualClock
from benchmarks.callcentre.errors import PolicyBrokeContract
from benchmarks.callcentre.scenario import CallDraws, Scenario
from pacing import CallObservation, CallOutcomeKind, CampaignSnapshot, ComplianceProfile, PacingPolicy

# Event kinds, in tie-break priority order at equal times: agents free first, then
# answers, then connect deadlines, then the decision tick.
_WRAP_END, _TALK_END, _CALL_END, _AMD_ANSWER, _LIVE, _DEADLINE, _TICK = range(7)
_PRIORITY = (0, 0, 1, 1, 2, 3, 4)

_READY, _RESERVED, _TALKING, _WRAPPING = range(4)

# A call ending unanswered triggers a decision unless one was taken this recently (a
# runner would coalesce such bursts the same way; it keeps 100-agent shifts fast).
_CALL_END_GAP_S = 0.5

# Outcome categories drawn for a call.
_HUMAN, _MACHINE, _BUSY, _FAILED, _NO_ANSWER = range(5)


@dataclass(frozen=True, slots=True)
class ShiftResult:
    """What one (scenario, policy) shift measured. Rates are ground truth."""

    agents: int
    shift_s: float
    talk_s: float               # agents talking to people
    machine_agent_s: float      # agents holding machines that slipped through
    wrap_s: float
    idle_s: float               # ready or reserved, waiting for a call
    connects: int               # people put through to an agent
    agent_calls: int            # all calls an agent took (people and machines)
    live_answers: int           # people who answered (plus AMD false positives if they count)
    abandoned: int              # people abandoned (plus AMD false positives if they count)
    amd_false_positives: int
    calls: int
    peak_lines: int
    worst_hour_abandon_rate: float
    measured_rate: float | None  # the policy's own view at the end, if it has a tracker
    live_per_minute: tuple[int, ...] = ()       # live answers per minute of the shift
    abandoned_per_minute: tuple[int, ...] = ()  # of which abandoned (ground truth)

    @property
    def agent_hours(self) -> float:
        return self.agents * self.shift_s / 3600.0

    @property
    def talk_share(self) -> float:
        return self.talk_s / (self.agents * self.shift_s)

    @property
    def occupancy(self) -> float:
        return (self.talk_s + self.machine_agent_s + self.wrap_s) / (self.agents * self.shift_s)

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.live_answers if self.live_answers else 0.0

    @property
    def talk_min_per_agent_hour(self) -> float:
        return self.talk_s / 60.0 / self.agent_hours

    @property
    def connects_per_agent_hour(self) -> float:
        return self.connects / self.agent_hours

    @property
    def mean_wait_s(self) -> float:
        return self.idle_s / self.agent_calls if self.agent_calls else float(self.idle_s)


def run_shift(scenario: Scenario, policy: PacingPolicy, *, profile: ComplianceProfile, hours: float = 8.0,
              seed: int = 1, tick_s: float = 1.0, amd: bool = True, lines: int | None = None,
              redial_delay_s: float = 600.0, decide_on_call_end: bool = True,
              start_s: float = 0.0) -> ShiftResult:
    """Simulate one shift of ``hours`` and return its measurements.

    Args:
        scenario: team and population.
        policy: anything following :class:`~pacing.PacingPolicy`.
        profile: compliance profile (connect limit, whether AMD false positives count).
        hours: shift length; nothing is launched after it and durations are cut at its end.
        seed: seed of the common random numbers.
        tick_s: decision period, seconds (plus a decision whenever an agent frees up).
        amd: answering-machine detection on or off.
        lines: the campaign's line limit (``None``: unlimited).
        redial_delay_s: when an abandoned contact becomes due again (with an agent reserved).
        decide_on_call_end: also ask the policy when a call ends unanswered (a line and a
            slice of the forecast demand are freed), as the engine's runner does.
        start_s: the policy's clock at the start of the shift, so one policy can work
            consecutive shifts (``start_s`` one day apart: the overnight closure).

    Raises:
        PolicyBrokeContract: the policy launched more calls than lines, or reserved more
            agents than were ready, or more than it launched.
    """
    t0 = start_s
    shift_s = hours * 3600.0
    end_s = t0 + shift_s
    n_agents = scenario.agents
    limit_s = profile.connect_limit_s
    count_fp = profile.amd_false_positives_count
    line_limit = lines if lines is not None else 1_000_000
    fresh = CallDraws(scenario, seed, 0)
    redials_draws = CallDraws(scenario, seed, 1)
    clock = VirtualClock()
    schedule = clock.schedule

    state = [_READY] * n_agents
    since = [t0] * n_agents
    ready: list[int] = list(range(n_agents - 1, -1, -1))
    talk_start: dict[int, float] = {}
    wrap_start: dict[int, float] = {}
    ringing: dict[int, float] = {}          # unreserved calls not yet answered: id -> launch time
    reserved_for: dict[int, int] = {}       # call id -> reserved agent (until answer or end)
    waiting: dict[int, float] = {}          # live answers waiting: id -> answer time
    call_info: dict[int, tuple[float, float, bool]] = {}   # id -> (launch, answer_s, is_human)
    redials: deque[float] = deque()         # due times of "call progressive" contacts

    minutes = int(np.ceil(shift_s / 60.0)) + 1
    live_per_min = np.zeros(minutes)
    ab_per_min = np.zeros(minutes)

    acc = {"talk": 0.0, "machine": 0.0, "wrap": 0.0, "idle": 0.0}
    counters = {"connects": 0, "agent_calls": 0, "live": 0, "abandoned": 0, "fp": 0, "calls": 0}
    lines_in_use = 0
    peak_lines = 0
    next_fresh = 0
    next_redial = 0
    next_id = 0

    observe_call = policy.observe_call
    decide = policy.decide
    outcome_busy, outcome_failed = CallOutcomeKind.BUSY, CallOutcomeKind.FAILED
    outcome_na, outcome_machine = CallOutcomeKind.NO_ANSWER, CallOutcomeKind.MACHINE

    def count_live(t: float, abandoned: bool) -> None:
        m = int((t - t0) // 60.0)
        if 0 <= m < minutes:
            live_per_min[m] += 1
            if abandoned:
                ab_per_min[m] += 1
        if t < end_s:
            counters["live"] += 1
            if abandoned:
                counters["abandoned"] += 1

    def leave_idle(agent: int, now: float) -> None:
        acc["idle"] += min(now, end_s) - min(since[agent], end_s)

    def connect(agent: int, call_id: int, now: float) -> None:
        nonlocal lines_in_use
        _, answer_s, human = call_info.pop(call_id)
        leave_idle(agent, now)
        state[agent] = _TALKING
        since[agent] = now
        talk_start[agent] = now
        counters["agent_calls"] += 1
        if human:
            talk = talk_of[call_id]
            counters["connects"] += 1
            count_live(now, False)
            acc["talk"] += max(0.0, min(now + talk, end_s) - now) if now < end_s else 0.0
        else:
            talk = scenario.machine_agent_s
            acc["machine"] += max(0.0, min(now + talk, end_s) - now) if now < end_s else 0.0
        observe_call(CallObservation(now, CallOutcomeKind.CONNECTED, answer_s, reserved=False))
        schedule(now + talk, _PRIORITY[_TALK_END], (_TALK_END, agent, call_id, 1 if human else 0))

    talk_of: dict[int, float] = {}
    wrap_of: dict[int, float] = {}

    def launch(now: float, agent: int) -> None:
        """Originate one call; ``agent`` >= 0 is reserved for it."""
        nonlocal lines_in_use, peak_lines, next_fresh, next_redial, next_id
        if agent >= 0 and redials and redials[0] <= now:
            redials.popleft()
            u, ans, talk, wrap, v = redials_draws.draw(next_redial)
            next_redial += 1
        else:
            u, ans, talk, wrap, v = fresh.draw(next_fresh)
            next_fresh += 1
        call_id = next_id
        next_id += 1
        counters["calls"] += 1
        lines_in_use += 1
        if lines_in_use > peak_lines:
            peak_lines = lines_in_use
        if agent >= 0:
            reserved_for[call_id] = agent
        else:
            ringing[call_id] = now
        human_p = scenario.human_at(now - t0, shift_s)
        if u < human_p:
            if amd and v < scenario.amd_false_positive:
                call_info[call_id] = (now, ans, True)
                schedule(now + ans, _PRIORITY[_AMD_ANSWER], (_AMD_ANSWER, call_id, 1, 0))
            else:
                call_info[call_id] = (now, ans, True)
                talk_of[call_id] = talk
                wrap_of[call_id] = wrap
                schedule(now + ans, _PRIORITY[_LIVE], (_LIVE, call_id, 0, 0))
            return
        u -= human_p
        if u < scenario.machine:
            call_info[call_id] = (now, ans, False)
            if amd and v >= scenario.amd_false_negative:
                schedule(now + ans, _PRIORITY[_AMD_ANSWER], (_AMD_ANSWER, call_id, 0, 0))
            else:
                schedule(now + ans, _PRIORITY[_LIVE], (_LIVE, call_id, 0, 0))
            return
        u -= scenario.machine
        if u < scenario.busy:
            schedule(now + scenario.early_end_s, _PRIORITY[_CALL_END], (_CALL_END, call_id, _BUSY, 0))
        elif u < scenario.busy + scenario.failed:
            schedule(now + scenario.early_end_s, _PRIORITY[_CALL_END], (_CALL_END, call_id, _FAILED, 0))
        else:
            schedule(now + scenario.ring_timeout_s, _PRIORITY[_CALL_END], (_CALL_END, call_id, _NO_ANSWER, 0))
        call_info[call_id] = (now, 0.0, False)

    def make_ready(agent: int, now: float) -> None:
        state[agent] = _READY
        since[agent] = now
        ready.append(agent)

    last_decision = [-1.0]

    def run_decision(now: float) -> None:
        if now >= end_s:
            return
        last_decision[0] = now
        due = 0
        for t in redials:
            if t > now:
                break
            due += 1
        snap = CampaignSnapshot(
            now_s=now,
            ready_agents=len(ready),
            talking_elapsed_s=tuple([now - t for t in talk_start.values()]),
            wrapping_elapsed_s=tuple([now - t for t in wrap_start.values()]),
            reserved_agents=len(reserved_for),
            ringing_ages_s=tuple([now - t for t in ringing.values()]),
            reserved_ringing=len(reserved_for),
            customers_waiting=len(waiting),
            lines_free=max(line_limit - lines_in_use, 0),
            progressive_contacts=due,
        )
        decision = decide(snap)
        n, r = decision.launch, decision.reserved
        if n > snap.lines_free or r > n or r > snap.ready_agents or n < 0 or r < 0:
            raise PolicyBrokeContract(f"decision launch={n} reserved={r} with lines_free={snap.lines_free}"
                                      f" ready={snap.ready_agents}")
        for _ in range(r):
            agent = ready.pop()
            state[agent] = _RESERVED
            launch(now, agent)
        for _ in range(n - r):
            launch(now, -1)

    def free_agent(agent: int, now: float) -> None:
        """The agent is free: serve the oldest waiting answer, else ask the policy."""
        if waiting:
            call_id = next(iter(waiting))
            del waiting[call_id]
            since[agent] = now
            connect(agent, call_id, now)
            return
        make_ready(agent, now)
        run_decision(now)

    schedule(t0, _PRIORITY[_TICK], (_TICK, 0, 0, 0))
    while len(clock):
        now, (kind, a, b, c) = clock.pop()
        if now > end_s:
            break
        if kind == _TICK:
            run_decision(now)
            if now + tick_s < end_s:
                schedule(now + tick_s, _PRIORITY[_TICK], (_TICK, 0, 0, 0))
        elif kind == _LIVE:
            call_id = a
            launch_t, ans, human = call_info[call_id]
            agent = reserved_for.pop(call_id, -1)
            ringing.pop(call_id, None)
            if agent >= 0:
                connect(agent, call_id, now)
            elif ready:
                connect(ready.pop(), call_id, now)
            else:
                waiting[call_id] = now
                schedule(now + limit_s, _PRIORITY[_DEADLINE], (_DEADLINE, call_id, 0, 0))
        elif kind == _DEADLINE:
            call_id = a
            if call_id in waiting:
                del waiting[call_id]
                launch_t, ans, human = call_info.pop(call_id)
                lines_in_use -= 1
                observe_call(CallObservation(now, CallOutcomeKind.ABANDONED, ans))
                talk_of.pop(call_id, None)
                wrap_of.pop(call_id, None)
                if human:
                    count_live(now - limit_s, True)
                    redials.append(now + redial_delay_s)
        elif kind == _TALK_END:
            agent, call_id, human = a, b, c
            lines_in_use -= 1
            talk_start.pop(agent, None)
            policy.observe_talk(now, now - since[agent])
            if human:
                talk_of.pop(call_id, None)
                wrap = wrap_of.pop(call_id)
                state[agent] = _WRAPPING
                since[agent] = now
                wrap_start[agent] = now
                if now < end_s:
                    acc["wrap"] += min(now + wrap, end_s) - now
                schedule(now + wrap, _PRIORITY[_WRAP_END], (_WRAP_END, agent, 0, 0))
            else:
                free_agent(agent, now)
        elif kind == _WRAP_END:
            agent = a
            wrap_start.pop(agent, None)
            policy.observe_wrap(now, now - since[agent])
            free_agent(agent, now)
        elif kind == _AMD_ANSWER:
            # Answered, AMD listening; the verdict (machine) comes amd_detect_s later.
            call_id = a
            ringing.pop(call_id, None)
            schedule(now + scenario.amd_detect_s, _PRIORITY[_CALL_END], (_CALL_END, call_id, _MACHINE, b))
        else:  # _CALL_END
            call_id, category, was_human = a, b, c
            launch_t, ans, _ = call_info.pop(call_id)
            lines_in_use -= 1
            ringing.pop(call_id, None)
            agent = reserved_for.pop(call_id, -1)
            if category == _MACHINE:
                observe_call(CallObservation(now, outcome_machine, ans, reserved=agent >= 0))
                if was_human:
                    counters["fp"] += 1 if now - scenario.amd_detect_s < end_s else 0
                    if count_fp:
                        count_live(now - scenario.amd_detect_s, True)
            else:
                outcome = (outcome_busy if category == _BUSY else outcome_failed if category == _FAILED
                           else outcome_na)
                observe_call(CallObservation(now, outcome, now - launch_t, reserved=agent >= 0))
            if agent >= 0:
                leave_idle(agent, now)
                make_ready(agent, now)
            if agent >= 0 or (decide_on_call_end and now - last_decision[0] >= _CALL_END_GAP_S):
                run_decision(now)

    for agent in range(n_agents):
        if state[agent] in (_READY, _RESERVED):
            leave_idle(agent, end_s)
    whole = int(shift_s // 60)
    worst = _worst_hour(live_per_min[:whole], ab_per_min[:whole])
    tracker = getattr(policy, "tracker", None)
    measured = tracker.rate(end_s) if tracker is not None else None
    return ShiftResult(
        agents=n_agents, shift_s=shift_s, talk_s=acc["talk"], machine_agent_s=acc["machine"],
        wrap_s=acc["wrap"], idle_s=acc["idle"], connects=counters["connects"],
        agent_calls=counters["agent_calls"], live_answers=counters["live"],
        abandoned=counters["abandoned"], amd_false_positives=counters["fp"], calls=counters["calls"],
        peak_lines=peak_lines, worst_hour_abandon_rate=worst, measured_rate=measured,
        live_per_minute=tuple(int(x) for x in live_per_min[:whole]),
        abandoned_per_minute=tuple(int(x) for x in ab_per_min[:whole]),
    )


def _worst_hour(live: np.ndarray, abandoned: np.ndarray) -> float:
    """Highest abandon rate over any 60 consecutive minutes (the whole shift if shorter)."""
    return worst_window(live, abandoned, 60)


def worst_window(live: np.ndarray, abandoned: np.ndarray, minutes: int) -> float:
    """Highest abandon rate over any ``minutes`` consecutive minutes (the whole series if shorter)."""
    if live.size == 0:
        return 0.0
    width = min(minutes, live.size)
    live_c = np.concatenate([[0.0], np.cumsum(live)])
    ab_c = np.concatenate([[0.0], np.cumsum(abandoned)])
    live_w = live_c[width:] - live_c[:-width]
    ab_w = ab_c[width:] - ab_c[:-width]
    rates = np.divide(ab_w, live_w, out=np.zeros_like(ab_w), where=live_w > 0)
    return float(rates.max())
