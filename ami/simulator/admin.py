"""What the simulated PBX says about its own configuration, for ``dialer asterisk check``.

Real Asterisk answers these from its loaded configuration; the simulator answers from a few
attributes of :class:`~ami.simulator.server.SimulatedPbx` that a test may change to play a
misconfigured server: ``contexts`` (the dialplan contexts loaded), ``modules`` (the modules
running), ``globals`` (the dialplan's ``[globals]``), ``write_classes`` (the manager user's
``write=``; None: every class) and ``read_classes``.

The answers follow Asterisk 22's ``manager.c`` and ``pbx.c``:

* an action the user's ``write`` classes do not cover gets ``Response: Error`` /
  ``Message: Permission denied`` (each action's classes are in :data:`ACTION_CLASSES`; an
  action with none is open to every logged-in user);
* ``ListCommands`` lists, as headers of one response, only the actions the user may run:
  ``Name: synopsis (Priv: class,class)``, ``<none>`` for an open one;
* ``ShowDialPlan`` with a ``Context`` lists its extensions (``ListDialplan`` events, then
  ``ShowDialPlanComplete``), or answers ``Did not find context NAME``;
* ``Getvar`` without a channel reads a global (an unset one has an empty ``Value``);
* ``CoreSettings`` gives the version; ``Command`` runs ``module show like NAME`` and
  ``manager show user NAME`` with Asterisk's output layout.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ami.framing import AmiMessage

if TYPE_CHECKING:
    from ami.simulator.server import SimulatedPbx, _Session

# The write classes each simulated action needs (Asterisk 22's registrations; "" = none).
ACTION_CLASSES: dict[str, tuple[str, tuple[str, ...]]] = {
    # action (lower case): (name as listed, classes)
    "login": ("Login", ()),
    "logoff": ("Logoff", ()),
    "ping": ("Ping", ()),
    "listcommands": ("ListCommands", ()),
    "originate": ("Originate", ("originate",)),
    "hangup": ("Hangup", ("system", "call")),
    "queueadd": ("QueueAdd", ("agent",)),
    "queueremove": ("QueueRemove", ("agent",)),
    "queuepause": ("QueuePause", ("agent",)),
    "queuestatus": ("QueueStatus", ()),
    "queuesummary": ("QueueSummary", ()),
    "coreshowchannels": ("CoreShowChannels", ("system", "reporting")),
    "coresettings": ("CoreSettings", ("system", "reporting")),
    "showdialplan": ("ShowDialPlan", ("config", "reporting")),
    "getvar": ("Getvar", ("call", "reporting")),
    "userevent": ("UserEvent", ("user",)),
    "command": ("Command", ("command",)),
}

# What asterisk-conf/ installs: the dialplan of extensions.conf and extensions-sim.conf.
DEFAULT_CONTEXTS = (
    "dialer-out",
    "dialer-connect",
    "dialer-connect-amd",
    "sim-pstn",
    "sim-pstn-class",
    "sim-agents",
)
# The modules the dialplan needs (asterisk-conf/README.md), all running, and a core few.
DEFAULT_MODULES = (
    "app_queue.so",
    "app_amd.so",
    "app_userevent.so",
    "app_verbose.so",
    "app_playback.so",
    "app_dial.so",
    "func_strings.so",
    "func_logic.so",
    "res_musiconhold.so",
    "pbx_config.so",
    "chan_pjsip.so",
)
DEFAULT_GLOBALS = {
    "DIALER_TRUNK": "Local/{NUMBER}@sim-pstn",
    "DIALER_TRUNK_RING_S": "120",
    "DIALER_ABANDON_MESSAGE": "dialer-abandon-msg",
}
DEFAULT_READ = ("system", "call", "agent", "user")

Respond = Callable[[list[tuple[str, str]]], None]


def permitted(pbx: SimulatedPbx, action: str) -> bool:
    """Whether the user's write classes allow ``action`` (unknown actions are left to the caller)."""
    entry = ACTION_CLASSES.get(action)
    if entry is None or not entry[1] or pbx.write_classes is None:
        return True
    return bool(set(entry[1]) & set(pbx.write_classes))


def list_commands(pbx: SimulatedPbx, session: _Session, msg: AmiMessage) -> None:
    headers = [("Response", "Success")]
    for action, (name, classes) in ACTION_CLASSES.items():
        if permitted(pbx, action):
            headers.append((name, f"{name} (simulated). (Priv: {','.join(classes) or '<none>'})"))
    pbx.respond(session, msg, headers)


def show_dialplan(pbx: SimulatedPbx, session: _Session, msg: AmiMessage) -> None:
    context = msg.get("Context") or ""
    contexts = [c for c in pbx.contexts if not context or c == context]
    if context and not contexts:
        pbx.respond(session, msg, [("Response", "Error"), ("Message", f"Did not find context {context}")])
        return
    items = [
        (
            "ListDialplan",
            [
                ("Context", c),
                ("Extension", "s" if c.startswith("dialer-connect") else "_X."),
                ("Priority", "1"),
                ("Application", "NoOp"),
                ("AppData", c),
                ("Registrar", "pbx_config"),
            ],
        )
        for c in contexts
    ]
    pbx.list_response(
        session,
        msg,
        "DialPlan list will follow",
        items,
        "ShowDialPlanComplete",
        extra=[
            ("ListExtensions", str(len(items))),
            ("ListPriorities", str(len(items))),
            ("ListContexts", str(len(items))),
        ],
    )


def getvar(pbx: SimulatedPbx, session: _Session, msg: AmiMessage) -> None:
    name = msg.get("Variable") or ""
    if not name:
        pbx.respond(session, msg, [("Response", "Error"), ("Message", "No variable specified")])
        return
    if msg.get("Channel"):
        pbx.respond(session, msg, [("Response", "Error"), ("Message", "No such channel")])
        return
    pbx.respond(
        session, msg, [("Response", "Success"), ("Variable", name), ("Value", pbx.globals.get(name, ""))]
    )


def core_settings(pbx: SimulatedPbx, session: _Session, msg: AmiMessage) -> None:
    pbx.respond(
        session,
        msg,
        [
            ("Response", "Success"),
            ("AMIversion", "11.0.0"),
            ("AsteriskVersion", "22.10.1"),
            ("SystemName", ""),
            ("CoreMaxCalls", "0"),
            ("CoreMaxLoadAvg", "0.000000"),
            ("CoreRunUser", "asterisk"),
            ("CoreRunGroup", "asterisk"),
            ("CoreMaxFilehandles", "0"),
            ("CoreRealTimeEnabled", "No"),
            ("CoreCDRenabled", "Yes"),
            ("CoreHTTPenabled", "No"),
        ],
    )


def command_output(pbx: SimulatedPbx, command: str) -> list[str] | None:
    """The CLI output of the commands the check runs, else None (the server's own commands)."""
    words = command.split()
    if words[:3] == ["module", "show", "like"] and len(words) == 4:
        running = [m for m in pbx.modules if words[3] in m]
        return [
            f"{'Module':<30} {'Description':<40} {'Use Count':<10} {'Status':<11} Support Level",
            *(f"{m:<30} {'simulated':<40} {0:<10} {'Running':<11} core" for m in running),
            f"{len(running)} modules loaded",
        ]
    if words[:3] == ["manager", "show", "user"] and len(words) == 4:
        if words[3] != pbx.username:
            return [f"There is no manager called {words[3]}"]
        write = ",".join(pbx.write_classes) if pbx.write_classes is not None else "all"
        return [
            "",
            f"          username: {pbx.username}",
            "            secret: <Set>",
            "               ACL: yes",
            f"         read perm: {','.join(pbx.read_classes)}",
            f"        write perm: {write}",
            "   displayconnects: yes",
            "allowmultiplelogin: yes",
        ]
    return None
