"""Contact transfer (seed 001): qualifier rules, limit, history clearing, one transaction."""

from __future__ import annotations

import pytest

from dialer.contacts import transfer
from dialer.errors import TransferRefused, ValidationError
from dialer.model import AttemptResult, Outcome, Qualifier, StatusSpec, SystemStatus
from dialer.store.store import Store
from tests.dialer.conftest import make_campaign, utc

NOON = utc(2026, 3, 10, 12)


async def _move(store: Store, **kw: object) -> transfer.TransferResult:
    return await store.move_contacts(**kw)  # type: ignore[arg-type]


async def test_move_with_limit_reports_and_moves(store: Store) -> None:
    a, b = await make_campaign(store), await make_campaign(store)
    for i in range(5):
        await store.add_contact(a, [f"+4852000000{i}"])
    result = await _move(
        store, from_campaign=a, status="Dzwonić", to_campaign=b, new_status="Dzwonić", limit=3
    )
    assert (5, 3, True) == (result.matched, result.moved, result.history_cleared)
    assert {"Dzwonić": 2} == (await store.campaign_summary(a)).by_status
    assert {"Dzwonić": 3} == (await store.campaign_summary(b)).by_status


async def test_success_qualifier_records_are_refused(store: Store) -> None:
    a, b = await make_campaign(store), await make_campaign(store)
    await store.create_status(
        StatusSpec("Sprzedane", SystemStatus.DO_NOT_CALL, Qualifier.SUCCESS), campaign=a
    )
    await store.add_contact(a, ["+48520000010"], status="Sprzedane")
    with pytest.raises(TransferRefused) as e:
        await _move(store, from_campaign=a, status="Sprzedane", to_campaign=b, new_status="Dzwonić")
    assert "status" == e.value.field
    assert {"Sprzedane": 1} == (await store.campaign_summary(a)).by_status


async def test_target_qualifier_none_is_refused(store: Store) -> None:
    a, b = await make_campaign(store), await make_campaign(store)
    await store.create_status(StatusSpec("Nowy", SystemStatus.CALL, Qualifier.NONE), campaign=b)
    await store.add_contact(a, ["+48520000011"])
    with pytest.raises(TransferRefused) as e:
        await _move(store, from_campaign=a, status="Dzwonić", to_campaign=b, new_status="Nowy")
    assert "new_status" == e.value.field


async def test_unknown_target_status_names_the_field(store: Store) -> None:
    a, b = await make_campaign(store), await make_campaign(store)
    with pytest.raises(ValidationError) as e:
        await _move(store, from_campaign=a, status="Dzwonić", to_campaign=b, new_status="Brak takiego")
    assert "new_status" == e.value.field


async def test_move_to_unused_clears_history_and_closing_keeps_it(store: Store) -> None:
    a, b = await make_campaign(store), await make_campaign(store)
    await store.create_status(StatusSpec("Archiwum", SystemStatus.DO_NOT_CALL, Qualifier.CLOSING), campaign=b)
    keep = await store.add_contact(a, ["+48520000012"])
    [lease] = await store.lease_contacts(a, at=NOON, limit=1, owner="e")
    att = await store.open_attempt(lease, at=NOON)
    await store.close_attempt(att, AttemptResult(Outcome.BUSY, ended_at=NOON))
    moved = await _move(store, from_campaign=a, status="Dzwonić", to_campaign=b, new_status="Archiwum")
    assert (1, False) == (moved.moved, moved.history_cleared)
    assert 1 == (await store.get_contact(keep)).attempts
    back = await _move(store, from_campaign=b, status="Archiwum", to_campaign=a, new_status="Dzwonić")
    assert (1, True) == (back.moved, back.history_cleared)
    contact = await store.get_contact(keep)
    assert (0, "Dzwonić") == (contact.attempts, contact.status)
    assert [] == await store.contact_attempts(keep)
    assert 1 == len(await store.contact_attempts(keep, include_cleared=True))


async def test_contacts_in_a_call_are_left_in_place(store: Store) -> None:
    a, b = await make_campaign(store), await make_campaign(store)
    await store.add_contact(a, ["+48520000013"])
    await store.add_contact(a, ["+48520000014"])
    await store.lease_contacts(a, at=utc(2030, 1, 1), limit=1, owner="e", ttl_s=600)
    result = await _move(
        store, from_campaign=a, status="Dzwonić", to_campaign=b, new_status="Dzwonić", at=utc(2030, 1, 1)
    )
    assert (2, 1, 1) == (result.matched, result.moved, result.skipped_leased)
