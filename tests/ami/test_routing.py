"""EventRouter: every message of a captured call reaches its attempt, nothing else does."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ami.framing import AmiMessage
from ami.replay import originate_ids
from ami.routing import EventRouter
from ami.transcript import Transcript
from tests.ami.transcripts import load, originate_paths

# Events a PBX sends that are about no call in particular (or about devices, queues).
_UNROUTABLE = {"DeviceStateChange", "QueueMemberStatus", "BridgeCreate", "BridgeDestroy", "FullyBooted"}


def _router_for(t: Transcript, attempt: str = "A") -> EventRouter:
    action_id, channel_id, _ = originate_ids(t)
    router = EventRouter()
    router.register(attempt, action_id=action_id, channel_id=channel_id)
    return router


@pytest.mark.parametrize("path", originate_paths(), ids=lambda p: p.stem)
def test_every_call_event_of_a_transcript_routes_to_its_attempt(path) -> None:  # type: ignore[no-untyped-def]
    t = load(path.stem)
    router = _router_for(t)
    unrouted = []
    for e in t.received():
        msg = e.message
        assert isinstance(msg, AmiMessage)
        if router.route(msg) != "A" and msg.event not in _UNROUTABLE:
            unrouted.append((e.line, msg.event))
    assert [] == unrouted


def test_originate_response_routes_by_action_id_even_with_a_dial_string_channel() -> None:
    router = EventRouter()
    router.register("A", action_id="dlr-A", channel_id="dlr-A")
    failure = AmiMessage.of(
        ("Event", "OriginateResponse"),
        ActionID="dlr-A",
        Channel="Local/2005550001@sim-pstn",
        Uniqueid="<null>",
    )
    assert "A" == router.route(failure)


def test_second_half_agent_legs_and_dest_headers_route() -> None:
    router = EventRouter()
    router.register("A", action_id="act-A", channel_id="chan-A")
    assert "A" == router.route(AmiMessage.of(("Event", "Hangup"), Uniqueid="chan-A;2"))
    assert "A" == router.route(AmiMessage.of(("Event", "Newchannel"), Uniqueid="1795.1", Linkedid="chan-A"))
    assert "A" == router.route(AmiMessage.of(("Event", "DialEnd"), DestUniqueid="chan-A"))
    assert "A" == router.route(AmiMessage.of(("Event", "LocalBridge"), LocalTwoUniqueid="chan-A;2"))


def test_user_event_routes_by_attempt_id_header() -> None:
    router = EventRouter()
    router.register("A", action_id="act-A", channel_id="chan-A")
    msg = AmiMessage.of(("Event", "UserEvent"), UserEvent="DialerAbandon", AttemptId="A", Uniqueid="other")
    assert "A" == router.route(msg)


def test_ids_in_other_headers_or_bridge_ids_do_not_route() -> None:
    router = EventRouter()
    router.register("A", action_id="act-A", channel_id="chan-A")
    assert router.route(AmiMessage.of(("Event", "BridgeCreate"), BridgeUniqueid="chan-A")) is None
    assert router.route(AmiMessage.of(("Event", "Newchannel"), CallerIDNum="chan-A", Exten="act-A")) is None
    assert router.route(AmiMessage.of(("Event", "Hangup"), Uniqueid="chan-A;3")) is None


def test_forget_stops_routing_and_frees_the_ids() -> None:
    router = EventRouter()
    router.register("A", action_id="act-A", channel_id="chan-A")
    router.forget("A")
    router.forget("A")  # twice is harmless

    assert router.route(AmiMessage.of(("Event", "Hangup"), Uniqueid="chan-A", ActionID="act-A")) is None
    assert 0 == len(router) and "A" not in router
    router.register("B", action_id="act-A", channel_id="chan-A")
    assert "B" == router.route(AmiMessage.of(("Event", "Hangup"), Uniqueid="chan-A"))


def test_sharing_ids_between_attempts_is_refused() -> None:
    router = EventRouter()
    router.register("A", action_id="act-A", channel_id="chan-A")
    with pytest.raises(ValueError, match="already registered"):
        router.register("A", action_id="x", channel_id="y")
    with pytest.raises(ValueError, match="ActionID"):
        router.register("B", action_id="act-A", channel_id="chan-B")
    with pytest.raises(ValueError, match="ChannelId"):
        router.register("B", action_id="act-B", channel_id="chan-A")


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Uniqueid", "Linkedid", "DestUniqueid", "ActionID", "Channel", "Foo"]), st.text()
        ),
        max_size=8,
    )
)
def test_messages_without_our_ids_never_route(headers: list[tuple[str, str]]) -> None:
    router = EventRouter()
    router.register("A", action_id="act-A", channel_id="chan-A")
    msg = AmiMessage(tuple((k, v) for k, v in headers if v not in ("act-A", "chan-A", "chan-A;2")))
    assert router.route(msg) is None
