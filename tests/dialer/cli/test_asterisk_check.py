"""``dialer asterisk check`` against the simulated PBX over a real socket, and its parsers.

The command runs in a thread (it owns its event loop, as from a shell) while the simulator
serves AMI on the test's loop; the campaigns come from a real database.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ami.check import manager_user_fields, module_running, parse_list_commands
from ami.framing import AmiFramer, AmiMessage
from ami.simulator.server import SimulatedPbx
from dialer.cli.main import main
from dialer.model import CampaignState
from dialer.store.store import Store
from tests.dialer.conftest import make_campaign

SECRET = "check-secret"
LEAST = ("originate", "call", "agent", "reporting")


def _config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "dialer.toml"
    path.write_text(
        f'[[ami.servers]]\nname = "pbx1"\nport = {port}\nusername = "dialer"\n'
        'secret_env = "CHECK_AMI_SECRET"\nconnect_timeout_s = 2.0\n[metrics]\nenabled = false\n'
    )
    return path


async def _run(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


def _rows(out: str) -> dict[str, tuple[str, str]]:
    """CHECK -> (STATUS, DETAIL) of the printed table."""
    rows = {}
    lines = out.splitlines()
    header = max(i for i, line in enumerate(lines) if line.split()[:2] == ["STATUS", "SERVER"])
    for line in lines[header + 1 :]:
        if line.split(None, 1)[0] not in ("PASS", "FAIL", "UNKNOWN"):
            continue  # a log line of the simulator
        status, _server, rest = line.split(None, 2)
        check = next((c for c in _CHECKS if rest.startswith(c)), rest)
        rows[check] = (status, rest[len(check) :].strip())
    return rows


_CHECKS = sorted(
    [
        "login",
        "version",
        "manager user actions",
        "manager user least privilege",
        "dialplan context dialer-out",
        "dialplan context dialer-connect-amd",
        "dialplan context dialer-connect",
        "global DIALER_TRUNK",
        "trunk context sim-pstn",
        "modules",
        "manager user secret and ACL",
        "manager user read classes",
        "manager user secret, ACL, read classes",
        "queue q-check-ok",
        "queue q-check-missing",
        "queue q-check-extra",
    ],
    key=len,
    reverse=True,
)


@pytest.fixture
def env(store: Store, db_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALER_DSN", db_dsn)
    monkeypatch.setenv("CHECK_AMI_SECRET", SECRET)
    monkeypatch.delenv("DIALER_CONFIG", raising=False)


async def _sim(store: Store, **kw: object) -> SimulatedPbx:
    running = [c.queue for c in await store.list_campaigns() if c.state is CampaignState.RUNNING]
    sim = SimulatedPbx(secret=SECRET, queues=running, auth_fail_delay_s=0.05, **kw)  # type: ignore[arg-type]
    await sim.start()
    return sim


async def test_a_server_installed_as_the_readme_says_passes_every_check(
    env: None, store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await make_campaign(store, queue="q-check-ok")
    sim = await _sim(store)
    sim.write_classes = (*LEAST, "command")  # command: lets the check see modules and the ACL
    try:
        code = await _run("--config", str(_config(tmp_path, sim.port)), "asterisk", "check")
    finally:
        await sim.close()
    out = capsys.readouterr().out
    rows = _rows(out)
    assert code == 0, out
    assert {s for s, _ in rows.values()} == {"PASS"}, out
    assert rows["queue q-check-ok"][0] == "PASS"
    assert rows["modules"] == ("PASS", "10 required modules running")
    assert rows["manager user secret and ACL"] == ("PASS", "secret <Set>, ACL yes")
    assert rows["trunk context sim-pstn"][0] == "PASS"
    assert SECRET not in out


async def test_a_missing_context_and_queue_fail_and_what_cannot_be_seen_is_unknown(
    env: None, store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = await make_campaign(store, queue="q-check-missing")
    sim = await _sim(store)
    sim.queues.pop("q-check-missing")  # queues.conf forgot it
    sim.contexts.remove("dialer-connect-amd")  # extensions.conf not reloaded
    sim.write_classes = LEAST  # the least-privilege user: no command class
    try:
        code = await _run(
            "--config", str(_config(tmp_path, sim.port)), "asterisk", "check", "--queue", "q-check-extra"
        )
    finally:
        await sim.close()
        await store.set_campaign_state(name, CampaignState.STOPPED)
    out = capsys.readouterr().out
    rows = _rows(out)
    assert code == 1, out
    assert rows["dialplan context dialer-connect-amd"][0] == "FAIL"
    assert "Did not find context dialer-connect-amd" in rows["dialplan context dialer-connect-amd"][1]
    assert rows["dialplan context dialer-out"][0] == "PASS"
    assert rows["queue q-check-missing"][0] == "FAIL" and "queues.conf" in rows["queue q-check-missing"][1]
    assert rows["queue q-check-extra"][0] == "FAIL"
    assert rows["modules"][0] == "UNKNOWN" and "write=command" in rows["modules"][1]
    assert rows["manager user secret, ACL, read classes"][0] == "UNKNOWN"
    assert rows["manager user actions"][0] == "PASS"


async def test_a_refused_login_and_missing_actions_fail(
    env: None,
    store: Store,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim = await _sim(store)
    sim.write_classes = ("call", "reporting")  # no originate, no agent
    try:
        code = await _run("--config", str(_config(tmp_path, sim.port)), "asterisk", "check")
        rows = _rows(capsys.readouterr().out)
        assert code == 1
        assert rows["manager user actions"][0] == "FAIL"
        assert "Originate (write=originate)" in rows["manager user actions"][1]
        assert "QueueAdd (write=agent)" in rows["manager user actions"][1]
        monkeypatch.setenv("CHECK_AMI_SECRET", "wrong")
        code = await _run("--config", str(_config(tmp_path, sim.port)), "asterisk", "check")
        rows = _rows(capsys.readouterr().out)
        assert code == 1 and rows["login"][0] == "FAIL" and "Authentication failed" in rows["login"][1]
    finally:
        await sim.close()


def test_the_check_needs_the_ami_secret(
    env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.delenv("CHECK_AMI_SECRET")
    assert main(["--config", str(_config(tmp_path, 5038)), "asterisk", "check"]) == 2
    assert "'CHECK_AMI_SECRET' is not set" in capsys.readouterr().err


def _message(text: str) -> AmiMessage:
    [m] = [
        f
        for f in AmiFramer(expect_banner=False).feed(text.replace("\n", "\r\n").encode())
        if isinstance(f, AmiMessage)
    ]
    return m


def test_parsers_read_asterisk_22_answers() -> None:
    listed = _message(
        "Response: Success\nActionID: 1\n"
        "Login: Login Manager. (Priv: <none>)\n"
        "Hangup: Hangup channel. (Priv: system,call)\n"
        "Reload: Send a reload event. (Priv: system,config)\n\n"
    )
    assert parse_list_commands(listed) == {
        "Login": frozenset(),
        "Hangup": frozenset({"system", "call"}),
        "Reload": frozenset({"system", "config"}),
    }
    output = [
        "Module                         Description                    Use Count  Status      Support Level",
        "app_queue.so                   True Call Queueing             0          Running              core",
        "1 modules loaded",
    ]
    assert module_running(output, "app_queue.so")
    assert not module_running(output, "app_amd.so")
    assert not module_running(
        ["app_amd.so   Answering Machine Detection   0   Not Running   core"], "app_amd.so"
    )
    fields = manager_user_fields(
        ["", "          username: dialer", "            secret: <Set>", "               ACL: no"]
    )
    assert (fields["secret"], fields["ACL"]) == ("<Set>", "no")
