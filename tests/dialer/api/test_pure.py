"""The API's pure parts: the failed-login limiter, passwords and tokens, the error bodies, the config."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config import ConfigError, load_config
from dialer.api.context import TokenCache
from dialer.api.errors import ApiError, error_body
from dialer.api.passwords import check_password, hash_password, hash_token, new_token, verify_password
from dialer.api.ratelimit import LoginLimiter
from dialer.errors import ValidationError
from dialer.store.users import Role, User


def test_limiter_refuses_past_the_limit_until_the_window_passes() -> None:
    lim = LoginLimiter(per_user=2, per_address=5, window_s=60)
    assert 0 == lim.retry_after_s("u", "a", 0.0)
    lim.failed("u", "a", 0.0)
    lim.failed("u", "a", 10.0)
    assert 50.0 == lim.retry_after_s("u", "a", 10.0)
    assert 0 == lim.retry_after_s("v", "a", 10.0)  # another name from the same address may try
    assert 0 == lim.retry_after_s("u", "a", 60.0)  # the first failure left the window


def test_limiter_counts_per_address_and_a_success_clears_only_the_name() -> None:
    lim = LoginLimiter(per_user=10, per_address=3, window_s=60)
    for name in ("a", "b", "c"):
        lim.failed(name, "1.2.3.4", 1.0)
    assert lim.retry_after_s("d", "1.2.3.4", 2.0) > 0  # a guesser trying many names
    assert 0 == lim.retry_after_s("d", "5.6.7.8", 2.0)
    lim.succeeded("a")
    assert lim.retry_after_s("a", "1.2.3.4", 2.0) > 0


@given(st.lists(st.floats(min_value=0, max_value=1000), max_size=60))
def test_limiter_never_lets_more_failures_through_than_allowed_in_a_window(times: list[float]) -> None:
    lim = LoginLimiter(per_user=3, per_address=100, window_s=10)
    let_through: list[float] = []
    for t in sorted(times):
        if lim.retry_after_s("u", "a", t) == 0:
            let_through.append(t)
            lim.failed("u", "a", t)
    for t in let_through:
        assert sum(1 for u in let_through if u <= t < u + 10) <= 3


def test_limiter_memory_is_bounded() -> None:
    lim = LoginLimiter(per_user=1, per_address=1, window_s=60, max_keys=10)
    for i in range(100):
        lim.failed(f"user{i}", f"addr{i}", 0.0)
    assert len(lim._failures) <= 10


def test_passwords_hash_and_verify_and_tokens_are_random() -> None:
    h = hash_password("a passphrase")
    assert h.startswith("$argon2id$") and "a passphrase" not in h
    assert (True, None) == verify_password(h, "a passphrase")
    assert (False, None) == verify_password(h, "another")
    assert (False, None) == verify_password(None, "a passphrase")  # unknown user
    t1, t2 = new_token(), new_token()
    assert t1 != t2 and len(t1) >= 43
    assert 32 == len(hash_token(t1)) and hash_token(t1) == hash_token(t1)
    with pytest.raises(ValidationError) as info:
        check_password("short")
    assert "password" == info.value.field and info.value.value is None


def test_error_bodies_never_echo_secrets_or_objects() -> None:
    assert {"error": "invalid_input", "field": "password", "reason": "r", "value": None} == error_body(
        "invalid_input", "r", field="password", value="hunter22"
    )
    assert error_body("invalid_input", "r", field="body", value={"password": "x"})["value"] is None
    assert 42 == error_body("invalid_input", "r", field="n", value=42)["value"]
    with pytest.raises(ValueError):
        ApiError("no_such_id", "r")


def test_api_config_from_file_and_environment_with_clear_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = load_config(env={})
    assert ("127.0.0.1", 8080, True) == (cfg.api.host, cfg.api.port, cfg.api.enabled)
    cfg = load_config(env={"DIALER_API_HOST": "0.0.0.0", "DIALER_API_PORT": "9000"})
    assert ("0.0.0.0", 9000) == (cfg.api.host, cfg.api.port)
    f = tmp_path / "c.toml"
    for text, key, reason in (
        ("[api]\nport = 0\n", "api.port", "must be a TCP port"),
        ('[api]\nport = "http"\n', "api.port", "must be a whole number"),
        ('[api]\nenabled = "maybe"\n', "api.enabled", "must be true or false"),
        ("[api]\ntoken_ttl_s = 0\n", "api.token_ttl_s", "must be a positive number"),
        ("[api]\nlogin_failures_per_user = 0\n", "api.login_failures_per_user", "must be at least 1"),
        ("[api]\ncolour = 1\n", "api.colour", "unknown key"),
    ):
        f.write_text(text)
        with pytest.raises(ConfigError) as info:
            load_config(f, env={})
        assert key == info.value.key and reason in info.value.reason
    with pytest.raises(ConfigError) as info:
        load_config(env={"DIALER_API_PORT": "99999"})
    assert "api.port" == info.value.key


def test_token_cache_answers_within_its_ttl_and_forgets_on_demand() -> None:
    cache = TokenCache(ttl_s=5.0, max_entries=2)
    sue = User(1, "sue", Role.SUPERVISOR, None, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert cache.get(b"t1", 0.0) is None  # nothing cached: the store is asked
    cache.put(b"t1", sue, 10.0)
    assert (sue, sue, None) == (cache.get(b"t1", 10.0), cache.get(b"t1", 14.9), cache.get(b"t1", 15.0))
    cache.put(b"t1", sue, 20.0)
    assert cache.get(b"t1", 19.0) is None  # a clock that went back: asked again
    cache.put(b"t1", sue, 20.0)
    cache.forget(b"t1")  # logged out
    assert cache.get(b"t1", 20.0) is None
    for i in range(3):  # bounded: a flood of tokens starts it over
        cache.put(bytes([i]), sue, 20.0)
    assert (None, sue) == (cache.get(bytes([0]), 20.0), cache.get(bytes([2]), 20.0))
    cache.clear()  # a user removed
    assert cache.get(bytes([2]), 20.0) is None


def test_token_cache_asks_for_a_reread_past_half_its_life_and_counts_forgets() -> None:
    cache = TokenCache(ttl_s=4.0)
    sue = User(1, "sue", Role.SUPERVISOR, None, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    cache.put(b"t1", sue, 10.0)
    assert (False, True) == (cache.due(b"t1", 11.9), cache.due(b"t1", 12.0))
    assert not cache.due(b"t2", 12.0)  # nothing cached: nothing to re-read
    epoch = cache.epoch
    cache.forget(b"t1")  # a re-read begun before this must not bring the entry back
    assert cache.epoch == epoch + 1 and not cache.due(b"t1", 12.0)
    cache.clear()
    assert cache.epoch == epoch + 2
