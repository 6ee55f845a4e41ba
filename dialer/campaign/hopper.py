"""The hopper: contacts one runner has leased and not yet finished with.

Theory of operation: the store leases contacts to the engine (``Store.lease_contacts``); the
hopper holds them in memory from the lease until the contact is settled, in three places:

* *waiting*: leased, not yet given to a call. Split in two lines: ``fresh`` contacts (fresh
  or retry: any call may take them, a predictive one included) and contacts that **need an
  agent** (a due callback, "my record", or "call progressive": dialled only with an agent
  reserved, DESIGN.md "Connect limit" and the UK repeat-call locks);
* *held*: taken for an agent (offered in preview, or reserved) and not yet dialled;
* *dialled*: an attempt is open, or answered and waiting for the agent's disposition.

A contact can come back from the store while this hopper still holds it held or dialled: the
write that ends its call or records its disposition releases the lease, and a refill running
meanwhile (a callback due now, a retry due at once) leases it again before that write's
*settle* reaches the hopper. The new lease waits *after* the old one (:meth:`Hopper.add`) and
goes in line when the old one settles; ignored, it would stay leased to this engine, unseen
and unrenewed, until its lease ran out (the personal callback of
``test_a_personal_callback_handed_to_the_campaign_after_the_grace_stays_handed_over`` waited
its whole lease).

All of them are renewed together (:meth:`Hopper.leased_ids`), because a lease that lapses
while a call is in progress would let another engine dial the same person. A *waiting*
contact, though, expires at the end of its current calling window (``dial_until``: local
hours, the number's window, the schedule; issue 11): :meth:`Hopper.expire_waiting` takes it
out of line so that it is released rather than dialled after 21:00. Pure: no I/O, no clock;
times are passed in.

The runner asks :meth:`Hopper.expire_waiting` on every turn of its loop: the hopper keeps the
earliest ``dial_until`` of its waiting contacts in a heap, so that a turn when nothing expires
looks at one value rather than every contact (issue 18 item 2); the set of fresh contact ids
makes :meth:`Hopper.add` one look-up a lease instead of a walk of the line.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import deque
from dataclasses import dataclass

from dialer.model import LeasedContact

# Lease reasons (dialer.store.eligibility.REASONS) that may only be dialled with an agent reserved.
AGENT_REASONS = frozenset({"callback", "call_progressive"})


def needs_agent(lease: LeasedContact) -> bool:
    """A due callback, "my record", "call progressive" or UK-locked contact: never dialled predictively."""
    return lease.reason in AGENT_REASONS or lease.agent_id is not None or lease.agent_required


def window_ended(lease: LeasedContact, at: dt.datetime) -> bool:
    """Whether ``lease``'s current calling window has ended at ``at`` (it may not be dialled)."""
    return lease.dial_until is not None and lease.dial_until <= at


@dataclass(frozen=True, slots=True)
class HopperEntry:
    lease: LeasedContact
    leased_at: float  # when this engine got it (the grace of a personal callback counts from here)


class Hopper:
    """Leased contacts of one campaign (see the module docstring)."""

    def __init__(self) -> None:
        self._fresh: deque[HopperEntry] = deque()
        self._fresh_ids: set[int] = set()  # the contact ids in ``_fresh``
        self._ends: list[tuple[dt.datetime, int]] = []  # (dial_until, contact) of waiting ones; may be stale
        self._agent: dict[int, HopperEntry] = {}
        self._held: dict[int, LeasedContact] = {}
        self._dialled: dict[int, LeasedContact] = {}
        self._after: dict[int, HopperEntry] = {}  # leased again while held or dialled (docstring)

    # -- filling -------------------------------------------------------------------------

    def add(self, leases: list[LeasedContact], at_s: float) -> int:
        """Put new leases in line; returns how many were.

        A contact already waiting is ignored. One still held or dialled waits until that lease
        settles (the store released it and a refill took it again: see the module docstring).
        """
        added = 0
        for lease in leases:
            cid = lease.contact_id
            if cid in self._held or cid in self._dialled:
                self._after[cid] = HopperEntry(lease, at_s)
                continue
            if cid in self._agent or cid in self._fresh_ids:
                continue
            self._line_up(HopperEntry(lease, at_s))
            added += 1
        return added

    def _line_up(self, entry: HopperEntry) -> None:
        cid = entry.lease.contact_id
        if needs_agent(entry.lease):
            self._agent[cid] = entry
        else:
            self._fresh.append(entry)
            self._fresh_ids.add(cid)
        if entry.lease.dial_until is not None:
            heapq.heappush(self._ends, (entry.lease.dial_until, cid))

    # -- taking --------------------------------------------------------------------------

    def take_fresh(self) -> LeasedContact | None:
        """The next fresh/retry contact, moved to *held*; None when the line is empty."""
        if not self._fresh:
            return None
        lease = self._fresh.popleft().lease
        self._fresh_ids.discard(lease.contact_id)
        self._held[lease.contact_id] = lease
        return lease

    def agent_entries(self) -> list[HopperEntry]:
        """Waiting contacts that need an agent, in lease order (callbacks first)."""
        return list(self._agent.values())

    def take(self, contact_id: int) -> LeasedContact | None:
        """Move a waiting contact (either line) to *held*; None if it is not waiting."""
        entry = self._agent.pop(contact_id, None)
        if entry is None and contact_id in self._fresh_ids:
            entry = self._drop_fresh(contact_id)
        if entry is None:
            return None
        self._held[contact_id] = entry.lease
        return entry.lease

    def held(self, contact_id: int) -> LeasedContact | None:
        return self._held.get(contact_id)

    def dialled(self, contact_id: int) -> LeasedContact | None:
        return self._dialled.get(contact_id)

    def mark_dialled(self, contact_id: int) -> None:
        """The attempt for a held contact is open: it stays leased until settled."""
        lease = self._held.pop(contact_id, None)
        if lease is not None:
            self._dialled[contact_id] = lease

    def adopt_dialled(self, lease: LeasedContact) -> None:
        """A contact with an attempt in flight that this hopper did not lease (reconciliation)."""
        self._dialled[lease.contact_id] = lease

    def settle(self, contact_id: int) -> LeasedContact | None:
        """The contact is done (the store released it): forget it wherever it is.

        A lease taken again meanwhile (:meth:`add`) goes in line now.
        """
        lease = self._dialled.pop(contact_id, None) or self._held.pop(contact_id, None)
        if lease is not None:
            later = self._after.pop(contact_id, None)
            if later is not None:
                self._line_up(later)
        else:
            entry = self._agent.pop(contact_id, None)
            if entry is not None:
                return entry.lease
            if contact_id in self._fresh_ids:
                return self._drop_fresh(contact_id).lease
        return lease

    def _drop_fresh(self, contact_id: int) -> HopperEntry:
        """Take a contact the fresh line holds out of it (``contact_id`` is in ``_fresh_ids``)."""
        self._fresh_ids.discard(contact_id)
        for i, e in enumerate(self._fresh):
            if e.lease.contact_id == contact_id:
                del self._fresh[i]
                return e
        raise AssertionError(f"contact {contact_id} in the fresh ids but not in the line")

    def unhold(self, contact_id: int) -> LeasedContact | None:
        """A held contact goes back undialled (released to the store by the caller).

        The caller's release ends whatever lease the contact has, a later one too.
        """
        self._after.pop(contact_id, None)
        return self._held.pop(contact_id, None)

    # -- leases --------------------------------------------------------------------------

    def leased_ids(self) -> list[int]:
        """Every contact this runner holds a lease on (to renew)."""
        ids = [e.lease.contact_id for e in self._fresh]
        ids += list(self._agent)
        ids += list(self._held)
        ids += list(self._dialled)
        return ids  # a lease waiting after its settle is renewed by its contact's id

    def drop_lost(self, still_held: set[int]) -> list[int]:
        """Forget *waiting* contacts whose lease was not renewed; returns their ids.

        Held and dialled contacts are kept: their attempt (or agent) still owns them.
        """
        lost = [e.lease.contact_id for e in self._fresh if e.lease.contact_id not in still_held]
        lost += [cid for cid in self._agent if cid not in still_held]
        for cid in lost:
            self.settle(cid)
        gone = [cid for cid in self._after if cid not in still_held]
        for cid in gone:
            del self._after[cid]
        return lost + gone

    def expire_waiting(self, at: dt.datetime) -> list[int]:
        """Take out of line the waiting contacts whose window ended by ``at``; returns their ids.

        Held and dialled contacts stay: the dial path checks a held one's ``dial_until`` itself,
        and a call already placed is not cut off.
        """
        if not self._ends or self._ends[0][0] > at:
            return []  # no waiting contact's window ends by ``at``
        ids = [e.lease.contact_id for e in self._fresh if window_ended(e.lease, at)]
        ids += [cid for cid, e in self._agent.items() if window_ended(e.lease, at)]
        for cid in ids:
            self.settle(cid)
        # the heap again from what waits (it also held contacts taken or settled since)
        self._ends = [
            (e.lease.dial_until, e.lease.contact_id)
            for e in (*self._fresh, *self._agent.values())
            if e.lease.dial_until is not None
        ]
        heapq.heapify(self._ends)
        return ids

    def release_waiting(self) -> list[int]:
        """Empty both waiting lines (schedule closed, draining); returns the ids to release.

        A lease waiting after its contact's settle stays: the contact is still held or dialled
        here, and releasing it would settle that call's entry too. It goes in line when the
        call settles, where the next release of the waiting lines finds it.
        """
        ids = [e.lease.contact_id for e in self._fresh] + list(self._agent)
        self._fresh.clear()
        self._fresh_ids.clear()
        self._agent.clear()
        self._ends.clear()
        return ids

    # -- sizes ---------------------------------------------------------------------------

    @property
    def depth(self) -> int:
        """Contacts waiting to be dialled (``dialer_hopper_depth``)."""
        return len(self._fresh) + len(self._agent)

    @property
    def fresh_depth(self) -> int:
        return len(self._fresh)

    @property
    def agent_depth(self) -> int:
        return len(self._agent)

    def count_reason(self, reason: str) -> int:
        return sum(1 for e in self._agent.values() if e.lease.reason == reason)

    @property
    def in_progress(self) -> int:
        """Contacts held for an agent or with an attempt open."""
        return len(self._held) + len(self._dialled)
