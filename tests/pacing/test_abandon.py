import pytest
from hypothesis import given
from hypothesis import strategies as st

from pacing import AbandonTracker, InvalidParameter, TimeWentBackwards


def test_rate_is_abandons_over_live_answers():
    tracker = AbandonTracker(3600.0)
    for i in range(97):
        tracker.record_answer(float(i), abandoned=False)
    for i in range(3):
        tracker.record_answer(100.0 + i, abandoned=True)
    assert 0.03 == pytest.approx(tracker.rate(200.0))


def test_old_answers_leave_the_window():
    tracker = AbandonTracker(3600.0, buckets=60)
    tracker.record_answer(0.0, abandoned=True)
    tracker.record_answer(4000.0, abandoned=False)
    assert 0.0 == tracker.rate(4000.0)


def test_rate_can_be_queried_later_without_new_observations():
    tracker = AbandonTracker(3600.0, buckets=60)
    tracker.record_answer(10.0, abandoned=True)
    assert (1.0, 0.0) == (tracker.rate(100.0), tracker.rate(3700.0))


def test_uk_estimate_of_amd_false_positives_counts_as_abandons():
    tracker = AbandonTracker(86400.0, amd_false_positive_rate=0.05, count_amd_false_positives=True)
    for i in range(95):
        tracker.record_answer(float(i), abandoned=False)
    counts = tracker.counts(100.0)
    assert 5.0 == pytest.approx(counts.estimated_amd_false_positives)
    assert 0.05 == pytest.approx(counts.rate)


def test_us_ignores_the_false_positive_estimate():
    tracker = AbandonTracker(86400.0, amd_false_positive_rate=0.05, count_amd_false_positives=False)
    tracker.record_answer(1.0, abandoned=False)
    assert 0.0 == tracker.rate(2.0)


def test_an_observation_older_than_what_is_kept_is_refused():
    tracker = AbandonTracker(100.0, buckets=10)
    tracker.record_answer(1000.0, abandoned=False)
    with pytest.raises(TimeWentBackwards):
        tracker.record_answer(5.0, abandoned=False)


@pytest.mark.parametrize(("kwargs", "field"), [({"window_s": 0.0}, "window_s"),
                                               ({"window_s": 10.0, "buckets": 0}, "buckets"),
                                               ({"window_s": 10.0, "amd_false_positive_rate": 1.0},
                                                "amd_false_positive_rate")])
def test_bad_parameters_name_the_field(kwargs, field):
    with pytest.raises(InvalidParameter) as info:
        AbandonTracker(**kwargs)
    assert field == info.value.field


events = st.lists(st.tuples(st.floats(0, 50.0), st.booleans()), max_size=300)


@given(events)
def test_memory_is_bounded_and_counts_match_a_brute_force_window(steps):
    tracker = AbandonTracker(600.0, buckets=12)
    t = 0.0
    seen: list[tuple[float, bool]] = []
    for dt, abandoned in steps:
        t += dt
        tracker.record_answer(t, abandoned=abandoned)
        seen.append((t, abandoned))
        assert len(tracker._buckets) <= 13
    counts = tracker.counts(t)
    # The window keeps (t - 600, t] and at most one bucket (50 s) more.
    inside = [a for (u, a) in seen if u > t - 600.0]
    at_most = [a for (u, a) in seen if u > t - 650.0]
    assert len(inside) <= counts.live_answers <= len(at_most)
    assert sum(inside) <= counts.abandoned <= sum(at_most)


def test_replace_from_keeps_older_buckets_and_replaces_the_rest():
    tracker = AbandonTracker(3600.0, buckets=12)  # 300 s buckets
    tracker.record_answer(10.0, abandoned=True)  # bucket 0
    tracker.record_answer(610.0, abandoned=False)  # bucket 2
    tracker.replace_from(2, [(2, 5, 1, 2), (3, 4, 0, 0), (1, 9, 9, 9)])  # bucket 1 is before the span
    counts = tracker.counts(1000.0)
    assert (1 + 5 + 4, 1 + 1, 2) == (counts.live_answers, counts.abandoned, counts.machine_verdicts)


def test_replace_from_merges_repeated_buckets_and_later_observations_add_to_them():
    tracker = AbandonTracker(3600.0, buckets=12)
    tracker.replace_from(0, [(3, 2, 1, 0), (3, 1, 0, 1)])
    tracker.record_answer(3 * 300.0 + 1, abandoned=True)
    counts = tracker.counts(1000.0)
    assert (4, 2, 1) == (counts.live_answers, counts.abandoned, counts.machine_verdicts)


@given(st.lists(st.tuples(st.floats(0, 20_000), st.booleans()), max_size=60),
       st.integers(0, 80), st.floats(0, 20_000))
def test_a_tracker_rebuilt_from_its_own_buckets_counts_the_same(observations, first, at):
    """What a store refresh does when the store holds exactly what the tracker saw."""
    observations.sort()
    seen = AbandonTracker(3600.0, buckets=12)
    per_bucket: dict[int, list[int]] = {}
    for t, abandoned in observations:
        seen.record_answer(t, abandoned=abandoned)
        entry = per_bucket.setdefault(seen.bucket_index(t), [0, 0])
        entry[0] += 1
        entry[1] += int(abandoned)
    rebuilt = AbandonTracker(3600.0, buckets=12)
    for t, abandoned in observations:
        if rebuilt.bucket_index(t) < first:
            rebuilt.record_answer(t, abandoned=abandoned)
    rebuilt.replace_from(first, [(i, live, ab, 0) for i, (live, ab) in per_bucket.items()])
    at = max(at, observations[-1][0]) if observations else at
    assert seen.counts(at) == rebuilt.counts(at)
