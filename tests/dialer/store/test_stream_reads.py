"""What the API's event hub reads for every open stream at once (issue 9): each agent's due
and handed-over callbacks, each agent's campaigns, and which tokens are still live."""

from __future__ import annotations

import datetime as dt

from dialer.model import CallbackKind
from dialer.store.store import Store
from dialer.store.users import Role
from tests.dialer.conftest import make_campaign


async def test_callback_notices_assignments_and_live_tokens_for_many_agents(store: Store) -> None:
    camp = await make_campaign(store)
    other = await make_campaign(store)
    ids = {}
    for name in ("s_ala", "s_bob", "s_cyd"):
        ids[name] = (await store.create_agent(name, f"Local/{name}@x")).id
        await store.assign_agent(camp, name)
        await store.create_user(name, Role.AGENT, "not-a-hash", agent=name)
    await store.assign_agent(other, "s_bob")
    now = dt.datetime.now(dt.UTC)
    opened = now - dt.timedelta(minutes=1)
    due_ala = await store.add_contact(camp, ["+48520000001"], name="Due")
    later_ala = await store.add_contact(camp, ["+48520000002"], name="Later")
    handed_bob = await store.add_contact(camp, ["+48520000003"], name="Handed")
    for cid, who, when in (
        (due_ala, "s_ala", now - dt.timedelta(seconds=5)),
        (later_ala, "s_ala", now + dt.timedelta(hours=1)),
        (handed_bob, "s_bob", now - dt.timedelta(seconds=5)),
    ):
        await store.schedule_callback(
            cid, due_at=when, kind=CallbackKind.PERSONAL, agent_id=ids[who], at=opened
        )
    assert await store.convert_to_campaign_callback(handed_bob)

    notices = await store.agents_callback_notices(["s_ala", "s_bob", "s_cyd", "nobody"], now, opened)
    assert ["Due"] == [cb.contact_name for cb in notices["s_ala"][0]]  # the later one is not due
    assert [] == notices["s_ala"][1]
    (changed_at, handed), *more = notices["s_bob"][1]
    assert ([], "Handed", CallbackKind.CAMPAIGN, []) == (
        notices["s_bob"][0],
        handed.contact_name,
        handed.kind,
        more,
    )
    assert changed_at > opened
    assert ([], []) == notices["s_cyd"] == notices["nobody"]
    assert {} == await store.agents_callback_notices([], now, opened)
    late = await store.agents_callback_notices(
        ["s_bob"], now, dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    )
    assert [] == late["s_bob"][1]  # handed over before that time

    assigned = await store.agents_campaigns(["s_ala", "s_bob", "nobody"])
    assert {"s_ala": [camp], "s_bob": sorted([camp, other]), "nobody": []} == assigned
    assert sorted([camp, other]) == await store.agent_campaigns("s_bob")

    await store.add_token("s_ala", b"live", now + dt.timedelta(hours=1))
    await store.add_token("s_bob", b"old", now - dt.timedelta(seconds=1))
    await store.add_token("s_cyd", b"revoked", now + dt.timedelta(hours=1))
    assert await store.revoke_token(b"revoked", now)
    live = await store.live_tokens([b"live", b"old", b"revoked", b"unknown"], now)
    assert [(b"live", "s_ala")] == [(h, user.name) for h, user in live.items()]
