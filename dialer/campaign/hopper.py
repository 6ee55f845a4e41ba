"""The hopper: contacts one runner has leased and not yet finished with.

Theory of operation: the store leases contacts to the engine (``Store.lease_contacts``); the
hopper holds them in memory from the lease until the contact is settled, in three places:

* *waiting*: leased, not yet given to a call. Split in two lines: ``fresh`` contacts (fresh
  or retry: any call may take them, a predictive one included) and contacts that **need an
  agent** (a due callback, "my record", or "call progressive": dialled only with an agent
  reserved, DESIGN.md "Connect limit" and the UK repeat-call locks);
* *held*: taken for an agent (offered in preview, or reserved) and not yet dialled;
* *dialled*: an attempt is open, or answered and waiting for the agent's disposition.

All three are renewed together (:meth:`Hopper.leased_ids`), because a lease that lapses
while a call is in progress would let another engine dial the same person. A *waiting*
contact, though, expires at the end of its current calling window (``dial_until``: local
hours, the number's window, the schedule; issue 11): :meth:`Hopper.expire_waiting` takes it
out of line so that it is released rather than dialled after 21:00. Pure: no I/O, no clock;
times are passed in.
"""

from __future__ import annotations

import datetime as dt
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
        self._agent: dict[int, HopperEntry] = {}
        self._held: dict[int, LeasedContact] = {}
        self._dialled: dict[int, LeasedContact] = {}

    # -- filling -------------------------------------------------------------------------

    def add(self, leases: list[LeasedContact], at_s: float) -> int:
        """Put new leases in line; a contact already here is ignored. Returns how many were added."""
        added = 0
        for lease in leases:
            cid = lease.contact_id
            if cid in self._held or cid in self._dialled or cid in self._agent:
                continue
            if any(e.lease.contact_id == cid for e in self._fresh):
                continue
            entry = HopperEntry(lease, at_s)
            if needs_agent(lease):
                self._agent[cid] = entry
            else:
                self._fresh.append(entry)
            added += 1
        return added

    # -- taking --------------------------------------------------------------------------

    def take_fresh(self) -> LeasedContact | None:
        """The next fresh/retry contact, moved to *held*; None when the line is empty."""
        if not self._fresh:
            return None
        lease = self._fresh.popleft().lease
        self._held[lease.contact_id] = lease
        return lease

    def agent_entries(self) -> list[HopperEntry]:
        """Waiting contacts that need an agent, in lease order (callbacks first)."""
        return list(self._agent.values())

    def take(self, contact_id: int) -> LeasedContact | None:
        """Move a waiting contact (either line) to *held*; None if it is not waiting."""
        entry = self._agent.pop(contact_id, None)
        if entry is None:
            for i, e in enumerate(self._fresh):
                if e.lease.contact_id == contact_id:
                    entry = e
                    del self._fresh[i]
                    break
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
        """The contact is done (the store released it): forget it wherever it is."""
        lease = self._dialled.pop(contact_id, None) or self._held.pop(contact_id, None)
        if lease is None:
            entry = self._agent.pop(contact_id, None)
            if entry is not None:
                return entry.lease
            for i, e in enumerate(self._fresh):
                if e.lease.contact_id == contact_id:
                    del self._fresh[i]
                    return e.lease
        return lease

    def unhold(self, contact_id: int) -> LeasedContact | None:
        """A held contact goes back undialled (released to the store by the caller)."""
        return self._held.pop(contact_id, None)

    # -- leases --------------------------------------------------------------------------

    def leased_ids(self) -> list[int]:
        """Every contact this runner holds a lease on (to renew)."""
        ids = [e.lease.contact_id for e in self._fresh]
        ids += list(self._agent)
        ids += list(self._held)
        ids += list(self._dialled)
        return ids

    def drop_lost(self, still_held: set[int]) -> list[int]:
        """Forget *waiting* contacts whose lease was not renewed; returns their ids.

        Held and dialled contacts are kept: their attempt (or agent) still owns them.
        """
        lost = [e.lease.contact_id for e in self._fresh if e.lease.contact_id not in still_held]
        lost += [cid for cid in self._agent if cid not in still_held]
        for cid in lost:
            self.settle(cid)
        return lost

    def expire_waiting(self, at: dt.datetime) -> list[int]:
        """Take out of line the waiting contacts whose window ended by ``at``; returns their ids.

        Held and dialled contacts stay: the dial path checks a held one's ``dial_until`` itself,
        and a call already placed is not cut off.
        """
        ids = [e.lease.contact_id for e in self._fresh if window_ended(e.lease, at)]
        ids += [cid for cid, e in self._agent.items() if window_ended(e.lease, at)]
        for cid in ids:
            self.settle(cid)
        return ids

    def release_waiting(self) -> list[int]:
        """Empty both waiting lines (schedule closed, draining); returns the ids to release."""
        ids = [e.lease.contact_id for e in self._fresh] + list(self._agent)
        self._fresh.clear()
        self._agent.clear()
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
