"""The in-flight audit: the calls an AMI client follows, checked against the PBX's own list.

Theory of operation (issue 19 item 1). A call is followed through its events; a missed event
(the connection dropped while it ended, an event lost in a restart, a Local optimisation
half seen) can leave its :class:`~ami.outcome.AttemptMachine` waiting for a Hangup that will
never come: an attempt open for ever, its agent reserved, its lease renewed. So events are
not the only evidence. :class:`InFlightAudit` asks ``CoreShowChannels`` and hands each call
the rows of its channels (:func:`calls_on_pbx`: our ``;1``/``;2`` halves, every channel
whose ``Linkedid`` is our ChannelId -- the id survives a Local optimisation -- and the
channels the machine already knew), and :meth:`AttemptMachine.resync` applies what the list
proves: the call goes on (re-tracked, with its channels corrected) or it is gone (ended with
its decided outcome, ``connected`` if it had reached an agent, else ``lost``).

When. After every (re)login, every call followed (no exceptions: not only the ones in
flight when the connection dropped; the ones it had to skip are owed a check at the next
period); and every ``every_s`` while some call has had no event for ``quiet_after_s`` (a
ringing call is quiet for its ring timeout; asking costs one list per period, not one per
call). The client runs both (:class:`ami.client.AmiClient`); this module decides. Two
guards keep a fresh list from judging a call wrongly: a call that had news after the list
was asked for is skipped (its events are newer than the list), and so is one whose
Originate may not have made a channel yet (no event, younger than ``young_s``).

The same matching lets an engine adopt calls a previous engine placed
(:func:`attempts_on_pbx`): the client builds a machine for each and resyncs it from the list,
so the adopted call is followed to its real end like any other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from ami.framing import AmiMessage
from ami.outcome import AttemptMachine, Ended
from ami.routing import LOCAL_HALF_TWO_SUFFIX

log = structlog.get_logger(__name__)

# ami.client tags each originated call: ActionID and ChannelId are dlr-<attempt id>.
CHANNEL_TAG = "dlr-"


def attempts_on_pbx(
    channels: Iterable[AmiMessage], attempt_ids: Iterable[str]
) -> dict[str, list[AmiMessage]]:
    """The ``CoreShowChannel`` rows of each attempt's call (attempts with none are left out).

    A row belongs to attempt A when its Uniqueid is one of A's halves or its Linkedid is A's
    ChannelId (every channel of the call, the trunk and agent legs too, even after our Local
    pair was optimised away).
    """
    tags = {f"{CHANNEL_TAG}{a}": a for a in attempt_ids}
    found: dict[str, list[AmiMessage]] = {}
    for row in channels:
        uid = (row.get("Uniqueid") or "").removesuffix(LOCAL_HALF_TWO_SUFFIX)
        attempt = tags.get(uid) or tags.get(row.get("Linkedid") or "")
        if attempt is not None:
            found.setdefault(attempt, []).append(row)
    return found


def calls_on_pbx(
    channels: Iterable[AmiMessage], machines: Mapping[str, AttemptMachine]
) -> dict[str, list[AmiMessage]]:
    """The rows of each followed call: as :func:`attempts_on_pbx`, plus channels the machine knew."""
    by_uid = {uid: a for a, m in machines.items() for uid in m.linked_ids}
    rows = list(channels)
    found = attempts_on_pbx(rows, machines)
    matched = {id(r) for rs in found.values() for r in rs}
    for row in rows:
        attempt = by_uid.get(row.get("Uniqueid") or "")
        if attempt is not None and id(row) not in matched:
            found.setdefault(attempt, []).append(row)
    return {a: found.get(a, []) for a in machines}


@dataclass(frozen=True, slots=True)
class AuditResult:
    """What one audit did: calls checked, still up, ended by it, skipped (newer than the list)."""

    checked: int
    kept: int
    ended: int
    skipped: int
    skipped_ids: tuple[str, ...] = ()


class InFlightAudit:
    """Checks followed calls against ``CoreShowChannels`` (see the module docstring).

    Args:
        server: the server's name, for logs.
        machines: the client's followed calls, by attempt id (read at each audit).
        list_channels: sends ``CoreShowChannels``; raises the client's errors.
        deliver: hands a call's updates on (``Ended`` makes the client forget it).
        clock: the client's monotonic clock.
        quiet_after_s: a call with no event for this long is audited by :meth:`quiet`.
        young_s: a call with no event yet, younger than this, may have no channel yet.
    """

    def __init__(
        self,
        server: str,
        *,
        machines: Callable[[], Mapping[str, AttemptMachine]],
        list_channels: Callable[[], Awaitable[list[AmiMessage]]],
        deliver: Callable[[str, list[Any]], None],
        clock: Callable[[], float],
        quiet_after_s: float = 30.0,
        young_s: float = 5.0,
    ) -> None:
        self._server = server
        self._machines = machines
        self._list = list_channels
        self._deliver = deliver
        self._clock = clock
        self.quiet_after_s = quiet_after_s
        self._young_s = young_s
        self.audits = 0
        self.ended = 0

    def quiet(self, now: float) -> list[str]:
        """The followed calls that have had no event for ``quiet_after_s``."""
        return [a for a, m in self._machines().items() if now - m.last_event_at_s >= self.quiet_after_s]

    async def check(self, attempt_ids: Collection[str] | None, *, reason: str) -> AuditResult:
        """Audit ``attempt_ids`` (None: every followed call) against one fresh channel list.

        Raises:
            whatever ``list_channels`` raises (the calls stay followed, unjudged).
        """
        asked_at = self._clock()
        channels = await self._list()
        machines = dict(self._machines())
        wanted = machines if attempt_ids is None else {a: machines[a] for a in attempt_ids if a in machines}
        rows = calls_on_pbx(channels, wanted)
        kept = ended = 0
        skipped: list[str] = []
        now = self._clock()
        for attempt_id, machine in wanted.items():
            if machine.done:
                continue
            fresh = machine.last_event_at_s > asked_at
            unborn = (
                machine.last_event_at_s <= machine.started_at_s
                and asked_at - machine.started_at_s < self._young_s
            )
            if fresh or (unborn and not rows[attempt_id]):
                skipped.append(attempt_id)
                continue
            updates = machine.resync(rows[attempt_id], now)
            if any(isinstance(u, Ended) for u in updates):
                ended += 1
                log.warning(
                    "inflight_audit_ended",
                    server=self._server,
                    attempt_id=attempt_id,
                    reason=reason,
                    outcome=str(machine.outcome.outcome) if machine.outcome else None,
                )
            else:
                kept += 1
            self._deliver(attempt_id, updates)
        self.audits += 1
        self.ended += ended
        result = AuditResult(
            checked=len(wanted), kept=kept, ended=ended, skipped=len(skipped), skipped_ids=tuple(skipped)
        )
        if wanted:
            log.info(
                "inflight_audited",
                server=self._server,
                reason=reason,
                checked=result.checked,
                kept=kept,
                ended=ended,
                skipped=len(skipped),
            )
        return result
