"""The dial path alone: checks, the attempt row and the Originate, and every way a launch is undone.

Real PostgreSQL (a store that fails as it commits where the database goes away), the
in-memory virtual PBX, and the outcome path, agent effects and housekeeping over the same
parts, as the runner wires them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

from benchmarks.callcentre import SCENARIOS
from benchmarks.engine.virtual_pbx import VirtualPbx
from dialer.agents.state import AgentState, ReservationKind
from dialer.campaign.dialing import Dialer
from dialer.campaign.housekeeping import Housekeeping
from dialer.model import Compliance, LeasedContact, Outcome
from dialer.store.store import Store
from tests.dialer.campaign.parts_fixtures import ENGINE, CommitThenFail, Parts, campaign_of, parts, written
from tests.dialer.campaign.runner_fixtures import wait_for
from tests.dialer.conftest import utc


@dataclass
class _Rig:
    dialer: Dialer
    pbx: VirtualPbx
    keeper: Housekeeping
    halted: list[bool] = field(default_factory=lambda: [False])

    async def launched(self, lease: LeasedContact, agent: str | None = None) -> None:
        """Launch ``lease`` and wait until its task ended (the Originate sent or refused)."""
        self.dialer.launch(lease, agent)
        # Pacing sees a launch with a reserved agent as reserved, not as ringing for the queue.
        assert (1, int(agent is not None)) == (self.dialer.launching, self.dialer.launching_reserved)
        await wait_for(lambda: 0 == self.dialer.launching)
        assert 0 == self.dialer.launching_reserved


def _rig(p: Parts) -> _Rig:
    pbx = VirtualPbx(p.clock, SCENARIOS["S1"])
    keeper = p.housekeeping(pbx)
    closer = p.closer()
    halted = [False]
    effects = p.effects(pbx, lambda lease, agent: None)
    dialer = Dialer(
        p.campaign,
        store=p.store,
        pbx=pbx,
        clock=p.clock,
        settings=p.settings,
        engine_id=ENGINE,
        ring_timeout_s=20.0,
        metrics=p.metrics,
        hopper=p.hopper,
        board=p.board,
        calls=p.calls,
        writer=p.writer,
        close=closer.close,
        perform=effects.perform,
        halted=lambda: halted[0],
        on_store_failure=keeper.note_store_failure,
    )
    return _Rig(dialer, pbx, keeper, halted)


async def _lease_owner(store: Store, contact_id: int) -> str | None:
    owner: str | None = await store.pool.fetchval(
        "SELECT lease_owner FROM contacts WHERE id = $1", contact_id
    )
    return owner


async def test_a_queue_call_gets_its_attempt_row_before_the_originate(store: Store) -> None:
    camp = await campaign_of(store)
    cid = await store.add_contact(camp.name, ["+1005551001"])
    async with parts(store, camp) as p:
        rig = _rig(p)
        await p.lease()
        lease = p.hopper.take_fresh()
        assert lease is not None
        await rig.launched(lease)
        [attempt] = await store.contact_attempts(cid)
        assert attempt.ended_at is None
        [fate] = rig.pbx.fates
        assert (str(attempt.id), False) == (fate.attempt_id, fate.reserved)
        call = p.calls.get(fate.attempt_id)
        assert call is not None and (cid, None) == (call.lease.contact_id, call.agent)
        assert lease == p.hopper.dialled(cid)
        await rig.pbx.close()


async def test_a_reserved_call_is_attached_to_its_agent_and_names_them_in_the_originate(store: Store) -> None:
    camp = await campaign_of(store)
    cid = await store.add_contact(camp.name, ["+1005551002"])
    async with parts(store, camp) as p:
        rig = _rig(p)
        now = p.clock.now()
        p.board.login("di1", "PJSIP/di1", now)
        [lease] = await p.lease()
        p.hopper.take(cid)
        p.board.reserve("di1", cid, now, ReservationKind.PROGRESSIVE)
        await rig.launched(lease, "di1")
        [fate] = rig.pbx.fates
        assert fate.reserved
        assert "di1" == p.board.agent_for_attempt(fate.attempt_id)
        await rig.pbx.close()


async def test_a_number_put_on_the_do_not_call_list_after_the_lease_is_given_back_and_its_agent_freed(
    store: Store,
) -> None:
    camp = await campaign_of(store)
    cid = await store.add_contact(camp.name, ["+1005551003"])
    async with parts(store, camp) as p:
        rig = _rig(p)
        now = p.clock.now()
        p.board.login("di2", "PJSIP/di2", now)
        [lease] = await p.lease()
        await store.add_do_not_call(lease.e164, reason="asked on another campaign")
        p.hopper.take(cid)
        p.board.reserve("di2", cid, now, ReservationKind.PROGRESSIVE)
        await rig.launched(lease, "di2")
        await written(p)
        assert ([], 0, AgentState.READY) == (rig.pbx.fates, len(p.calls), p.board.state_of("di2"))
        assert p.hopper.held(cid) is None
    assert [] == await store.contact_attempts(cid)
    assert await _lease_owner(store, cid) is None


async def test_a_contact_leased_before_its_hours_end_is_not_dialled_after_them(store: Store) -> None:
    # issue 11: leased into the hopper at 20:59:30 local, launched at 21:00:04
    camp = await campaign_of(store, local_hours_start=dt.time(8), local_hours_end=dt.time(21))
    cid = await store.add_contact(camp.name, ["+48500005001"], timezone="Europe/Warsaw")
    async with parts(store, camp, start_at=utc(2026, 3, 10, 19, 59, 30)) as p:  # 20:59:30 in Warsaw (CET)
        rig = _rig(p)
        [lease] = await p.lease()
        assert utc(2026, 3, 10, 20, 0) == lease.dial_until  # the lease knows its window ends at 21:00
        assert lease == p.hopper.take_fresh()
        await p.clock.run_until(p.clock.now() + 34)
        await rig.launched(lease)
        await written(p)
        assert ([], 0) == (rig.pbx.fates, len(p.calls))
        assert 1.0 == p.sample("dialer_dial_refusals_total", reason="window_ended")
        assert [] == await p.lease()  # given back, and not leased again outside the hours
    assert [] == await store.contact_attempts(cid)
    assert await _lease_owner(store, cid) is None


async def test_the_recheck_still_refuses_after_the_hours_when_the_lease_has_no_window_end(
    store: Store,
) -> None:
    camp = await campaign_of(store, local_hours_start=dt.time(8), local_hours_end=dt.time(21))
    cid = await store.add_contact(camp.name, ["+48500005002"], timezone="Europe/Warsaw")
    async with parts(store, camp, start_at=utc(2026, 3, 10, 19, 59, 30)) as p:
        rig = _rig(p)
        [lease] = await p.lease()
        assert lease == p.hopper.take_fresh()
        await p.clock.run_until(p.clock.now() + 34)
        await rig.launched(dataclasses.replace(lease, dial_until=None))
        await written(p)
        assert ([], 0) == (rig.pbx.fates, len(p.calls))
        assert 1.0 == p.sample("dialer_dial_refusals_total", reason="outside_local_hours")
    assert [] == await store.contact_attempts(cid)


async def test_a_uk_locked_contact_is_kept_for_a_call_with_an_agent_and_refused_without_one(
    store: Store,
) -> None:
    camp = await campaign_of(store, compliance=Compliance.UK)
    cid = await store.add_contact(camp.name, ["+447700905001"])
    async with parts(store, camp) as p:
        await store.pool.execute(
            "UPDATE contacts SET last_abandon_at = $2 WHERE id = $1",
            cid,
            p.clock.utcnow() - dt.timedelta(hours=1),
        )
        rig = _rig(p)
        # a caller with an agent reserved may lease it; it comes marked for a call with an agent,
        # so the hopper keeps it off the line that predictive calls take alone
        [lease] = await p.lease(agent_reserved=True)
        assert (True, None) == (lease.agent_required, p.hopper.take_fresh())
        assert lease == p.hopper.take(cid)
        await rig.launched(lease)  # launched without an agent all the same: refused at dial time
        await written(p)
        assert ([], 0) == (rig.pbx.fates, len(p.calls))
        assert 1.0 == p.sample("dialer_dial_refusals_total", reason="uk_lock")
        assert await _lease_owner(store, cid) is None
        assert [] == await p.lease()  # a call without an agent does not lease it again
        [again] = await p.lease(agent_reserved=True)
        assert (cid, True, None) == (again.contact_id, again.agent_required, p.hopper.take_fresh())
    assert [] == await store.contact_attempts(cid)


async def test_a_launch_after_launching_stopped_dials_nothing(store: Store) -> None:
    camp = await campaign_of(store)
    cid = await store.add_contact(camp.name, ["+1005551004"])
    async with parts(store, camp) as p:
        rig = _rig(p)
        [lease] = await p.lease()
        p.hopper.take(cid)
        rig.halted[0] = True  # a drain began between the decision and the task
        await rig.launched(lease)
        await written(p)
        assert [] == rig.pbx.fates
    assert [] == await store.contact_attempts(cid)
    assert await _lease_owner(store, cid) is None


async def test_an_originate_the_pbx_refuses_closes_the_attempt_cancelled_and_frees_the_agent(
    store: Store,
) -> None:
    camp = await campaign_of(store)
    cid = await store.add_contact(camp.name, ["+1005551005"])
    async with parts(store, camp) as p:
        rig = _rig(p)
        now = p.clock.now()
        p.board.login("di3", "PJSIP/di3", now)
        [lease] = await p.lease()
        p.hopper.take(cid)
        p.board.reserve("di3", cid, now, ReservationKind.PROGRESSIVE)
        rig.pbx.line_limit = 0  # connected, but it refuses the call
        await rig.launched(lease, "di3")
        await written(p)
        assert (0, AgentState.READY) == (len(p.calls), p.board.state_of("di3"))
        assert p.hopper.dialled(cid) is None
        assert 1.0 == p.sample("dialer_originate_errors_total", server="pbx")
    [attempt] = await store.contact_attempts(cid)
    assert Outcome.CANCELLED == attempt.outcome
    text = await store.pool.fetchval("SELECT hangup_cause_text FROM attempts WHERE id = $1", attempt.id)
    assert text.startswith("not placed: virtual PBX at its line limit")
    assert (await _lease_owner(store, cid), 0) == (None, (await store.get_contact(cid)).attempts)


async def test_a_pbx_gone_between_the_decision_and_the_attempt_row_gets_no_row(store: Store) -> None:
    # Issue 17 item 4: a PBX that began shutting down (or went away) is not dialled into.
    camp = await campaign_of(store)
    cid = await store.add_contact(camp.name, ["+1005551015"])
    async with parts(store, camp) as p:
        rig = _rig(p)
        now = p.clock.now()
        p.board.login("di5", "PJSIP/di5", now)
        [lease] = await p.lease()
        p.hopper.take(cid)
        p.board.reserve("di5", cid, now, ReservationKind.PROGRESSIVE)
        rig.pbx.set_connected(False)
        await rig.launched(lease, "di5")
        await written(p)
        assert (0, AgentState.READY) == (len(p.calls), p.board.state_of("di5"))
    assert [] == await store.contact_attempts(cid)
    assert await _lease_owner(store, cid) is None


async def test_an_attempt_row_committed_as_the_database_failed_is_cancelled_and_launching_pauses(
    db_dsn: str, store: Store
) -> None:
    camp = await campaign_of(store)
    cid = await store.add_contact(camp.name, ["+1005551006"])
    failing = await CommitThenFail.open(db_dsn, min_size=1, max_size=2, migrate_now=False)
    assert isinstance(failing, CommitThenFail)
    failing.failed = []
    try:
        async with parts(failing, camp) as p:
            rig = _rig(p)
            [lease] = await p.lease()
            p.hopper.take(cid)
            await rig.launched(lease)
            assert (1, [], 0) == (rig.keeper.store_failures, rig.pbx.fates, len(p.calls))
            await written(p)
    finally:
        await failing.close()
    [doubtful] = failing.failed
    assert [(doubtful, Outcome.CANCELLED)] == [(a.id, a.outcome) for a in await store.contact_attempts(cid)]
    assert await _lease_owner(store, cid) is None
