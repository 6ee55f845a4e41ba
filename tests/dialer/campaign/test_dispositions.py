"""The disposition writer alone: an agent's decision (or the default) written after the call's close."""

from __future__ import annotations

import dataclasses
import datetime as dt

from ami.outcome import CallOutcome, Ended
from ami.outcome import Outcome as AmiOutcome
from benchmarks.callcentre import SCENARIOS
from benchmarks.engine.virtual_pbx import VirtualPbx
from dialer.campaign.calls import InFlightCall
from dialer.campaign.dispositions import DispositionWriter
from dialer.campaign.settings import Disposition
from dialer.model import CallbackKind, Campaign, DialingMode, Outcome, StatusSpec, SystemStatus
from dialer.store.store import Store
from tests.dialer.campaign.parts_fixtures import Parts, parts, written
from tests.dialer.campaign.runner_fixtures import FAST
from tests.dialer.conftest import make_campaign


async def _campaign(store: Store, number: str, *, default: str | None) -> tuple[Campaign, int]:
    """A campaign with one contact; ``default``: its default disposition (None: none at all)."""
    name = await make_campaign(store, mode=DialingMode.PREDICTIVE)
    await store.create_status(StatusSpec("Sukces", SystemStatus.DO_NOT_CALL), campaign=name)
    await store.create_status(StatusSpec("Mój", SystemStatus.MY_RECORD), campaign=name)
    cid = await store.add_contact(name, [number])
    if default is not None:
        await store.update_campaign(name, default_disposition=default)
    else:  # as a campaign whose "answered, no disposition" status was taken out of the dictionary
        await store.pool.execute("UPDATE campaigns SET default_disposition_id = NULL WHERE name = $1", name)
    return await store.get_campaign(name), cid


def _writer(p: Parts) -> DispositionWriter:
    return p.dispositions(VirtualPbx(p.clock, SCENARIOS["S1"]))


async def _answered(p: Parts, agent: str) -> InFlightCall:
    """A call put through to ``agent`` and ended: closed as answered, its contact kept."""
    [lease] = await p.lease()
    call = await p.dialled(lease, agent=agent)
    outcome = CallOutcome(
        call.attempt_id, AmiOutcome.CONNECTED, 4, 16, None, None, 8.0, 0.5, 60.0, None, None, None, None
    )
    p.closer().ended(Ended(outcome), p.clock.now())
    return call


async def _lease_owner(store: Store, contact_id: int) -> str | None:
    owner: str | None = await store.pool.fetchval(
        "SELECT lease_owner FROM contacts WHERE id = $1", contact_id
    )
    return owner


async def test_a_personal_callback_is_written_after_the_close_and_the_contact_let_go(store: Store) -> None:
    camp, cid = await _campaign(store, "+1005550801", default=None)
    agent = await store.create_agent("dw1", "PJSIP/dw1")
    due = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=2)
    async with parts(store, camp) as p:
        await p.directory.resolve("dw1")
        call = await _answered(p, "dw1")
        _writer(p).write(
            "dw1", call.attempt_id, cid, Disposition("Mój", callback_at=due, callback=CallbackKind.PERSONAL)
        )
        assert set() == p.calls.awaiting_disposition()
        await written(p)
        assert p.hopper.dialled(cid) is None
    contact = await store.get_contact(cid)
    assert ("Mój", agent.id, due) == (contact.status, contact.agent_id, contact.not_before)
    [callback] = await store.pool.fetch(
        "SELECT kind, agent_id, due_at FROM callbacks WHERE contact_id = $1", cid
    )
    assert ("personal", agent.id, due) == (callback["kind"], callback["agent_id"], callback["due_at"])
    assert [Outcome.ANSWERED] == [a.outcome for a in await store.contact_attempts(cid)]
    assert await _lease_owner(store, cid) is None


async def test_no_disposition_gives_the_campaign_default_to_the_contact_the_attempt_names(
    store: Store,
) -> None:
    camp, cid = await _campaign(store, "+1005550802", default="Sukces")
    async with parts(store, camp, settings=dataclasses.replace(FAST, default_disposition=None)) as p:
        call = await _answered(p, "dw2")
        _writer(p).write("dw2", call.attempt_id, None, None)  # the board no longer knew the contact
        await written(p)
    assert "Sukces" == (await store.get_contact(cid)).status


async def test_without_any_default_status_the_contact_is_released(store: Store) -> None:
    camp, cid = await _campaign(store, "+1005550803", default=None)
    assert camp.default_disposition is None
    before = (await store.get_contact(cid)).status
    async with parts(store, camp, settings=dataclasses.replace(FAST, default_disposition=None)) as p:
        call = await _answered(p, "dw3")
        _writer(p).write("dw3", call.attempt_id, cid, None)
        await written(p)
        assert p.hopper.dialled(cid) is None
    assert await _lease_owner(store, cid) is None
    assert before == (await store.get_contact(cid)).status  # nothing was written but the release


async def test_a_disposition_with_no_contact_to_tie_it_to_writes_nothing(store: Store) -> None:
    camp, _ = await _campaign(store, "+1005550805", default="Sukces")
    async with parts(store, camp) as p:
        _writer(p).write("dw5", "424242", None, Disposition("Sukces"))
        assert 0 == p.writer.pending


async def test_a_wrap_up_that_ends_before_its_call_is_written_behind_the_close(store: Store) -> None:
    # Asterisk reports a queue call's end twice (AgentComplete, then the customer's hangup) in
    # either order: an agent may set the disposition before the runner reads the call's Ended.
    camp, cid = await _campaign(store, "+1005550806", default="Sukces")
    await store.create_agent("dw6", "PJSIP/dw6")
    async with parts(store, camp) as p:
        await p.directory.resolve("dw6")
        writer = _writer(p)
        [lease] = await p.lease()
        call = await p.dialled(lease, agent="dw6")
        writer.write("dw6", call.attempt_id, None, Disposition("Mój"))  # the call is still in flight
        assert 0 == p.writer.pending  # kept, not written ahead of the close
        outcome = CallOutcome(
            call.attempt_id, AmiOutcome.CONNECTED, 4, 16, None, None, 8.0, 0.5, 60.0, None, None, None, None
        )
        p.closer().ended(Ended(outcome), p.clock.now())
        writer.call_ended(call.attempt_id, cid)
        assert set() == p.calls.awaiting_disposition()
        await written(p)
        assert p.hopper.dialled(cid) is None
        writer.call_ended(call.attempt_id, cid)  # a second Ended writes nothing again
        assert 0 == p.writer.pending
    assert "Mój" == (await store.get_contact(cid)).status
    assert [Outcome.ANSWERED] == [a.outcome for a in await store.contact_attempts(cid)]
    assert await _lease_owner(store, cid) is None
