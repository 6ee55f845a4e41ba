"""Contacts and attempts read back, edited, exported, and the report: the store functions both
the CLI and the HTTP API call (issue 9 item 5, issue 16 item 1)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from dialer.errors import NotFound, ValidationError
from dialer.model import AttemptResult, Outcome
from dialer.store.attempt_log import AttemptQuery, parse_outcome
from dialer.store.contact_search import ContactQuery
from dialer.store.csv_out import csv_text
from dialer.store.store import Store
from tests.dialer.conftest import make_campaign, utc

NOON = utc(2026, 3, 10, 12)


async def _csv(store_rows) -> list[list[str]]:  # type: ignore[no-untyped-def]
    text = "".join([piece async for piece in csv_text(store_rows)])
    assert text.endswith("\r\n")
    return list(csv.reader(io.StringIO(text)))


async def _call(store: Store, camp: str, at: dt.datetime, outcome: Outcome, **result: object) -> int:
    [lease] = await store.lease_contacts(camp, at=at, limit=1, owner="e1")
    attempt = await store.open_attempt(lease, at=at)
    await store.close_attempt(
        attempt, AttemptResult(outcome, ended_at=at + dt.timedelta(seconds=30), **result)
    )  # type: ignore[arg-type]
    return attempt


async def test_search_filters_page_by_id_and_name_what_is_unknown(store: Store) -> None:
    camp = await make_campaign(store)
    other = await make_campaign(store)
    ids = [
        await store.add_contact(camp, [f"+4851000010{i}"], name=name, fields={"city": city})
        for i, (name, city) in enumerate(
            [("Anna Nowak", "Kraków"), ("Jan Kowalski", "Gdańsk"), ("Anna Zając", "Łódź")]
        )
    ]
    await store.add_contact(other, ["+48510000109"], name="Anna Other")
    page, more = await store.search_contacts(ContactQuery(campaign=camp), limit=2)
    assert ([ids[0], ids[1]], ids[1]) == ([c.id for c in page], more)
    page, more = await store.search_contacts(ContactQuery(campaign=camp), after=ids[1], limit=2)
    assert ([ids[2]], None) == ([c.id for c in page], more)
    found, _ = await store.search_contacts(ContactQuery(campaign=camp, name="anna"))
    assert [ids[0], ids[2]] == [c.id for c in found]
    found, _ = await store.search_contacts(ContactQuery(number="+48 510 000 101"))
    assert [(ids[1], ("+48510000101",), {"city": "Gdańsk"})] == [(c.id, c.phones, c.fields) for c in found]
    found, _ = await store.search_contacts(ContactQuery(name="100%_"))  # wildcards are literal
    assert [] == found
    found, _ = await store.search_contacts(ContactQuery(campaign=camp, status="Dzwonić"))
    assert 3 == len(found)
    with pytest.raises(NotFound):
        await store.search_contacts(ContactQuery(campaign="NOPE"))
    for query, field in [
        (ContactQuery(campaign=camp, status="Nope"), "status"),
        (ContactQuery(number="12"), "number"),
        (ContactQuery(number="12ab34"), "number"),
        (ContactQuery(name="  "), "name"),
    ]:
        with pytest.raises(ValidationError) as e:
            await store.search_contacts(query)
        assert field == e.value.field
    for after, limit, field in [(-1, 10, "after"), (0, 0, "limit"), (0, 1001, "limit")]:
        with pytest.raises(ValidationError) as e:
            await store.search_contacts(ContactQuery(), after=after, limit=limit)
        assert field == e.value.field


async def test_detail_edit_and_export(store: Store) -> None:
    camp = await make_campaign(store, max_attempts_per_day=10)
    cid = await store.add_contact(
        camp, ["+48510000201", "+48510000202"], name="Ewa", fields={"city": "Opole", "note": "x"}
    )
    await _call(store, camp, NOON, Outcome.BUSY)
    detail = await store.contact_detail(cid)
    assert (camp, ["busy"], ["+48510000201"]) == (
        detail.campaign,
        [a.outcome for a in detail.attempts],
        [a.number for a in detail.attempts],
    )
    assert ("+48510000201", "+48510000202") == tuple(p.e164 for p in detail.contact.phones)
    edited = await store.update_contact(
        cid, name="Ewa K.", timezone="Europe/Warsaw", fields={"note": None, "vip": "yes"}, priority=5
    )
    c = edited.contact
    assert ("Ewa K.", "Europe/Warsaw", {"city": "Opole", "vip": "yes"}, 5) == (
        c.name,
        c.timezone,
        c.fields,
        c.priority,
    )
    cleared = await store.update_contact(cid, clear_timezone=True)
    assert (None, "Ewa K.") == (cleared.contact.timezone, cleared.contact.name)  # the rest untouched
    # the agent's screen sends every field it shows: they replace the fields whole
    shown = await store.update_contact(cid, fields={"vip": "no", "age": 41}, replace_fields=True)
    assert {"vip": "no", "age": 41} == shown.contact.fields
    await store.update_contact(cid, fields={"city": "Opole", "vip": "yes"}, replace_fields=True)
    for kwargs, field in [
        ({"timezone": "Mars/Base"}, "timezone"),
        ({"name": "x" * 201}, "name"),
        ({"fields": {"": "v"}}, "fields"),
        ({"fields": {"city": ["a", "list"]}}, "fields.city"),
        ({"name": "   "}, "name"),
        ({"priority": 10**7}, "priority"),
        ({"timezone": "UTC", "clear_timezone": True}, "timezone"),
    ]:
        with pytest.raises(ValidationError) as e:
            await store.update_contact(cid, **kwargs)  # type: ignore[arg-type]
        assert field == e.value.field
    with pytest.raises(NotFound):
        await store.update_contact(10**12, name="x")
    with pytest.raises(NotFound):
        await store.contact_detail(10**12)

    await store.add_contact(camp, ["+48510000203"], name="Olek", fields={"phone9": "kept out", "age": "40"})
    rows = await _csv(await store.export_contacts(ContactQuery(campaign=camp)))
    header, *body = rows
    assert ["id", "campaign", "name", "status", "timezone", "phone", "phone2"] == header[:7]
    assert ["attempts", "last_outcome", "last_attempt_at", "age", "city", "vip"] == header[7:]
    assert [str(cid), camp, "Ewa K.", "Dzwonić", "", "+48510000201", "+48510000202", "1", "busy"] == body[0][
        :9
    ]
    assert ["", "Opole", "yes"] == body[0][10:]
    assert ["Olek", "+48510000203", "", "0", "", "", "40", "", ""] == [body[1][2], *body[1][5:]]
    with pytest.raises(NotFound):
        await store.export_contacts(ContactQuery(campaign="NOPE"))


async def test_attempts_filter_page_export_and_the_report(store: Store) -> None:
    camp = await make_campaign(store, max_attempts_per_day=10, timezone="Europe/Warsaw")
    agent = await store.create_agent("rep_agent")
    other = await store.create_agent("rep_other")
    for i in range(4):
        await store.add_contact(camp, [f"+4851000030{i}"])
    day2 = NOON + dt.timedelta(days=1)
    a1 = await _call(
        store, camp, NOON, Outcome.ANSWERED, answered_at=NOON + dt.timedelta(seconds=5), agent_id=agent.id
    )
    a2 = await _call(store, camp, NOON + dt.timedelta(minutes=1), Outcome.ABANDONED, answered_at=NOON)
    a3 = await _call(
        store, camp, day2, Outcome.ANSWERED, answered_at=day2 + dt.timedelta(seconds=20), agent_id=other.id
    )
    a4 = await _call(store, camp, day2 + dt.timedelta(minutes=1), Outcome.NO_ANSWER)
    lines, more = await store.search_attempts(AttemptQuery(campaign=camp), limit=3)
    assert ([a1, a2, a3], a3) == ([a.id for a in lines], more)
    assert 25.0 == lines[0].talk_s and "rep_agent" == lines[0].agent
    lines, _ = await store.search_attempts(AttemptQuery(campaign=camp, outcome=Outcome.ANSWERED))
    assert [a1, a3] == [a.id for a in lines]
    lines, _ = await store.search_attempts(
        AttemptQuery(campaign=camp, since=day2, until=day2 + dt.timedelta(hours=1))
    )
    assert [a3, a4] == [a.id for a in lines]
    lines, _ = await store.search_attempts(
        AttemptQuery(campaign=camp, until=dt.datetime(2026, 3, 10, 13))
    )  # naive: UTC
    assert [a1, a2] == [a.id for a in lines]
    with pytest.raises(ValidationError) as e:
        await store.search_attempts(AttemptQuery(since=day2, until=NOON))
    assert "until" == e.value.field
    assert Outcome.NO_ANSWER is parse_outcome("No-Answer")
    with pytest.raises(ValidationError) as e:
        parse_outcome("maybe")
    assert "outcome" == e.value.field and "answered" in e.value.reason
    rows = await _csv(await store.export_attempts(AttemptQuery(campaign=camp, outcome=Outcome.ABANDONED)))
    assert 2 == len(rows) and [str(a2), camp] == rows[1][:2] and "abandoned" == rows[1][7]

    report = await store.report(camp, since=NOON - dt.timedelta(hours=1), until=day2 + dt.timedelta(hours=1))
    assert "Europe/Warsaw" == report.timezone
    assert [
        (dt.date(2026, 3, 10), "abandoned", 1),
        (dt.date(2026, 3, 10), "answered", 1),
        (dt.date(2026, 3, 11), "answered", 1),
        (dt.date(2026, 3, 11), "no_answer", 1),
    ] == [(o.day, o.outcome, o.attempts) for o in report.outcomes]
    assert [(2, 1, 0.5), (1, 0, 0.0)] == [(w.live, w.abandoned, w.rate) for w in report.abandons]
    assert utc(2026, 3, 9, 23) == report.abandons[0].start  # midnight in Warsaw
    assert [("rep_agent", 1, 25.0), ("rep_other", 1, 10.0)] == [
        (t.agent, t.calls, t.talk_s) for t in report.talk
    ]
    assert pytest.approx([25 / 35, 10 / 35]) == [t.share for t in report.talk]
    hourly = await store.report(camp, since=NOON - dt.timedelta(hours=1), until=day2, window="hour")
    assert [utc(2026, 3, 10, 12)] == [w.start for w in hourly.abandons]
    for kwargs, field in [
        ({"window": "month"}, "window"),
        ({"timezone": "Mars/Base"}, "timezone"),
        ({"since": day2, "until": NOON}, "until"),
        ({"since": NOON - dt.timedelta(days=500), "until": NOON}, "since"),
    ]:
        with pytest.raises(ValidationError) as e:
            await store.report(camp, **kwargs)  # type: ignore[arg-type]
        assert field == e.value.field
    with pytest.raises(NotFound):
        await store.report("NOPE")
