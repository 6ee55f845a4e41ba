"""schemathesis over the OpenAPI document against ``dialer run`` in a real process (issue 9).

Every generated request, valid or not, must get an answer that is no 5xx and that matches
the document (status code, content type, body schema). The engine runs as a subprocess, as
in production, with an AMI server that is not there (the engine keeps retrying it, which is
no reason to refuse HTTP requests); the admin's token authorises every case. Left out: the
event stream (it never ends, by design) and the token's own logout and the removal of users
(either would pull the ground from under the cases that follow).

The public web callback operations (``/api/v1/public/*``) take no token but a site's
``X-Api-Key``: with the admin's token alone every case of theirs stops at 401 and the body is
never judged, so a second run sends them a real site's key (a site of the fuzzed campaign,
which has a slot grid) and, in the valid cases, that campaign's name and a real number, so the
body reaches the time and slot rules, the hourly limits and the store.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from dialer.api.passwords import hash_password
from dialer.model import CampaignSpec, CampaignState, DialingMode
from dialer.schedules.schedule import Frequency, Schedule
from dialer.store.store import Store
from dialer.store.users import Role
from tests.dialer.api.conftest import PASSWORD

SITE_KEY = "fuzz-site-key-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _seed(dsn: str) -> None:
    store = await Store.open(dsn)
    try:
        await store.create_schedule(
            Schedule(
                name="ALL",
                frequency=Frequency.DAILY,
                window_start=__import__("datetime").time(0),
                window_end=__import__("datetime").time(0),
            )
        )
        await store.create_campaign(
            CampaignSpec("FUZZ", "ALL", DialingMode.PREVIEW, state=CampaignState.RUNNING)
        )
        await store.create_agent("anna", "PJSIP/1001")
        await store.assign_agent("FUZZ", "anna")
        await store.define_callback_grid("FUZZ", schedule="ALL", slot_min=30, capacity=3)
        await store.add_callback_site("fuzz-site", "FUZZ", SITE_KEY)
        hashed = hash_password(PASSWORD)
        await store.create_user("root", Role.ADMIN, hashed)
        await store.create_user("anna", Role.AGENT, hashed, agent="anna")
    finally:
        await store.close()


@pytest.fixture(scope="module")
def engine(
    make_database: Callable[[], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    dsn = make_database()
    asyncio.run(_seed(dsn))
    home = tmp_path_factory.mktemp("fuzz")
    port, dead_ami = _free_port(), _free_port()
    config = home / "dialer.toml"
    config.write_text(
        "[[ami.servers]]\n"
        f'name = "absent"\nhost = "127.0.0.1"\nport = {dead_ami}\nusername = "dialer"\n'
        "connect_timeout_s = 0.5\n"
        "[metrics]\nenabled = false\n"
        f'[api]\nport = {port}\n[log]\nformat = "json"\nlevel = "warning"\n'
        '[engine]\nengine_id = "fuzz"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALER_")}
    # no PBX listens on dead_ami: the engine retries it in the background, the API serves
    env.update(DIALER_DSN=dsn, DIALER_HOME=str(home / "home"), DIALER_AMI_SECRET="unused")
    log = (home / "engine.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dialer.cli", "run", "--config", str(config)], env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/openapi.json", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(Path(log.name).read_text()) from None
                time.sleep(0.2)
        yield url, Path(log.name)
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


@pytest.fixture(scope="module")
def engine_url(engine: tuple[str, Path]) -> str:
    return engine[0]


@pytest.fixture(scope="module")
def admin_token(engine_url: str) -> str:
    req = urllib.request.Request(
        f"{engine_url}/api/v1/auth/login",
        data=json.dumps({"name": "root", "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return str(json.loads(r.read())["token"])


@pytest.fixture(scope="module")
def api_schema(engine_url: str) -> schemathesis.BaseSchema:
    return (
        schemathesis.openapi.from_url(f"{engine_url}/api/openapi.json")
        .exclude(path="/api/v1/events")
        .exclude(path="/api/v1/auth/logout")
        .exclude(path="/api/v1/users/{name}", method="DELETE")
    )


def _error_field(text: str) -> str | None:
    """The field an error answer names (None: not an error body)."""
    try:
        error = json.loads(text)
    except ValueError:
        return None
    return error.get("field") if isinstance(error, dict) else None


Prepare = Callable[[schemathesis.Case, GenerationMode], dict[str, str]]


def _fuzz(
    operations: Sequence[schemathesis.APIOperation],
    engine: tuple[str, Path],
    prepare: Prepare,
    *,
    examples: int = 6,
) -> list[tuple[str, int, str | None]]:
    """Valid and invalid cases of each operation (hypothesis drives schemathesis's strategies;
    its pytest plugin does not load a schema from a fixture under this pytest); ``prepare``
    readies a case before it is sent and answers the headers to send with it. Returns what
    each valid case got: the operation, the status and the field an error answer names."""
    engine_url, log = engine
    answers: list[tuple[str, int, str | None]] = []
    for operation in operations:
        # A file upload's part is bytes, and any bytes are a file: the endpoint judges them line by
        # line (a do-not-call file of JSON text is a file of rejected lines, 200). Schemathesis
        # calls a JSON object in that part schema-violating; every other check still applies.
        uploads = "multipart/form-data" in operation.get_request_payload_content_types()
        excluded = [positive_data_acceptance, *([negative_data_rejection] if uploads else [])]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None
            )
            @given(case=operation.as_strategy(mode))
            def check(case: schemathesis.Case) -> None:
                # a schema-valid body may still break a rule of the data model (a role agent
                # without its agent): 422 invalid_value is the right answer, not a failure
                # called in this iteration (check() below), so the loop variable is the current one
                headers = prepare(case, mode)  # noqa: B023
                r = case.call_and_validate(
                    base_url=engine_url, headers=headers, excluded_checks=excluded  # noqa: B023
                )
                if mode is GenerationMode.POSITIVE:  # noqa: B023
                    field = _error_field(r.text) if r.status_code >= 400 else None
                    answers.append((operation.label, r.status_code, field))  # noqa: B023

            try:
                check()
            except AssertionError as failure:  # schemathesis's failures: show the engine's side
                tracebacks = [
                    line for line in log.read_text().splitlines() if "Traceback" in line or "rror" in line
                ]
                raise AssertionError(f"{failure}\nengine log:\n" + "\n".join(tracebacks[-20:])) from failure
            except Unsatisfiable:
                # nothing to make invalid (no parameters, no body): only the valid cases exist
                assert mode is GenerationMode.NEGATIVE, operation.label
    return answers


def _public(operation: schemathesis.APIOperation) -> bool:
    return operation.path.startswith("/api/v1/public/")


@pytest.mark.timeout(1200)  # some 45 operations, valid and invalid cases of each: minutes on a busy machine
def test_no_request_gets_a_5xx_and_every_answer_matches_the_document(
    api_schema: schemathesis.BaseSchema, engine: tuple[str, Path], admin_token: str
) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15

    def bearer(case: schemathesis.Case, mode: GenerationMode) -> dict[str, str]:
        return {"Authorization": f"Bearer {admin_token}"}

    _fuzz(operations, engine, bearer)


@pytest.mark.timeout(600)
def test_the_public_callback_operations_fuzzed_with_a_sites_key(
    api_schema: schemathesis.BaseSchema, engine: tuple[str, Path]
) -> None:
    """The key is set in the case itself (not only on the request), so a case whose only invalid
    part was its key header is judged as the valid case it became."""
    operations = [op for op in (r.ok() for r in api_schema.get_all_operations()) if _public(op)]
    assert {"GET", "POST"} <= {op.method.upper() for op in operations}, [op.label for op in operations]

    def site_key(case: schemathesis.Case, mode: GenerationMode) -> dict[str, str]:
        case.headers["X-Api-Key"] = SITE_KEY  # case-insensitive: the generated value goes
        if mode is GenerationMode.POSITIVE and isinstance(case.body, dict) and "campaign" in case.body:
            # the site's campaign (past the 403) and a real number (past the number's check, on
            # to the time, the slot and the store), one of a few so the hourly limits are reached
            number = f"+4854000{sum(map(ord, str(case.body.get('name')))) % 10:04d}"
            case.body = {**case.body, "campaign": "FUZZ", "number": number}
        return {}

    answers = _fuzz(operations, engine, site_key, examples=20)
    assert 401 not in {status for _, status, _ in answers}  # the key was taken every time
    # the body went past the key and the campaign to the rules of the time, the slot, the store
    post = {field for label, _, field in answers if label.startswith("POST")}
    assert post & {"wanted_at", "slot", "timezone"}, answers
