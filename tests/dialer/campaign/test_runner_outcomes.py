"""The AMI -> store -> pacing outcome table (dialer.campaign.outcomes)."""

from __future__ import annotations

from ami.outcome import Outcome as AmiOutcome
from dialer.campaign.outcomes import OUTCOMES, map_outcome
from dialer.model import OUTCOME_TRIGGER, Trigger
from dialer.model import Outcome as StoreOutcome
from pacing.stats import LIVE_OUTCOMES, CallOutcomeKind


def test_every_ami_outcome_has_a_row() -> None:
    assert set(AmiOutcome) == set(OUTCOMES)


def test_rows_agree_with_the_pacer_on_what_is_a_live_answer() -> None:
    for row in OUTCOMES.values():
        assert row.live == (row.pacing in LIVE_OUTCOMES)
        assert row.abandoned == (row.pacing is CallOutcomeKind.ABANDONED)


def test_a_person_hanging_up_while_waiting_counts_as_abandoned() -> None:
    row = map_outcome(AmiOutcome.HANGUP_WAITING)
    assert (StoreOutcome.ABANDONED, True) == (row.store, row.abandoned)
    assert Trigger.ABANDONED == OUTCOME_TRIGGER[row.store]


def test_a_lost_call_is_its_own_outcome_and_retried_like_a_failure() -> None:
    row = map_outcome(AmiOutcome.LOST)
    assert (StoreOutcome.LOST, False) == (row.store, row.live)
    assert Trigger.CONGESTION == OUTCOME_TRIGGER[row.store]


def test_connected_waits_for_the_disposition() -> None:
    row = map_outcome(AmiOutcome.CONNECTED)
    assert (StoreOutcome.ANSWERED, None) == (row.store, OUTCOME_TRIGGER[row.store])


def test_a_call_cut_by_a_pbx_shutdown_is_no_abandon_and_teaches_the_pacer_nothing() -> None:
    row = map_outcome(AmiOutcome.PBX_SHUTDOWN)
    assert (StoreOutcome.PBX_SHUTDOWN, False, False, None) == (row.store, row.live, row.abandoned, row.pacing)
    assert Trigger.CONGESTION == OUTCOME_TRIGGER[row.store]
