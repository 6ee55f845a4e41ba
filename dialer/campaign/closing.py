"""The outcome path: a call's end counted, learnt from and written, in :class:`AttemptCloser`.

Theory of operation. When the PBX reports ``Ended`` for one of the runner's attempts,
:meth:`AttemptCloser.ended`, synchronously and in this order:

1. takes the call off the :class:`~dialer.campaign.calls.CallTable`;
2. maps the PBX's outcome to the store's (:func:`dialer.campaign.outcomes.map_outcome`) and
   counts it in the :class:`OutcomeTally` (by outcome, live answers, connects, abandons, the
   abandon-rate windows) and the engine's metrics, and notes it in the
   :class:`~dialer.campaign.memory.AbandonLedger`, which keeps those windows (and the pacing
   policy's) equal to the campaign's stored counts plus this runner's own calls;
3. feeds the pacing policy's statistics: every call's ring time and pacing outcome, and the
   talk time of a call that reached an agent (measured by the PBX);
4. submits the close of the attempt to the :class:`~dialer.campaign.writer.OutcomeWriter`,
   which applies the automatic status. A call that reached an agent keeps its contact leased
   until the agent's disposition (the call table remembers the contact); any other call
   settles its contact in the hopper once the close is written.

The runner then feeds the ending to the agent board and decides again: those steps await
the PBX, these do not, so an ending is counted before anything else can happen.

Calls adopted after a restart end the same way: the PBX reports their progress again
(``PbxPort.adopt_attempts``), so their ``Ended`` comes like any other.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import structlog

from ami.outcome import Ended
from ami.outcome import Outcome as AmiOutcome
from dialer.agents.board import AgentBoard
from dialer.campaign.calls import CallTable, InFlightCall
from dialer.campaign.directory import AgentDirectory
from dialer.campaign.hopper import Hopper
from dialer.campaign.memory import AbandonLedger, learned_trackers
from dialer.campaign.outcomes import map_outcome
from dialer.campaign.writer import Batch, OutcomeWriter
from dialer.clock import utc_at
from dialer.model import AttemptResult, Campaign
from dialer.model import Outcome as StoreOutcome
from dialer.observability.metrics import DialerMetrics
from dialer.ports import ContactStore
from pacing import AbandonTracker, CallObservation, CallOutcomeKind, PacingPolicy

log = structlog.get_logger(__name__)

__all__ = ["ABANDON_WINDOWS_S", "AttemptCloser", "OutcomeTally"]

# The abandon-rate windows exported as dialer_abandon_rate{window}: Ofcom's 24 h, the FTC's
# 30 days (DESIGN.md "Abandon rate"), and one hour for a supervisor's short view.
ABANDON_WINDOWS_S = {"1h": 3600.0, "24h": 86_400.0, "30d": 30 * 86_400.0}


class OutcomeTally:
    """What one runner counted of its ended calls (for its stats and gauges), and the metrics.

    Args:
        campaign: the campaign's name (the metrics' label).
        metrics: the engine's event metrics.

    Attributes:
        by_outcome: ended attempts by store outcome.
        live, connects, abandons: live answers, calls put through to an agent, abandons.
        trackers: an abandon-rate tracker per window of :data:`ABANDON_WINDOWS_S`.
    """

    def __init__(self, campaign: str, metrics: DialerMetrics) -> None:
        self._campaign = campaign
        self._metrics = metrics
        metrics.export_campaign(campaign, (o.value for o in StoreOutcome))
        self.by_outcome: Counter[str] = Counter()
        self.live = self.abandons = self.connects = 0
        self.trackers = {w: AbandonTracker(s) for w, s in ABANDON_WINDOWS_S.items()}

    @property
    def attempts(self) -> int:
        """Ended attempts counted."""
        return sum(self.by_outcome.values())

    def count(self, outcome: str, *, live: bool, abandoned: bool, now: float) -> None:
        """Count one ended attempt with store outcome ``outcome``."""
        name = self._campaign
        self.by_outcome[outcome] += 1
        self._metrics.attempts.labels(name, outcome).inc()
        if live:
            self.live += 1
            self._metrics.live_answers.labels(name).inc()
            for tracker in self.trackers.values():
                tracker.record_answer(now, abandoned=abandoned)
        if abandoned:
            self.abandons += 1
            self._metrics.abandons.labels(name).inc()

    def abandon_rates(self, now: float) -> dict[str, float]:
        """The abandon rate of every window at ``now``."""
        return {w: t.rate(now) for w, t in self.trackers.items()}


class AttemptCloser:
    """Ends calls: counts them, feeds pacing statistics, closes their attempts in order.

    Args:
        campaign: the campaign (log fields, metric labels).
        store: where attempts are closed (through ``writer``).
        writer: the runner's ordered outcome writer.
        hopper: settles a contact once its attempt is closed (unless an agent holds it).
        calls: the calls in flight.
        directory: store ids of the agents, for the attempt row.
        board: names the agent of a queue call by its interface.
        policy: the pacing policy whose statistics learn from every ending.
        metrics: the engine's event metrics.
    """

    def __init__(
        self,
        campaign: Campaign,
        *,
        store: ContactStore,
        writer: OutcomeWriter,
        hopper: Hopper,
        calls: CallTable,
        directory: AgentDirectory,
        board: AgentBoard,
        policy: PacingPolicy,
        metrics: DialerMetrics,
    ) -> None:
        self._store = store
        self._writer = writer
        self._hopper = hopper
        self._calls = calls
        self._directory = directory
        self._board = board
        self._policy = policy
        # Closes that queue up behind the writer's slots, or arrive within its linger
        # (``write_linger_s``), go to the store together (issue 18).
        self._closes = Batch(store.close_attempts)
        self.tally = OutcomeTally(campaign.name, metrics)
        # The campaign's windows: the store's counts plus this runner's (dialer.campaign.memory).
        self.ledger = AbandonLedger([*self.tally.trackers.values(), *learned_trackers(policy)])
        self._log = log.bind(campaign_id=campaign.id, campaign=campaign.name)

    def ended(self, update: Ended, now: float) -> InFlightCall | None:
        """Count, learn from and close the call ``update`` ends (see the module docstring).

        Returns:
            The call, or None if it is not in flight (not ours, or ended already).
        """
        out = update.outcome
        call = self._calls.pop(out.attempt_id)
        if call is None:
            return None
        row = map_outcome(out.outcome)
        self.tally.count(row.store.value, live=row.live, abandoned=row.abandoned, now=now)
        machine = row.pacing is CallOutcomeKind.MACHINE
        self.ledger.note(int(out.attempt_id), now, live=row.live, abandoned=row.abandoned, machine=machine)
        if out.outcome is AmiOutcome.CONNECTED:
            self.tally.connects += 1
            self._calls.await_disposition(out.attempt_id, call.lease.contact_id)
        answered_at = call.answered_at
        if answered_at is None and out.ring_s is not None and row.live:
            answered_at = call.launched_at + out.ring_s
        # The attempt's agent is the one who talked to the person: none unless the call reached
        # an agent. A busy, unanswered, machine or abandoned call had at most a reserved agent,
        # who spoke to nobody. The PBX's word (the interface that answered) before the reservation.
        agent_db = None
        if out.outcome is AmiOutcome.CONNECTED:
            talked = self._board.agent_for_interface(out.agent) if out.agent else None
            talked = talked or call.agent
            agent_db = self._directory.store_id(talked) if talked else None
        ring_s = out.ring_s if out.ring_s is not None else max(0.0, now - call.launched_at)
        result = AttemptResult(
            outcome=row.store,
            ended_at=utc_at(now),
            answered_at=utc_at(answered_at) if answered_at is not None else None,
            hangup_cause=out.cause,
            hangup_cause_text=out.cause_txt,
            asterisk_uniqueid=out.uniqueid,
            asterisk_linkedid=out.linkedid,
            agent_id=agent_db,
            ring_s=ring_s,
            # Only an abandon of ours owes the message; a person who hung up while waiting
            # (hangup_waiting) left before it could play: not applicable.
            info_message=out.info_message if out.outcome is AmiOutcome.ABANDONED else None,
            agent_reserved=call.agent is not None,
        )
        if row.pacing is not None:
            self._policy.observe_call(
                CallObservation(now, row.pacing, ring_s, reserved=call.agent is not None)
            )
        if out.talk_s is not None and out.outcome is AmiOutcome.CONNECTED:
            self._policy.observe_talk(now, out.talk_s)
        self._log.info(
            "attempt_ended",
            attempt_id=out.attempt_id,
            outcome=row.store.value,
            ami_outcome=out.outcome.value,
            # the conversation's length as the PBX measured it (asterisk-conf/README.md checks it)
            talk_s=round(out.talk_s, 3) if out.talk_s is not None else None,
        )
        connected = out.outcome is AmiOutcome.CONNECTED
        self.close(int(out.attempt_id), result, call.lease.contact_id, keep=connected)
        return call

    def close(self, attempt_id: int, result: AttemptResult, contact_id: int, *, keep: bool) -> None:
        """Submit the close of ``attempt_id``; unless ``keep``, settle its contact once written.

        Args:
            keep: the contact stays leased (an agent's disposition settles it).
        """

        def done(_: Any) -> None:
            self.ledger.written(attempt_id)
            if not keep:
                self._hopper.settle(contact_id)

        self._writer.submit(
            f"close_attempt {attempt_id}",
            lambda: self._store.close_attempt(attempt_id, result),
            done,
            contacts=[contact_id],
            batch=(self._closes, (attempt_id, result)),
        )
