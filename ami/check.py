"""``dialer asterisk check``: what an Asterisk server offers the engine, verified over AMI.

Theory of operation: :func:`check_server` logs in with the engine's own AMI user (events off,
so nothing but answers arrives) and asks what a manager user may ask, one action per
question, turning every answer into a :class:`CheckLine` -- ``PASS``, ``FAIL`` or ``UNKNOWN``
with the reason. ``UNKNOWN`` is honest: some facts are not visible over AMI to the engine's
least-privilege user (the modules loaded, the user's read classes and ACL need the
``command`` class), and the line then says which CLI command on the Asterisk host tells.

What is asked, and why (asterisk-conf/README.md installs each of these):

* ``CoreSettings``: the version (the engine is built and tested against Asterisk 22).
* ``ListCommands``: the actions this user may run. Asterisk lists only those its ``write``
  classes allow, so a missing ``Originate`` means ``write`` lacks ``originate``; an action
  that only ``system`` or ``config`` allow (``Reload``, ``UpdateConfig``) means the user holds
  more than it needs.
* ``ShowDialPlan`` per context the engine originates into (``Did not find context`` when a
  file was not included or the dialplan not reloaded), and ``Getvar`` of the global
  ``DIALER_TRUNK`` (dialer-out hangs every call up with cause 66 while it is empty); when the
  trunk is a ``Local/...@context``, that context too.
* ``QueueStatus`` per queue of a running campaign: the queue exists (fact 9 of the
  transcripts' README: an unknown queue is an empty list, not an error).
* with the ``command`` class only: ``module show like`` for every module the dialplan uses,
  and ``manager show user``: a secret, an ACL (``permit``/``deny``) and the read classes.

The parsing helpers are pure functions of the answers, tested on their own.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ami.framing import AmiFramer, AmiMessage, encode
from config.model import AmiServerConfig

__all__ = [
    "REQUIRED_ACTIONS",
    "REQUIRED_CONTEXTS",
    "REQUIRED_MODULES",
    "REQUIRED_READ",
    "CheckLine",
    "Status",
    "check_server",
    "manager_user_fields",
    "module_running",
    "parse_list_commands",
]


class Status(enum.StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True, slots=True)
class CheckLine:
    status: Status
    check: str
    reason: str


# The contexts the engine originates into (asterisk-conf/extensions.conf).
REQUIRED_CONTEXTS = ("dialer-out", "dialer-connect", "dialer-connect-amd")
# The modules asterisk-conf/extensions.conf needs (and what for).
REQUIRED_MODULES = {
    "pbx_config.so": "loads extensions.conf",
    "app_dial.so": "Dial() of the trunk and of a reserved agent",
    "app_queue.so": "Queue(), QueueAdd/Remove/Pause",
    "app_amd.so": "AMD() in dialer-connect-amd",
    "app_userevent.so": "UserEvent DialerAMD/DialerAbandon",
    "app_verbose.so": "Log() when DIALER_TRUNK is unset",
    "app_playback.so": "the abandon message",
    "func_strings.so": "STRREPLACE() of the trunk",
    "func_logic.so": "IF() of the defaults",
    "res_musiconhold.so": "the queue's music class",
}
# action -> the write class that allows it (the engine's use: manager-dialer.conf).
REQUIRED_ACTIONS = {
    "Originate": "originate",
    "Hangup": "call",
    "QueueAdd": "agent",
    "QueueRemove": "agent",
    "QueuePause": "agent",
    "QueueStatus": "",
    "CoreShowChannels": "reporting",
    "Ping": "",
}
REQUIRED_READ = ("system", "call", "agent", "user")
# Classes whose actions restart, reload or rewrite Asterisk: never the engine's.
_POWERFUL = frozenset({"system", "config"})
_PRIV = re.compile(r"\(Priv: ([^)]*)\)\s*$")
_RUNNING = re.compile(r"\s\d+\s+Running\b")


def parse_list_commands(response: AmiMessage) -> dict[str, frozenset[str]]:
    """``ListCommands`` answer -> action name -> the classes that allow it (empty: open)."""
    out: dict[str, frozenset[str]] = {}
    for name, value in response.headers:
        found = _PRIV.search(value)
        if found is None or name in ("Response", "ActionID", "Message"):
            continue
        classes = {c.strip() for c in found[1].split(",")} - {"<none>", "all", ""}
        out[name] = frozenset(classes)
    return out


def module_running(output: Sequence[str], module: str) -> bool:
    """Whether ``module show like MODULE`` output has the module with status Running."""
    # "<module> <description> <use count> <status> <support level>": the status right after
    # the use count, so "Not Running" is not taken for "Running"
    return any(line.split()[:1] == [module] and _RUNNING.search(line) for line in output)


def manager_user_fields(output: Sequence[str]) -> dict[str, str]:
    """``manager show user NAME`` output -> its ``key: value`` lines (``ACL``, ``read perm``...)."""
    fields = {}
    for line in output:
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


class _Session:
    """A bare AMI session for one check: send an action, read its answer (and list)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout_s: float) -> None:
        self._reader, self._writer = reader, writer
        self._framer = AmiFramer()
        self._messages: list[AmiMessage] = []
        self._ids = itertools.count(1)
        self._timeout_s = timeout_s

    async def action(self, action: str, **headers: str) -> tuple[AmiMessage, list[AmiMessage]]:
        """The answer to ``action`` and, for a list answer, its events (up to the Complete one)."""
        aid = f"check-{next(self._ids)}"
        self._writer.write(encode([("Action", action), ("ActionID", aid), *headers.items()]))
        await self._writer.drain()
        return await asyncio.wait_for(self._answer(aid), self._timeout_s)

    async def _answer(self, aid: str) -> tuple[AmiMessage, list[AmiMessage]]:
        response: AmiMessage | None = None
        events: list[AmiMessage] = []
        seen = 0
        while True:
            for m in self._messages[seen:]:
                if m.action_id != aid:
                    continue
                if m.event is None:
                    response = m
                    if (m.get("EventList") or "").lower() != "start":
                        return response, events
                elif (m.get("EventList") or "").lower() == "complete":
                    assert response is not None
                    return response, events
                else:
                    events.append(m)
            seen = len(self._messages)
            data = await self._reader.read(65536)
            if not data:
                raise ConnectionError("Asterisk closed the AMI connection")
            self._messages.extend(f for f in self._framer.feed(data) if isinstance(f, AmiMessage))

    async def close(self) -> None:
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except (ConnectionError, OSError):
            pass


async def check_server(server: AmiServerConfig, *, queues: Iterable[str] = ()) -> list[CheckLine]:
    """Every check of the module docstring against ``server``; never raises for Asterisk's sake."""
    lines: list[CheckLine] = []
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(server.host, server.port), server.connect_timeout_s
        )
    except (OSError, TimeoutError) as err:
        return [CheckLine(Status.FAIL, "login", f"cannot connect to {server.host}:{server.port}: {err}")]
    session = _Session(reader, writer, max(server.connect_timeout_s, 5.0))
    try:
        login, _ = await session.action(
            "Login", Username=server.username, Secret=server.secret.reveal(), Events="off"
        )
        if login.response != "Success":
            return [
                CheckLine(
                    Status.FAIL,
                    "login",
                    f"user {server.username!r} refused: {login.get('Message') or 'no reason'}"
                    " (the secret, or a permit/deny that excludes this host)",
                )
            ]
        lines.append(CheckLine(Status.PASS, "login", f"logged in as {server.username!r}"))
        lines += await _checks(session, server.username, tuple(queues))
    except (ConnectionError, OSError, TimeoutError) as err:
        lines.append(
            CheckLine(Status.FAIL, "connection", f"lost during the check: {err or type(err).__name__}")
        )
    finally:
        await session.close()
    return lines


async def _checks(session: _Session, username: str, queues: tuple[str, ...]) -> list[CheckLine]:
    lines = [await _version(session)]
    listed, _ = await session.action("ListCommands")
    allowed = parse_list_commands(listed)
    lines += _privileges(allowed)
    for context in REQUIRED_CONTEXTS:
        lines.append(await _context(session, context, f"dialplan context {context}"))
    lines += await _trunk(session)
    for queue in queues:
        lines.append(await _queue(session, queue))
    if "Command" in allowed:
        lines.append(await _modules(session))
        lines += await _manager_user(session, username)
    else:
        modules = " ".join(REQUIRED_MODULES)
        lines.append(
            CheckLine(
                Status.UNKNOWN,
                "modules",
                "cannot ask without write=command; on the Asterisk host run for each of"
                f" {modules}: asterisk -rx 'module show like NAME' (Status Running)",
            )
        )
        lines.append(
            CheckLine(
                Status.UNKNOWN,
                "manager user secret, ACL, read classes",
                f"cannot ask without write=command; run: asterisk -rx 'manager show user {username}'"
                f" (secret <Set>, ACL yes, read perm {','.join(REQUIRED_READ)})",
            )
        )
    return lines


async def _version(session: _Session) -> CheckLine:
    settings, _ = await session.action("CoreSettings")
    if settings.response != "Success":
        return CheckLine(Status.UNKNOWN, "version", f"CoreSettings refused: {settings.get('Message')}")
    version = settings.get("AsteriskVersion") or "?"
    major = version.split(".", 1)[0]
    if major.isdigit() and int(major) >= 22:
        return CheckLine(Status.PASS, "version", f"Asterisk {version}")
    return CheckLine(
        Status.UNKNOWN, "version", f"Asterisk {version}: the engine is tested against Asterisk 22"
    )


def _privileges(allowed: dict[str, frozenset[str]]) -> list[CheckLine]:
    missing = [f"{a} (write={c})" if c else a for a, c in REQUIRED_ACTIONS.items() if a not in allowed]
    lines = [
        CheckLine(Status.FAIL, "manager user actions", "not allowed: " + ", ".join(missing))
        if missing
        else CheckLine(
            Status.PASS, "manager user actions", "Originate, Hangup, Queue*, CoreShowChannels allowed"
        )
    ]
    # An action that only system or config allow (Reload, ModuleLoad, UpdateConfig): listed, so
    # the user's write holds one of them.
    powerful = sorted(a for a, c in allowed.items() if c and c <= _POWERFUL)
    if powerful:
        lines.append(
            CheckLine(
                Status.FAIL,
                "manager user least privilege",
                f"may run {', '.join(powerful)}: write holds system or config, more than the engine needs"
                " (asterisk-conf/manager-dialer.conf)",
            )
        )
    else:
        extra = " (command: only this check uses it)" if "Command" in allowed else ""
        lines.append(
            CheckLine(Status.PASS, "manager user least privilege", f"no system or config class{extra}")
        )
    return lines


async def _context(session: _Session, context: str, check: str) -> CheckLine:
    answer, events = await session.action("ShowDialPlan", Context=context)
    if answer.response == "Success":
        return CheckLine(Status.PASS, check, f"loaded ({len(events)} priorities)")
    message = answer.get("Message") or ""
    if "permission" in message.lower():
        return CheckLine(Status.UNKNOWN, check, "ShowDialPlan needs write=reporting")
    return CheckLine(
        Status.FAIL, check, f"{message or 'not loaded'} (#include the file, then: dialplan reload)"
    )


async def _trunk(session: _Session) -> list[CheckLine]:
    answer, _ = await session.action("Getvar", Variable="DIALER_TRUNK")
    if answer.response != "Success":
        return [CheckLine(Status.UNKNOWN, "global DIALER_TRUNK", f"Getvar refused: {answer.get('Message')}")]
    trunk = answer.get("Value") or ""
    if not trunk:
        return [
            CheckLine(
                Status.FAIL,
                "global DIALER_TRUNK",
                "empty: dialer-out hangs every call up (cause 66); set it in [globals]",
            )
        ]
    lines = [CheckLine(Status.PASS, "global DIALER_TRUNK", trunk)]
    local = re.fullmatch(r"Local/[^@]*@([^/]+)(/.*)?", trunk)
    if local:
        lines.append(await _context(session, local[1], f"trunk context {local[1]}"))
    return lines


async def _queue(session: _Session, queue: str) -> CheckLine:
    answer, events = await session.action("QueueStatus", Queue=queue)
    if answer.response != "Success":
        return CheckLine(Status.UNKNOWN, f"queue {queue}", f"QueueStatus refused: {answer.get('Message')}")
    if any(e.event == "QueueParams" and e.get("Queue") == queue for e in events):
        members = sum(1 for e in events if e.event == "QueueMember")
        return CheckLine(Status.PASS, f"queue {queue}", f"exists, {members} members")
    return CheckLine(
        Status.FAIL,
        f"queue {queue}",
        "no such queue: add it to queues.conf ([NAME](dialer-campaign)), then: module reload app_queue.so",
    )


async def _command(session: _Session, command: str) -> list[str]:
    answer, _ = await session.action("Command", Command=command)
    return answer.get_all("Output") if answer.response == "Success" else []


async def _modules(session: _Session) -> CheckLine:
    missing = []
    for module, why in REQUIRED_MODULES.items():
        if not module_running(await _command(session, f"module show like {module}"), module):
            missing.append(f"{module} ({why})")
    if missing:
        return CheckLine(Status.FAIL, "modules", "not running: " + "; ".join(missing))
    return CheckLine(Status.PASS, "modules", f"{len(REQUIRED_MODULES)} required modules running")


async def _manager_user(session: _Session, username: str) -> list[CheckLine]:
    fields = manager_user_fields(await _command(session, f"manager show user {username}"))
    if "username" not in fields:
        return [CheckLine(Status.UNKNOWN, "manager user", f"'manager show user {username}' said nothing")]
    lines = []
    acl = fields.get("ACL", "")
    secret = fields.get("secret", "")
    if secret != "<Set>" or acl != "yes":
        lines.append(
            CheckLine(
                Status.FAIL,
                "manager user secret and ACL",
                f"secret {secret or '?'}, ACL {acl or '?'}: any host that reaches the AMI port may try"
                " to log in; put secret, deny and permit in one file (asterisk-conf/README.md)",
            )
        )
    else:
        lines.append(CheckLine(Status.PASS, "manager user secret and ACL", "secret <Set>, ACL yes"))
    read = {c.strip() for c in fields.get("read perm", "").split(",")}
    missing = [c for c in REQUIRED_READ if c not in read and "all" not in read]
    if missing:
        lines.append(
            CheckLine(
                Status.FAIL,
                "manager user read classes",
                f"missing {','.join(missing)}: their events never arrive",
            )
        )
    else:
        lines.append(CheckLine(Status.PASS, "manager user read classes", fields.get("read perm", "")))
    return lines
