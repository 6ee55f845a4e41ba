"""``worst_hour_cap``'s hard bound (issue 12 item 3): every rolling hour under the cap, whatever
the calls in flight turn out to be, given the floor on future answers."""

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pacing import (
    CallObservation,
    CallOutcomeKind,
    CampaignSnapshot,
    DialMode,
    InvalidParameter,
    PredictiveSettings,
)
from pacing.abandon import AbandonTracker
from pacing.exposure import exposed_launch_cap, exposure_room, ready_to_keep
from pacing.progressive import progressive_decision
from tests.pacing.test_pacing_iii import roomy

HOUR = 3600


def run_gate(seed: int, cap: float, floor_per_s: float, p_abandon: float, p_answer: float,
             step_s: int, eager: bool, hours: float, slack: int = 0) -> float:
    """A campaign whose only rule is the gate; returns the worst rolling hour, second by second.

    Non-abandoned answers arrive at exactly the floor (``floor_per_s``: one at ``ceil(k / rate)``,
    so any ``x`` seconds hold at least ``floor(rate * x)``); every launched call lands within a
    minute, abandoned with ``p_abandon`` when answered. ``slack`` lets the gate overspend its room.
    """
    rng = random.Random(seed)
    end = int(hours * HOUR)
    live, abandoned = np.zeros(end + 1), np.zeros(end + 1)
    floor_at = np.ceil(np.arange(1, int(floor_per_s * end) + 1) / floor_per_s).astype(int)
    np.add.at(live, floor_at[floor_at <= end], 1)
    tracker = AbandonTracker(HOUR, buckets=60)
    landings: dict[int, list[bool]] = {}        # second -> abandoned? for each answered call landing
    in_flight: dict[int, int] = {}              # second -> calls landing then (answered or not)
    exposed = 0
    for t in range(1, end + 1):
        for _ in range(int(live[t])):
            tracker.record_answer(float(t), abandoned=False)
        for was_abandoned in landings.pop(t, ()):
            live[t] += 1
            abandoned[t] += was_abandoned
            tracker.record_answer(float(t), abandoned=was_abandoned)
        exposed -= in_flight.pop(t, 0)
        if t % step_s:
            continue
        room = exposure_room(tracker.suffixes(float(t)), HOUR, cap, floor_per_s) + slack
        allowed = exposed_launch_cap(room, exposed, 0, 0)
        n = allowed if eager else rng.randint(0, allowed)
        for _ in range(n):
            land = t + rng.randint(1, 60)
            in_flight[land] = in_flight.get(land, 0) + 1
            if rng.random() < p_answer:
                landings.setdefault(land, []).append(rng.random() < p_abandon)
        exposed += n
    live_c, ab_c = np.cumsum(live), np.cumsum(abandoned)
    width = min(HOUR, end)
    live_w = live_c[width:] - live_c[:-width]
    ab_w = ab_c[width:] - ab_c[:-width]
    rates = np.divide(ab_w, live_w, out=np.zeros_like(ab_w), where=live_w > 0)
    return float(rates.max())


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), cap=st.sampled_from([0.01, 0.03, 0.1]),
       floor_per_s=st.floats(0.01, 0.3), p_abandon=st.sampled_from([0.0, 0.3, 1.0]),
       p_answer=st.sampled_from([0.3, 1.0]), step_s=st.integers(1, 20), eager=st.booleans(),
       hours=st.floats(1.1, 2.0))
def test_no_outcome_sequence_puts_a_rolling_hour_over_the_cap(seed, cap, floor_per_s, p_abandon, p_answer,
                                                              step_s, eager, hours):
    assert run_gate(seed, cap, floor_per_s, p_abandon, p_answer, step_s, eager, hours) <= cap + 1e-12


def test_one_call_more_than_the_room_can_put_an_hour_over():
    """The property above is not vacuous: a gate that overspends by one call breaks it."""
    assert run_gate(1, 0.03, 0.05, 1.0, 1.0, 1, True, 1.5) <= 0.03
    assert run_gate(1, 0.03, 0.05, 1.0, 1.0, 1, True, 1.5, slack=1) > 0.03


def test_the_room_counts_each_abandon_as_an_answer_too():
    tracker = AbandonTracker(HOUR, buckets=60)
    for i in range(100):
        tracker.record_answer(100.0 + i, abandoned=False)
    # 100 answers and plenty to come: the binding window is the one holding all of them, where
    # 3 abandons make 3/103 (under 3%) and 4 make 4/104 (over).
    assert 3 == exposure_room(tracker.suffixes(300.0), HOUR, 0.03, 1.0)
    # A modest floor binds instead: the hour starting after the history holds 0.02 * 3540 = 70
    # answers, room for 2 abandons.
    assert 2 == exposure_room(tracker.suffixes(300.0), HOUR, 0.03, 0.02)
    tracker.record_answer(250.0, abandoned=True)
    assert 2 == exposure_room(tracker.suffixes(300.0), HOUR, 0.03, 1.0)
    # With no answers to come, the hour starting after the history would hold the abandons
    # alone: nothing may be exposed. Nothing seen: nothing either; a zero cap allows none ever.
    assert 0 == exposure_room(tracker.suffixes(300.0), HOUR, 0.03, 0.0)
    assert 0 == exposure_room([], HOUR, 0.03, 1.0)
    assert 0 == exposure_room(tracker.suffixes(300.0), HOUR, 0.0, 1.0)


def test_ready_agents_are_kept_for_calls_in_flight_past_the_room():
    assert 0 == ready_to_keep(room=3, ringing=2, waiting=1, ready=5)
    assert 2 == ready_to_keep(room=1, ringing=2, waiting=1, ready=5)
    assert 1 == ready_to_keep(room=0, ringing=4, waiting=0, ready=1)
    assert 4 == exposed_launch_cap(room=2, ringing=1, waiting=0, free=3)
    assert 0 == exposed_launch_cap(room=0, ringing=3, waiting=0, free=1)
    snap = CampaignSnapshot(now_s=1.0, ready_agents=3, ringing_ages_s=(2.0, 3.0), lines_free=10)
    assert (3, 1) == (progressive_decision(snap).launch, progressive_decision(snap, keep_ready=2).launch)


def hour_of(policy, every: int) -> None:
    """200 answers spread over the last hour, one in ``every`` abandoned."""
    for i in range(200):
        kind = CallOutcomeKind.ABANDONED if i % every == 0 else CallOutcomeKind.CONNECTED
        policy.observe_call(CallObservation(4000.0 + 17 * i, kind, 8.0))


def exposed_after(snap: CampaignSnapshot, decision) -> int:
    """Calls that may be abandoned once the decision is carried out (ready agents cover the first)."""
    free = snap.ready_agents - decision.reserved
    calls = len(snap.ringing_ages_s) + snap.customers_waiting + decision.launch - decision.reserved
    return max(calls - free, 0)


def test_the_supervised_policy_never_exposes_more_calls_than_the_hour_can_take():
    """With ``worst_hour_cap`` the policy stays within the room; without it, it does not care."""
    snap = CampaignSnapshot(now_s=7590.0, ready_agents=2, talking_elapsed_s=(100.0,) * 16,
                            ringing_ages_s=(1.0, 2.0, 3.0), lines_free=100, progressive_contacts=2)
    supervised, plain = roomy(worst_hour_cap=True), roomy()
    for policy in (supervised, plain):
        hour_of(policy, 50)                         # 4 abandons in 200 answers
    room = supervised.hour_exposure(snap.now_s)
    capped, free = supervised.decide(snap), plain.decide(snap)
    assert capped.mode is DialMode.PREDICTIVE
    assert 1 <= room < 3 and exposed_after(snap, capped) <= room < exposed_after(snap, free)
    # One "call progressive" contact is dialled; the other ready agent stays for the ringing calls.
    assert 1 == capped.reserved == capped.launch
    # An hour with no room left: nothing new unreserved, and both ready agents stay free.
    full = roomy(worst_hour_cap=True)
    hour_of(full, 40)                               # 5 abandons in 200 answers
    assert 0 == full.hour_exposure(snap.now_s)
    assert 0 == full.decide(snap).launch


def test_the_floor_setting_is_checked():
    with pytest.raises(InvalidParameter):
        PredictiveSettings(hour_live_floor=1.5)
