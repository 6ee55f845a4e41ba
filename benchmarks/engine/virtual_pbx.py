"""A :class:`~dialer.ports.PbxPort` in virtual time, driven by a ``benchmarks.callcentre`` population.

Theory of operation
-------------------
The pure pacing benchmark (:func:`benchmarks.callcentre.run_shift`) simulates both the call
centre and the dialer's bookkeeping. Here the dialer is the real
:class:`~dialer.campaign.runner.CampaignRunner`, and this port plays only what is outside it: the called
people, Asterisk's queue and the agents' phones. Everything it does is scheduled on the
runner's :class:`~dialer.clock.VirtualClock` (one small task per scheduled event, all owned
here and cancelled by :meth:`VirtualPbx.close`), and everything it reports goes to the
subscribed listeners as the same ``ami.outcome`` / ``ami.agent_events`` updates the real AMI
client produces, delivered with ``loop.call_soon`` (asynchronously, in order, as frames off a
socket would be).

Common random numbers. The ``k``-th *first* dial of a number takes draw ``k`` of
:class:`~benchmarks.callcentre.CallDraws` stream 0, and the ``j``-th redial of a number
already dialled takes draw ``j`` of stream 1 -- exactly as the pure simulator hands stream 0 to
fresh calls and stream 1 to redials of abandoned contacts. With the store configured so that
only abandoned contacts come back within the shift (see ``benchmarks.engine_pacing``), both
benchmarks meet the same calls in the same order of launch.

A call's fate follows the pure simulator: busy and failed end after ``early_end_s``; no answer
ends at the request's ring timeout; a person answers after the drawn answer time and, unless
the AMD (when the Originate asks for it) takes them for a machine, is put through -- to the
reserved agent if the Originate named one, else to the longest-free queue member who is not
paused, not on a call and not wrapping up -- or, if none is free within the connect limit,
abandoned. A machine the AMD catches is hung up ``amd_detect_s`` after answering; one it misses
holds an agent for ``machine_agent_s``.

Simulated agents. A queue member is a person at a phone: after a call with a person they wrap
up for the drawn wrap time (after a machine, not at all), then report their disposition
through the ``on_wrap_done`` callback -- which the benchmark wires to the runner's agent
interface, as a real agent's UI would. While wrapping, a member does not take queue calls
even if the runner left it unpaused (a person filling in a form does not answer).

Ground truth. :class:`ShiftTally` counts what a regulator would count (true people, plus AMD
false positives under a profile that counts them) and agent time, the same quantities as
:class:`~benchmarks.callcentre.ShiftResult`, so both benchmarks print comparable tables.

Not modelled (honest list): several queues per member, ring-no-answer of members, AMI
latency (updates arrive in the same virtual instant), channel limits other than ``lines``.
"""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ami.agent_events import AgentCallEvent, AgentCallKind, AgentStateChange, DeviceState, MemberChange
from ami.outcome import CONNECT_LIMIT_S, AgentConnected, AmdDetected, Answered, CallOutcome, Ended, Outcome
from benchmarks.callcentre import CallDraws, Scenario, ShiftResult
from dialer.clock import VirtualClock
from dialer.ports import OriginateRequest, PbxListener, PbxUnavailable

# OriginateResponse Reason codes and Q.850 causes the real client would report for each ending
# (ami/hangup_causes.py; Asterisk's include/asterisk/causes.h).
_ENDING_CODES: dict[Outcome, tuple[int, int, str]] = {
    Outcome.CONNECTED: (4, 16, "Normal Clearing"),
    Outcome.BUSY: (5, 17, "User busy"),
    Outcome.NO_ANSWER: (3, 19, "No user responding"),
    Outcome.FAILED: (8, 34, "Circuit/channel congestion"),
    Outcome.MACHINE: (4, 16, "Normal Clearing"),
    Outcome.ABANDONED: (4, 16, "Normal Clearing"),
}

# Fates drawn for a call.
_HUMAN, _MACHINE, _BUSY, _FAILED, _NO_ANSWER = range(5)
FATE_NAMES = ("human", "machine", "busy", "failed", "no_answer")

WrapDone = Callable[[str, str, bool], Awaitable[None] | None]
"""``on_wrap_done(interface, attempt_id, human)``: a simulated agent finished wrap-up."""


@dataclass(frozen=True, slots=True)
class CallFate:
    """What the population decided for one originate (for tests and the log)."""

    attempt_id: str
    stream: int          # 0 first dial of the number, 1 redial
    index: int           # draw index within the stream
    fate: str            # one of FATE_NAMES
    amd_false_positive: bool
    amd_false_negative: bool
    answer_s: float
    talk_s: float
    wrap_s: float
    reserved: bool       # the Originate named an agent (progressive, callbacks, call progressive)


@dataclass(slots=True)
class _Member:
    queue: str
    interface: str
    name: str
    paused: bool
    reason: str
    on_call: str | None = None       # attempt id
    wrapping: bool = False
    free_since: float = 0.0

    @property
    def takes_queue_calls(self) -> bool:
        return not self.paused and self.on_call is None and not self.wrapping


@dataclass(slots=True)
class _Call:
    request: OriginateRequest
    fate: CallFate
    launched_at: float
    human: bool                      # a true person answered (ground truth)
    answered_at: float | None = None
    agent: str | None = None         # interface it is connected to
    connected_at: float | None = None
    over: bool = False


@dataclass(slots=True)
class ShiftTally:
    """Ground-truth counters of a shift, as :class:`~benchmarks.callcentre.ShiftResult` keeps them."""

    start_at: float
    shift_s: float
    count_amd_false_positives: bool
    talk_s: float = 0.0
    machine_agent_s: float = 0.0
    wrap_s: float = 0.0
    connects: int = 0
    agent_calls: int = 0
    live_answers: int = 0
    abandoned: int = 0
    amd_false_positives: int = 0
    calls: int = 0
    peak_lines: int = 0
    live_per_min: np.ndarray = field(default_factory=lambda: np.zeros(0))
    abandoned_per_min: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        minutes = math.ceil(self.shift_s / 60.0) + 1
        self.live_per_min = np.zeros(minutes)
        self.abandoned_per_min = np.zeros(minutes)

    def _in_shift(self, at: float) -> float:
        """Seconds into the shift, clipped to it."""
        return min(max(at - self.start_at, 0.0), self.shift_s)

    def span(self, begin_at: float, length_s: float) -> float:
        """The part of ``[begin_at, begin_at + length_s)`` inside the shift."""
        return self._in_shift(begin_at + length_s) - self._in_shift(begin_at)

    def count_live(self, at: float, *, abandoned: bool) -> None:
        t = at - self.start_at
        m = int(t // 60.0)
        if 0 <= m < self.live_per_min.size:
            self.live_per_min[m] += 1
            if abandoned:
                self.abandoned_per_min[m] += 1
        if 0 <= t < self.shift_s:
            self.live_answers += 1
            if abandoned:
                self.abandoned += 1

    def result(self, agents: int, *, measured_rate: float | None = None) -> ShiftResult:
        """The shift as a :class:`ShiftResult`; agents are logged in the whole shift, so idle is the rest."""
        busy = self.talk_s + self.machine_agent_s + self.wrap_s
        minutes = int(self.shift_s // 60)
        return ShiftResult(
            agents=agents, shift_s=self.shift_s, talk_s=self.talk_s, machine_agent_s=self.machine_agent_s,
            wrap_s=self.wrap_s, idle_s=max(agents * self.shift_s - busy, 0.0), connects=self.connects,
            agent_calls=self.agent_calls, live_answers=self.live_answers, abandoned=self.abandoned,
            amd_false_positives=self.amd_false_positives, calls=self.calls, peak_lines=self.peak_lines,
            worst_hour_abandon_rate=worst_hour(self.live_per_min[:minutes], self.abandoned_per_min[:minutes]),
            measured_rate=measured_rate,
        )


def worst_hour(live: np.ndarray, abandoned: np.ndarray) -> float:
    """Highest abandon rate over any 60 consecutive minutes (the whole shift if shorter)."""
    if live.size == 0:
        return 0.0
    width = min(60, live.size)
    kernel = np.ones(width)
    live_h = np.convolve(live, kernel, mode="valid")
    ab_h = np.convolve(abandoned, kernel, mode="valid")
    rates = np.divide(ab_h, live_h, out=np.zeros_like(ab_h), where=live_h > 0)
    return float(rates.max())


class VirtualPbx:
    """The called population, the queue and the agents' phones, in virtual time.

    Args:
        clock: the runner's virtual clock (epoch seconds).
        scenario: the population and the team's talk and wrap times.
        seed: seed of the common random numbers.
        shift_s: the shift length (for the drifting human share and the tally's window).
        count_amd_false_positives: the profile counts AMD false positives as abandons (UK).
        connect_limit_s: a live answer not put through within this is abandoned (2 s: Ofcom,
            FTC TSR; ``ami.outcome.CONNECT_LIMIT_S``).
        lines: channels the PBX can carry (``None``: unlimited).
        on_wrap_done: called when a simulated agent ends wrap-up (see module docstring).
    """

    def __init__(
        self,
        clock: VirtualClock,
        scenario: Scenario,
        *,
        seed: int = 1,
        shift_s: float = 8 * 3600.0,
        count_amd_false_positives: bool = False,
        connect_limit_s: float = float(CONNECT_LIMIT_S),
        lines: int | None = None,
        on_wrap_done: WrapDone | None = None,
    ) -> None:
        self.clock = clock
        self.scenario = scenario
        self.start_at = clock.now()
        self.shift_s = shift_s
        self.connect_limit_s = connect_limit_s
        self.line_limit = lines if lines is not None else 1_000_000
        self.on_wrap_done = on_wrap_done
        self.tally = ShiftTally(self.start_at, shift_s, count_amd_false_positives)
        self.fates: list[CallFate] = []
        self._draws = (CallDraws(scenario, seed, 0), CallDraws(scenario, seed, 1))
        self._next_index = [0, 0]
        self._dialled: set[str] = set()
        self._listeners: list[PbxListener] = []
        self._members: dict[str, _Member] = {}
        self._calls: dict[str, _Call] = {}
        self._waiting: OrderedDict[str, float] = OrderedDict()   # queue callers: attempt id -> answer time
        self._tasks: set[asyncio.Task[None]] = set()
        self._connected = True
        self.errors: list[Exception] = []   # what scheduled events (agents' callbacks) raised
        self.lines_in_use = 0
        self.originates = 0
        self.ended: dict[str, Outcome] = {}   # attempt id -> how it ended

    # ------------------------------------------------------------------ PbxPort

    @property
    def connected(self) -> bool:
        return self._connected

    def lines_free(self, servers: tuple[str, ...] = ()) -> int:
        return max(self.line_limit - self.lines_in_use, 0) if self._connected else 0

    def reaches(self, servers: tuple[str, ...] = (), interface: str | None = None) -> bool:
        return self._connected

    def home(self, interface: str, server: str) -> None:
        """One virtual server: every agent is on it."""

    def subscribe(self, listener: PbxListener) -> None:
        self._listeners.append(listener)

    async def originate(self, call: OriginateRequest) -> None:
        """Place ``call``; its fate is the next draw of its stream (see module docstring).

        Raises:
            PbxUnavailable: disconnected, at the line limit, or the attempt id is in use.
        """
        if not self._connected:
            raise PbxUnavailable("virtual PBX disconnected")
        if self.lines_in_use >= self.line_limit:
            raise PbxUnavailable(f"virtual PBX at its line limit ({self.line_limit})")
        if call.attempt_id in self._calls:
            raise PbxUnavailable(f"attempt {call.attempt_id} is already in progress")
        now = self.clock.now()
        stream = 1 if call.number in self._dialled else 0
        self._dialled.add(call.number)
        index = self._next_index[stream]
        self._next_index[stream] += 1
        u, answer_s, talk_s, wrap_s, v = self._draws[stream].draw(index)
        s = self.scenario
        human_p = s.human_at(now - self.start_at, self.shift_s)
        fp = fn = False
        if u < human_p:
            fate = _HUMAN
            fp = call.amd and v < s.amd_false_positive
        elif u - human_p < s.machine:
            fate = _MACHINE
            # Missed by the AMD (or no AMD asked): reaches an agent like a person.
            fn = not call.amd or v < s.amd_false_negative
        elif u - human_p - s.machine < s.busy:
            fate = _BUSY
        elif u - human_p - s.machine - s.busy < s.failed:
            fate = _FAILED
        else:
            fate = _NO_ANSWER
        record = CallFate(call.attempt_id, stream, index, FATE_NAMES[fate], fp, fn and fate == _MACHINE,
                          answer_s, talk_s, wrap_s, call.agent_interface is not None)
        self.fates.append(record)
        entry = _Call(call, record, now, human=fate == _HUMAN)
        self._calls[call.attempt_id] = entry
        self.originates += 1
        self.lines_in_use += 1
        self.tally.calls += 1 if now - self.start_at < self.shift_s else 0
        self.tally.peak_lines = max(self.tally.peak_lines, self.lines_in_use)
        aid = call.attempt_id
        if fate == _BUSY:
            self._at(now + s.early_end_s, self._end, aid, Outcome.BUSY)
        elif fate == _FAILED:
            self._at(now + s.early_end_s, self._end, aid, Outcome.FAILED)
        elif fate == _NO_ANSWER:
            self._at(now + call.ring_timeout_s, self._end, aid, Outcome.NO_ANSWER)
        elif answer_s >= call.ring_timeout_s:
            # The Originate gave up ringing before this person picked up.
            self._at(now + call.ring_timeout_s, self._end, aid, Outcome.NO_ANSWER)
        elif fp or (fate == _MACHINE and not record.amd_false_negative):
            self._at(now + answer_s, self._amd_answer, aid)
        else:
            self._at(now + answer_s, self._live_answer, aid)

    async def hangup(self, attempt_id: str) -> None:
        """Hang up a call of ours: before the answer it ends unanswered, after it as connected."""
        entry = self._calls.get(attempt_id)
        if entry is None or entry.over:
            return
        if entry.agent is not None:
            self._hangup_talking(attempt_id)
        else:
            self._waiting.pop(attempt_id, None)
            self._end(attempt_id, Outcome.ABANDONED if entry.answered_at is not None else Outcome.NO_ANSWER)

    async def queue_add(self, queue: str, interface: str, *, member_name: str, paused: bool) -> None:
        now = self.clock.now()
        member = self._members.get(interface)
        if member is None:
            member = _Member(queue, interface, member_name, paused, "", free_since=now)
            self._members[interface] = member
        member.queue, member.paused = queue, paused
        self._emit_member(member, MemberChange.ADDED)
        self._serve_waiting()

    async def queue_remove(self, queue: str, interface: str) -> None:
        member = self._members.pop(interface, None)
        if member is not None:
            self._emit_member(member, MemberChange.REMOVED)

    async def queue_pause(self, queue: str, interface: str, *, paused: bool, reason: str = "") -> None:
        member = self._members.get(interface)
        if member is None:
            return  # Asterisk answers "Interface not found"; no event
        member.paused, member.reason = paused, reason if paused else ""
        self._emit_member(member, MemberChange.PAUSE)
        if not paused:
            self._serve_waiting()

    async def queue_exists(self, queue: str) -> bool | None:
        return True  # the virtual call centre has every campaign's queue

    async def queue_members(self, queue: str) -> set[str] | None:
        return {m.interface for m in self._members.values() if m.queue == queue}

    async def adopt_attempts(self, ages_s: Mapping[str, float]) -> set[str] | None:
        """Calls this PBX still runs already report to every listener: nothing to rebuild."""
        return {aid for aid in ages_s if aid in self._calls and not self._calls[aid].over}

    def release_attempts(self, attempt_ids: Iterable[str]) -> dict[str, list[str]]:
        return {aid: [f"dlr-{aid}"] for aid in attempt_ids if aid in self._calls}

    # ------------------------------------------------------------------ control

    def set_connected(self, up: bool) -> None:
        """Simulate an AMI connection lost (False) or back (True); calls in flight go on."""
        if up != self._connected:
            self._connected = up
            for listener in self._listeners:
                asyncio.get_running_loop().call_soon(listener.on_connection, up)

    def in_progress(self) -> int:
        return sum(1 for c in self._calls.values() if not c.over)

    async def close(self) -> None:
        """Cancel every scheduled event (the shift is over)."""
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------------------ scheduling

    def _at(self, at: float, fn: Callable[..., object], *args: object) -> None:
        task = asyncio.get_running_loop().create_task(self._fire(at, fn, args))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fire(self, at: float, fn: Callable[..., object], args: tuple[object, ...]) -> None:
        await self.clock.sleep_until(at)
        try:
            result = fn(*args)
            if asyncio.iscoroutine(result):
                await result
        except Exception as exc:
            self.errors.append(exc)

    def _emit_attempt(self, update: object) -> None:
        loop = asyncio.get_running_loop()
        for listener in self._listeners:
            loop.call_soon(listener.on_attempt, update)

    def _emit_agent(self, update: object) -> None:
        loop = asyncio.get_running_loop()
        for listener in self._listeners:
            loop.call_soon(listener.on_agent, update)

    def _emit_member(self, m: _Member, change: MemberChange) -> None:
        state = DeviceState.INUSE if m.on_call else DeviceState.NOT_INUSE
        self._emit_agent(AgentStateChange(change, m.queue, m.interface, m.name, state, m.paused,
                                          m.reason or None, m.on_call is not None, None, "dynamic",
                                          self.clock.now()))

    # ------------------------------------------------------------------ call events

    def _amd_answer(self, aid: str) -> None:
        entry = self._calls.get(aid)
        if entry is None or entry.over:
            return
        now = self.clock.now()
        entry.answered_at = now
        self._emit_attempt(Answered(aid, now))
        self._at(now + self.scenario.amd_detect_s, self._amd_verdict, aid)

    def _amd_verdict(self, aid: str) -> None:
        entry = self._calls.get(aid)
        if entry is None or entry.over:
            return
        now = self.clock.now()
        self._emit_attempt(AmdDetected(aid, "MACHINE", "INITIALSILENCE", now))
        if entry.fate.amd_false_positive:
            answered = now - self.scenario.amd_detect_s
            if answered - self.start_at < self.shift_s:
                self.tally.amd_false_positives += 1
            if self.tally.count_amd_false_positives:
                self.tally.count_live(answered, abandoned=True)
        self._end(aid, Outcome.MACHINE)

    def _live_answer(self, aid: str) -> None:
        """A person (or a machine the AMD missed) picked up: to the reserved agent, else the queue."""
        entry = self._calls.get(aid)
        if entry is None or entry.over:
            return
        now = self.clock.now()
        entry.answered_at = now
        self._emit_attempt(Answered(aid, now))
        target = entry.request.agent_interface
        if target is not None:
            member = self._members.get(target)
            if member is not None and member.on_call is None:
                self._connect(aid, member)
                return
            # The reserved agent's phone is gone or busy: the dialplan falls back to the queue.
        member = self._longest_free()
        if member is not None:
            self._connect(aid, member)
            return
        self._waiting[aid] = now
        self._at(now + self.connect_limit_s, self._connect_deadline, aid)

    def _connect_deadline(self, aid: str) -> None:
        if self._waiting.pop(aid, None) is None:
            return
        entry = self._calls[aid]
        if entry.human:
            self.tally.count_live(self.clock.now() - self.connect_limit_s, abandoned=True)
        self._end(aid, Outcome.ABANDONED, info_message=True)  # the dialplan's abandon path plays it

    def _longest_free(self) -> _Member | None:
        best: _Member | None = None
        for m in self._members.values():
            if m.takes_queue_calls and (best is None or m.free_since < best.free_since):
                best = m
        return best

    def _serve_waiting(self) -> None:
        while self._waiting:
            member = self._longest_free()
            if member is None:
                return
            aid, _ = self._waiting.popitem(last=False)
            self._connect(aid, member)

    def _connect(self, aid: str, member: _Member) -> None:
        entry = self._calls[aid]
        now = self.clock.now()
        entry.agent, entry.connected_at = member.interface, now
        member.on_call = aid
        queue_call = entry.request.agent_interface != member.interface
        wait_s = now - entry.answered_at if entry.answered_at is not None else None
        s, tally = self.scenario, self.tally
        in_shift = now - self.start_at < self.shift_s
        tally.agent_calls += 1 if in_shift else 0
        if entry.human:
            talk = entry.fate.talk_s
            tally.connects += 1 if in_shift else 0
            tally.count_live(now, abandoned=False)
            tally.talk_s += tally.span(now, talk)
        else:
            talk = s.machine_agent_s
            tally.machine_agent_s += tally.span(now, talk)
        self._emit_attempt(AgentConnected(aid, member.interface, now, wait_s))
        if queue_call:
            self._emit_agent(AgentCallEvent(
                AgentCallKind.CONNECT, member.queue, member.interface, member.name, aid, aid,
                f"{member.interface}-{aid}", wait_s, 0.0, None, None, now))
        self._emit_member(member, MemberChange.STATUS)
        self._at(now + talk, self._hangup_talking, aid)

    def _hangup_talking(self, aid: str) -> None:
        entry = self._calls.get(aid)
        if entry is None or entry.over or entry.agent is None:
            return
        now = self.clock.now()
        member = self._members.get(entry.agent)
        self._end(aid, Outcome.CONNECTED)
        if member is None or member.on_call != aid:
            return
        member.on_call = None
        if entry.request.agent_interface != member.interface:
            talk_s = now - entry.connected_at if entry.connected_at is not None else None
            self._emit_agent(AgentCallEvent(
                AgentCallKind.COMPLETE, member.queue, member.interface, member.name, aid, aid,
                f"{member.interface}-{aid}", None, None, talk_s, "caller", now))
        member.wrapping = True
        self._emit_member(member, MemberChange.STATUS)
        wrap = entry.fate.wrap_s if entry.human else 0.0
        self.tally.wrap_s += self.tally.span(now, wrap)
        self._at(now + wrap, self._wrap_done, member.interface, aid, entry.human)

    async def _wrap_done(self, interface: str, aid: str, human: bool) -> None:
        member = self._members.get(interface)
        if member is not None:
            member.wrapping = False
            member.free_since = self.clock.now()
        if self.on_wrap_done is not None:
            result = self.on_wrap_done(interface, aid, human)
            if result is not None:
                await result
        self._serve_waiting()

    def _end(self, aid: str, outcome: Outcome, *, info_message: bool = False) -> None:
        entry = self._calls.get(aid)
        if entry is None or entry.over:
            return
        entry.over = True
        del self._calls[aid]
        self.lines_in_use -= 1
        self.ended[aid] = outcome
        now = self.clock.now()
        reason, cause, cause_txt = _ENDING_CODES[outcome]
        ring_s = (entry.answered_at or now) - entry.launched_at
        wait_s = None
        if entry.answered_at is not None:
            wait_s = (entry.connected_at or now) - entry.answered_at
        talk_s = now - entry.connected_at if entry.connected_at is not None else None
        amd = outcome is Outcome.MACHINE
        self._emit_attempt(Ended(CallOutcome(
            attempt_id=aid, outcome=outcome, reason=reason, cause=cause, cause_txt=cause_txt,
            agent=entry.agent,
            ring_s=ring_s, wait_s=wait_s, talk_s=talk_s, uniqueid=f"virt-{aid}", linkedid=f"virt-{aid}",
            amd_status="MACHINE" if amd else None, amd_cause="INITIALSILENCE" if amd else None,
            info_message=info_message)))
