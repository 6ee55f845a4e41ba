"""``dialer callbacks``: the grid, booking, listing, rescheduling, history, a web site's key."""

from __future__ import annotations

import datetime as dt

from tests.dialer.cli.test_cli import cli_dsn, dialer  # noqa: F401  (the same fixtures)


def test_callbacks_commands(dialer, tmp_path) -> None:  # noqa: F811  (the imported fixture)
    assert 0 == dialer("schedule", "create", "CBHOURS", "--daily", "--window", "00:00-00:00")[0]
    assert 0 == dialer("campaign", "create", "CBC", "--schedule", "CBHOURS")[0]
    csv = tmp_path / "c.csv"
    csv.write_text("name,phone\nAla,+48 540 003 001\n")
    assert 0 == dialer("contacts", "import", "CBC", str(csv))[0]
    code, _, err = dialer("callbacks", "grid", "CBC", "--schedule", "CBHOURS", "--slot-min", "2")
    assert (1, "error: slot_min: must be 5 to 1440 minutes (got 2)\n") == (code, err)
    code, _, err = dialer(
        "callbacks", "grid", "CBC", "--schedule", "CBHOURS", "--slot-min", "30", "--missed-rule", "x"
    )
    assert 1 == code and "missed-rule" in err
    code, out, _ = dialer(
        "callbacks",
        "grid",
        "CBC",
        "--schedule",
        "CBHOURS",
        "--slot-min",
        "30",
        "--capacity",
        "1",
        "--closed",
        "2030-12-24",
    )
    assert 0 == code and "30-minute slots" in out
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date()
    code, out, _ = dialer("callbacks", "slots", "CBC", "--from", tomorrow.isoformat())
    assert 0 == code and 48 == out.count("available")
    slot = f"{tomorrow.isoformat()}T10:00"
    code, out, _ = dialer("callbacks", "book", "1", "--slot", slot)
    assert 0 == code and "pending" in out
    code, _, err = dialer("callbacks", "book", "1", "--slot", slot)
    assert (1, "error: slot: the slot is full: no place left") == (code, err.split(" (got")[0])
    code, _, err = dialer("callbacks", "book", "1", "--slot", "tomorrow")
    assert 1 == code and "error: slot: not a date and time" in err
    code, out, _ = dialer("callbacks", "list", "CBC")
    assert 0 == code and "Ala" in out and f"{tomorrow.isoformat()}T10:00:00+00:00" in out
    cb_id = out.splitlines()[1].split()[0]
    code, out, _ = dialer("callbacks", "reschedule", cb_id, "--slot", f"{tomorrow.isoformat()}T11:00")
    assert 0 == code and "T11:00:00" in out
    code, out, _ = dialer("callbacks", "history", cb_id)
    assert 0 == code and ["created", "rescheduled"] == [line.split()[2] for line in out.splitlines()[1:]]
    assert 0 == dialer("callbacks", "cancel", cb_id)[0]
    code, out, _ = dialer("callbacks", "list", "CBC", "--state", "cancelled")
    assert 0 == code and cb_id == out.splitlines()[1].split()[0]
    code, out, _ = dialer("callbacks", "site-add", "shop", "CBC")
    assert 0 == code and "key (shown once)" in out
    code, out, err = dialer("callbacks", "site-add", "blog", "CBC", "--origin", "HTTPS://Blog.Example:443")
    assert 0 == code and "from pages of https://blog.example;" in out, err
    code, _, err = dialer("callbacks", "site-add", "wiki", "CBC", "--origin", "wiki.example/page")
    assert 1 <= code and "error: origins:" in err
