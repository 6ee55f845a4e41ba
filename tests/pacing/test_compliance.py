import pytest

from pacing import UK, US, ZERO, PacingError, UnknownProfile, profile_named


def test_profiles_are_found_by_their_stored_names():
    assert [US, UK, ZERO] == [profile_named("us"), profile_named("uk"), profile_named("zero")]


def test_us_caps_three_percent_over_thirty_days():
    assert (0.03, 30 * 86400.0, False, True) == (US.abandon_cap, US.window_s, US.amd_false_positives_count,
                                                 US.predictive_allowed)


def test_uk_counts_amd_false_positives_over_a_day():
    assert (0.03, 86400.0, True) == (UK.abandon_cap, UK.window_s, UK.amd_false_positives_count)


def test_zero_profile_is_progressive_only():
    assert (0.0, False) == (ZERO.abandon_cap, ZERO.predictive_allowed)


def test_every_profile_has_the_two_second_connect_limit_and_fifteen_second_ring():
    assert {(2.0, 15.0)} == {(p.connect_limit_s, p.min_ring_s) for p in (US, UK, ZERO)}


@pytest.mark.parametrize("name", ["US", "eu", "", None])
def test_unknown_profile_names_raise_a_pacing_error_naming_the_value(name):
    with pytest.raises(UnknownProfile) as info:
        profile_named(name)
    assert isinstance(info.value, PacingError)
    assert repr(name) in str(info.value)
