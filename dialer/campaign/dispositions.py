"""An agent's disposition written to the store: :class:`DispositionWriter`.

Theory of operation. A call that reached an agent closes as ``answered`` and keeps its
contact leased (:mod:`dialer.campaign.closing`); what happens to the contact next is the
agent's decision. When the board ends a wrap-up -- with the agent's
:class:`~dialer.campaign.settings.Disposition` or, after the disposition timeout, none --
:meth:`DispositionWriter.write` finds the contact (from the board, or from the attempt the
call table remembers), picks the status (the agent's, else ``RunnerSettings.default_disposition``
when code set one, else the campaign's default disposition; never the campaign's default
status for imports, which would dial a person who talked to an agent again as fresh) and
submits the store write to the outcome writer, behind the contact's close. Once written, the
hopper forgets the contact.

A wrap-up may end before the call's Ended is read: Asterisk reports the end of a queue call
twice (the queue's AgentComplete and the customer channel's hangup), in either order, and the
disposition timeout may pass, or the agent click, between them. Such a disposition is kept
with its call (:meth:`DispositionWriter.write` parks it) and written by
:meth:`DispositionWriter.call_ended` right after the call's close is submitted, so it lands
behind the close instead of being lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import structlog

from dialer.campaign.calls import CallTable
from dialer.campaign.directory import AgentDirectory
from dialer.campaign.hopper import Hopper
from dialer.campaign.settings import Disposition, RunnerSettings
from dialer.campaign.writer import OutcomeWriter
from dialer.clock import Clock, utc_at
from dialer.errors import DialerError
from dialer.model import CallbackKind, Campaign
from dialer.ports import ContactStore

log = structlog.get_logger(__name__)

__all__ = ["DispositionWriter"]


class DispositionWriter:
    """Writes the end of an agent's wrap-up to the store (see the module docstring).

    Args:
        campaign: the campaign (its default disposition).
        settings: ``default_disposition``.
        store: where dispositions and callbacks are written (through ``writer``).
        writer: the runner's ordered outcome writer.
        hopper: forgets the contact once its disposition is written.
        calls: the calls in flight and the answers awaiting a disposition.
        directory: the agent's store id, recorded with the disposition.
        clock: the runner's clock (the disposition's time).
        release: gives a contact back when there is no status to write.
    """

    def __init__(
        self,
        campaign: Campaign,
        *,
        settings: RunnerSettings,
        store: ContactStore,
        writer: OutcomeWriter,
        hopper: Hopper,
        calls: CallTable,
        directory: AgentDirectory,
        clock: Clock,
        release: Callable[[Iterable[int], str], None],
    ) -> None:
        self._campaign = campaign
        self._settings = settings
        self._store = store
        self._writer = writer
        self._hopper = hopper
        self._calls = calls
        self._directory = directory
        self._clock = clock
        self._release = release
        self._log = log.bind(campaign_id=campaign.id, campaign=campaign.name)
        # attempt id -> (agent, disposition): wrap-ups that ended before their call did
        self._early: dict[str, tuple[str, object]] = {}

    @property
    def default_status(self) -> str | None:
        """The status the default disposition sets (the wrap-up timer names it), or None."""
        return self._settings.default_disposition or self._campaign.default_disposition

    def call_ended(self, attempt_id: str, contact_id: int) -> None:
        """``attempt_id``'s close was submitted: write the disposition that came before it, if any."""
        early = self._early.pop(attempt_id, None)
        if early is not None:
            agent, disposition = early
            self.write(agent, attempt_id, contact_id, disposition)  # no longer in flight: written

    def write(self, agent: str, attempt_id: str | None, contact: object, disposition: object) -> None:
        """Submit ``agent``'s disposition of a call (``None``: apply the default status).

        Args:
            agent: the board agent id.
            attempt_id: the call's attempt, if the board knows it.
            contact: the contact id, if the board knows it.
            disposition: a :class:`Disposition`, or anything else for the default status.
        """
        contact_id = contact if isinstance(contact, int) else None
        if attempt_id is not None:
            if attempt_id in self._calls:  # its Ended is not read yet: write behind its close
                self._early[attempt_id] = (agent, disposition)
                return
            answered = self._calls.disposition_done(attempt_id)
            if contact_id is None:
                contact_id = answered
        if contact_id is None:
            self._log.warning("disposition_without_contact", agent=agent, attempt_id=attempt_id)
            return
        agent_db = self._directory.store_id(agent)
        at = utc_at(self._clock.now())
        if isinstance(disposition, Disposition):
            status: str | None = disposition.status
        else:
            status = self.default_status
        cid = contact_id
        aid = int(attempt_id) if attempt_id is not None and attempt_id.isdigit() else None
        if status is None:
            self._log.warning("no_default_status", contact_id=cid)
            self._release([cid], "no default status")
            return
        d = disposition if isinstance(disposition, Disposition) else None
        callback = d.callback if d is not None else None

        async def write() -> None:
            # With a callback the lease ends only with the callback's booking: released
            # between the two, the contact would be a plain retry due now that a refill may
            # lease and dial predictively, without the agent the callback is for.
            await self._store.set_disposition(
                cid,
                status,
                at=at,
                agent_id=agent_db,
                not_before=d.callback_at if d is not None else None,
                attempt_id=aid,
                keep_lease=callback is not None,
            )
            if d is None or callback is None:
                return
            try:
                await self._store.schedule_callback(
                    cid,
                    due_at=d.callback_at or at,
                    kind=callback,
                    agent_id=agent_db if callback is CallbackKind.PERSONAL else None,
                    window_end_at=d.callback_until,
                    actor=f"agent:{agent}",
                    at=at,
                    new_phone=d.new_number,
                    new_phone_window=d.new_number_window,
                    new_phone_kind=d.new_number_kind,
                    phone_position=d.phone_position,
                    release_lease=True,
                )
            except DialerError:  # refused (a full slot, the agent's cap): the status stands
                self._release([cid], "callback refused")
                raise

        def settled(_: object) -> None:
            self._hopper.settle(cid)

        self._writer.submit(f"disposition {cid}", write, settled, contacts=[cid])
