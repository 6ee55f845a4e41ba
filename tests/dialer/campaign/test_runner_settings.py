"""RunnerSettings: bad values are refused with the field named."""

from __future__ import annotations

import pytest

from dialer.campaign.settings import RunnerSettings
from dialer.errors import ValidationError


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"lease_ttl_s": 10.0, "lease_renew_s": 30.0}, "lease_renew_s"),
        ({"hopper_low": 50, "hopper_high": 10}, "hopper_high"),
        ({"hopper_low": -1}, "hopper_low"),
        ({"tick_s": 0.0}, "tick_s"),
        ({"reread_s": 0.0}, "reread_s"),
        ({"callback_grace_s": -1.0}, "callback_grace_s"),
        # a wrap-up may not outlast the store's hold on the answered contact (issue 11 item 3)
        ({"disposition_timeout_s": 3600.5}, "disposition_timeout_s"),
    ],
)
def test_bad_settings_name_the_field(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        RunnerSettings(**kwargs)  # type: ignore[arg-type]
    assert field == err.value.field


def test_defaults_are_valid() -> None:
    assert RunnerSettings().lease_renew_s < RunnerSettings().lease_ttl_s
    assert RunnerSettings(disposition_timeout_s=3600).disposition_timeout_s == 3600
