"""``dialer user create|list|remove``: the password never an argument, the store's rules."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from dialer.api.passwords import verify_password
from dialer.cli.main import main
from dialer.store.store import Store


@pytest.fixture
def dialer(
    make_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    dsn = make_database()
    monkeypatch.setenv("DIALER_DSN", dsn)
    monkeypatch.delenv("DIALER_CONFIG", raising=False)
    monkeypatch.delenv("DIALER_USER_PASSWORD", raising=False)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    run.dsn = dsn  # type: ignore[attr-defined]
    return run


def _stored_hash(dsn: str, name: str) -> str | None:
    async def read() -> str | None:
        store = await Store.open(dsn)
        try:
            return await store.password_hash_of(name)
        finally:
            await store.close()

    return asyncio.run(read())


def test_user_create_list_remove(dialer, monkeypatch: pytest.MonkeyPatch) -> None:
    assert 0 == dialer("agent", "create", "anna", "--interface", "PJSIP/1001")[0]
    monkeypatch.setenv("DIALER_USER_PASSWORD", "anna-passphrase")
    code, out, err = dialer("user", "create", "anna", "--role", "agent", "--agent", "anna")
    assert 0 == code, err
    assert "created user anna (agent, acting as agent anna)" in out
    assert "anna-passphrase" not in out + err
    stored = _stored_hash(dialer.dsn, "anna")
    assert stored is not None and "anna-passphrase" not in stored
    assert verify_password(stored, "anna-passphrase")[0]
    monkeypatch.setenv("DIALER_USER_PASSWORD", "boss-passphrase")
    assert 0 == dialer("user", "create", "boss", "--role", "ADMIN")[0]
    code, out, _ = dialer("user", "list")
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "ROLE", "AGENT", "CREATED"]
    assert [["anna", "agent", "anna"], ["boss", "admin"]] == [
        line.split()[: 3 if "anna" in line else 2] for line in lines[1:]
    ]
    assert 0 == dialer("user", "remove", "anna")[0]
    code, _, err = dialer("user", "remove", "anna")
    assert 1 == code and "user: not found (got 'anna')" in err


def test_user_create_refuses_bad_input_naming_the_field(dialer, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = dialer("user", "create", "x", "--role", "supervisor")  # no variable, no terminal
    assert 1 == code and "password: set DIALER_USER_PASSWORD" in err
    monkeypatch.setenv("DIALER_USER_PASSWORD", "short")
    code, _, err = dialer("user", "create", "x", "--role", "supervisor")
    assert 1 == code and "password: must be at least 8 characters" in err and "short" not in err
    monkeypatch.setenv("DIALER_USER_PASSWORD", "long enough")
    code, _, err = dialer("user", "create", "x", "--role", "boss")
    assert 1 == code and "role: must be one of: agent, supervisor, admin" in err
    code, _, err = dialer("user", "create", "x", "--role", "agent")
    assert 1 == code and "agent: a user with role agent needs the agent" in err
    code, _, err = dialer("user", "create", "x", "--role", "agent", "--agent", "ghost")
    assert 1 == code and "agent: not found (got 'ghost')" in err
    with pytest.raises(SystemExit):  # there is no password option to put it on the command line
        main(["user", "create", "x", "--role", "admin", "--password", "long enough"])
