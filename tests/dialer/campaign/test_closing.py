"""The outcome path alone: an ended call counted, learnt from and closed in the real store, in order."""

from __future__ import annotations

from ami.outcome import CallOutcome, Ended
from ami.outcome import Outcome as AmiOutcome
from dialer.clock import utc_at
from dialer.model import Outcome
from dialer.store.store import Store
from tests.dialer.campaign.parts_fixtures import campaign_of, parts, written


def _ended(
    attempt_id: str, outcome: AmiOutcome, *, agent: str | None = None, talk_s: float | None = None
) -> Ended:
    return Ended(
        CallOutcome(
            attempt_id=attempt_id,
            outcome=outcome,
            reason=4 if agent else 3,
            cause=16,
            cause_txt="Normal Clearing",
            agent=agent,
            ring_s=8.0,
            wait_s=0.4 if agent else None,
            talk_s=talk_s,
            uniqueid=f"dlr-{attempt_id};1",
            linkedid=f"dlr-{attempt_id};1",
            amd_status=None,
            amd_cause=None,
        )
    )


async def test_a_queue_call_an_agent_took_closes_answered_with_that_agent_and_keeps_its_contact(
    store: Store,
) -> None:
    camp = await campaign_of(store)
    cid = await store.add_contact(camp.name, ["+1005550601"])
    agent = await store.create_agent("cl1", "PJSIP/cl1")
    async with parts(store, camp) as p:
        closer = p.closer()
        await p.directory.resolve("cl1")
        p.board.login("cl1", "PJSIP/cl1", p.clock.now())
        [lease] = await p.lease()
        call = await p.dialled(lease)
        ended_at = p.clock.now() + 40.0
        assert call == closer.ended(
            _ended(call.attempt_id, AmiOutcome.CONNECTED, agent="PJSIP/cl1", talk_s=30.0), ended_at
        )
        await written(p)
        assert 0 == len(p.calls)
        assert {cid} == p.calls.awaiting_disposition()  # the agent's disposition is still to come
        assert lease == p.hopper.dialled(cid)  # so the contact stays leased
        tally = closer.tally
        assert (1, {"answered": 1}, 1, 1, 0) == (
            tally.attempts,
            dict(tally.by_outcome),
            tally.live,
            tally.connects,
            tally.abandons,
        )
        assert 1.0 == p.sample("dialer_attempts_total", outcome="answered")
        assert 1.0 == p.sample("dialer_live_answers_total")
        stats = p.policy.stats  # type: ignore[attr-defined]
        assert (1, 1) == (stats.outcomes.n_seen, stats.talk_time.n_seen)
    [row] = await store.contact_attempts(cid)
    assert (Outcome.ANSWERED, agent.id, 16) == (row.outcome, row.agent_id, row.hangup_cause)
    assert utc_at(ended_at) == row.ended_at


async def test_an_unanswered_call_closes_and_settles_its_contact_once_written(store: Store) -> None:
    camp = await campaign_of(store)
    cid = await store.add_contact(camp.name, ["+1005550602"])
    async with parts(store, camp) as p:
        closer = p.closer()
        [lease] = await p.lease()
        call = await p.dialled(lease)
        assert closer.ended(_ended(call.attempt_id, AmiOutcome.NO_ANSWER), p.clock.now() + 20.0) is not None
        assert lease == p.hopper.dialled(cid)  # not before the close is written
        await written(p)
        assert p.hopper.dialled(cid) is None
        assert set() == p.calls.awaiting_disposition()
        assert (1, 0, 0) == (closer.tally.attempts, closer.tally.live, closer.tally.connects)
        assert 1 == p.policy.stats.outcomes.n_seen  # type: ignore[attr-defined]
        assert 0 == p.policy.stats.talk_time.n_seen  # type: ignore[attr-defined]
    [row] = await store.contact_attempts(cid)
    assert Outcome.NO_ANSWER == row.outcome
    lease_owner = await store.pool.fetchval("SELECT lease_owner FROM contacts WHERE id = $1", cid)
    assert lease_owner is None


async def test_an_ending_of_a_call_not_in_flight_is_ignored(store: Store) -> None:
    camp = await campaign_of(store)
    async with parts(store, camp) as p:
        closer = p.closer()
        assert closer.ended(_ended("999999", AmiOutcome.CONNECTED, agent="PJSIP/x"), p.clock.now()) is None
        assert (0, 0) == (closer.tally.attempts, p.writer.pending)
        assert 0.0 == p.sample("dialer_attempts_total", outcome="answered")  # exported at 0, never counted


async def test_an_abandon_counts_in_every_abandon_rate_window(store: Store) -> None:
    camp = await campaign_of(store)
    await store.add_contact(camp.name, ["+1005550603"])
    async with parts(store, camp) as p:
        closer = p.closer()
        [lease] = await p.lease()
        call = await p.dialled(lease)
        now = p.clock.now() + 12.0
        closer.ended(_ended(call.attempt_id, AmiOutcome.ABANDONED), now)
        await written(p)
        assert (1, 1) == (closer.tally.live, closer.tally.abandons)
        assert {"1h": 1.0, "24h": 1.0, "30d": 1.0} == closer.tally.abandon_rates(now)
        assert 1.0 == p.sample("dialer_abandons_total")
