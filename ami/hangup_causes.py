"""Q.850 hangup causes and OriginateResponse reasons: code -> name and class, as tables.

Theory of operation: the outcome of a failed call comes from two codes that Asterisk puts on
different messages (see ``shared/ami-transcripts/README.md``, facts 2 and 4):

* the OriginateResponse ``Reason``: the last control frame the originated channel saw
  (``AST_CONTROL_*`` in Asterisk's ``frame.h``), 0 when there was none;
* the Q.850 ``Cause`` of the far end, which with Local channels is only on the ``;2`` half's
  Hangup (the ``;1`` half says 0 "Unknown" for busy and congestion).

Each table keeps the original code next to our class, so the stored outcome always carries
what Asterisk actually said (STYLE 18: codes map through a table, not if-chains).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class CauseClass(enum.StrEnum):
    """What a cause means for the dialer (which automatic status the attempt gets)."""

    NORMAL = "normal"  # a normal end of a call: says nothing about why a call failed
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"  # the network had no capacity: retry soon
    INVALID_NUMBER = "invalid_number"  # the number itself is wrong: do not retry as is
    FAILED = "failed"  # channel unavailable, refused, out of order, protocol trouble
    UNKNOWN = "unknown"  # 0 / not defined: no information


@dataclass(frozen=True, slots=True)
class HangupCause:
    code: int
    name: str  # Asterisk's AST_CAUSE_* name without the prefix
    text: str  # as Asterisk's ast_cause2str() words it (the Hangup event's Cause-txt)
    klass: CauseClass


def _c(code: int, name: str, text: str, klass: CauseClass) -> tuple[int, HangupCause]:
    return code, HangupCause(code, name, text, klass)


_N, _B, _NA, _CG, _IN, _F = (
    CauseClass.NORMAL,
    CauseClass.BUSY,
    CauseClass.NO_ANSWER,
    CauseClass.CONGESTION,
    CauseClass.INVALID_NUMBER,
    CauseClass.FAILED,
)

# Source: Asterisk include/asterisk/causes.h and main/causes.c (names and texts); the
# classes are our judgement for dialling, noted where it is not obvious.
HANGUP_CAUSES: dict[int, HangupCause] = dict(
    [
        _c(0, "NOT_DEFINED", "Unknown", CauseClass.UNKNOWN),
        _c(1, "UNALLOCATED", "Unallocated (unassigned) number", _IN),
        # 2/3: the network has no route to the number; operators send it for numbers that
        # do not exist as well as for routing trouble, so it is a failure, not "invalid".
        _c(2, "NO_ROUTE_TRANSIT_NET", "No route to specified transmit network", _F),
        _c(3, "NO_ROUTE_DESTINATION", "No route to destination", _F),
        _c(5, "MISDIALLED_TRUNK_PREFIX", "Misdialled trunk prefix", _IN),
        _c(6, "CHANNEL_UNACCEPTABLE", "Channel unacceptable", _F),
        _c(7, "CALL_AWARDED_DELIVERED", "Call awarded and delivered", _N),
        _c(8, "PRE_EMPTED", "Pre-empted", _F),
        _c(14, "NUMBER_PORTED_NOT_HERE", "Number ported elsewhere", _IN),
        _c(16, "NORMAL_CLEARING", "Normal Clearing", _N),
        _c(17, "USER_BUSY", "User busy", _B),
        _c(18, "NO_USER_RESPONSE", "No user responding", _NA),
        _c(19, "NO_ANSWER", "User alerting, no answer", _NA),
        # 20: a mobile switched off / out of coverage: try again later, like no answer.
        _c(20, "SUBSCRIBER_ABSENT", "Subscriber absent", _NA),
        # 21: SIP 401/403/407/603. A person declining (603) reaches us as Reason 5 busy,
        # because chan_pjsip queues AST_CONTROL_BUSY for 486/600/603; a bare cause 21
        # without that is the network or trunk refusing us: a failure.
        _c(21, "CALL_REJECTED", "Call Rejected", _F),
        _c(22, "NUMBER_CHANGED", "Number changed", _IN),
        _c(23, "REDIRECTED_TO_NEW_DESTINATION", "Redirected to new destination", _IN),
        _c(26, "ANSWERED_ELSEWHERE", "Answered elsewhere", _N),
        _c(27, "DESTINATION_OUT_OF_ORDER", "Destination out of order", _F),
        _c(28, "INVALID_NUMBER_FORMAT", "Invalid number format", _IN),
        _c(29, "FACILITY_REJECTED", "Facility rejected", _F),
        _c(30, "RESPONSE_TO_STATUS_ENQUIRY", "Response to STATus ENQuiry", _F),
        _c(31, "NORMAL_UNSPECIFIED", "Normal, unspecified", _N),
        _c(34, "NORMAL_CIRCUIT_CONGESTION", "Circuit/channel congestion", _CG),
        _c(38, "NETWORK_OUT_OF_ORDER", "Network out of order", _F),
        # 41/42/44/47: temporary lack of resources: retry soon, as for congestion.
        _c(41, "NORMAL_TEMPORARY_FAILURE", "Temporary failure", _CG),
        _c(42, "SWITCH_CONGESTION", "Switching equipment congestion", _CG),
        _c(43, "ACCESS_INFO_DISCARDED", "Access information discarded", _F),
        _c(44, "REQUESTED_CHAN_UNAVAIL", "Requested channel not available", _CG),
        _c(47, "RESOURCE_UNAVAILABLE", "Resource unavailable, unspecified", _CG),
        _c(50, "FACILITY_NOT_SUBSCRIBED", "Facility not subscribed", _F),
        _c(52, "OUTGOING_CALL_BARRED", "Outgoing call barred", _F),
        _c(54, "INCOMING_CALL_BARRED", "Incoming call barred", _F),
        _c(57, "BEARERCAPABILITY_NOTAUTH", "Bearer capability not authorized", _F),
        _c(58, "BEARERCAPABILITY_NOTAVAIL", "Bearer capability not available", _F),
        _c(65, "BEARERCAPABILITY_NOTIMPL", "Bearer capability not implemented", _F),
        _c(66, "CHAN_NOT_IMPLEMENTED", "Channel not implemented", _F),
        _c(69, "FACILITY_NOT_IMPLEMENTED", "Facility not implemented", _F),
        _c(81, "INVALID_CALL_REFERENCE", "Invalid call reference value", _F),
        _c(88, "INCOMPATIBLE_DESTINATION", "Incompatible destination", _F),
        _c(95, "INVALID_MSG_UNSPECIFIED", "Invalid message unspecified", _F),
        _c(96, "MANDATORY_IE_MISSING", "Mandatory information element is missing", _F),
        _c(97, "MESSAGE_TYPE_NONEXIST", "Message type nonexist.", _F),
        _c(98, "WRONG_MESSAGE", "Wrong message", _F),
        _c(99, "IE_NONEXIST", "Info. element nonexist or not implemented", _F),
        _c(100, "INVALID_IE_CONTENTS", "Invalid information element contents", _F),
        _c(101, "WRONG_CALL_STATE", "Message not compatible with call state", _F),
        _c(102, "RECOVERY_ON_TIMER_EXPIRE", "Recover on timer expiry", _F),
        _c(103, "MANDATORY_IE_LENGTH_ERROR", "Mandatory IE length error", _F),
        _c(111, "PROTOCOL_ERROR", "Protocol error, unspecified", _F),
        _c(127, "INTERWORKING", "Interworking, unspecified", _F),
    ]
)


def hangup_cause(code: int) -> HangupCause:
    """The table entry for ``code``; a code Asterisk may add later is a failure, kept as is."""
    found = HANGUP_CAUSES.get(code)
    if found is not None:
        return found
    return HangupCause(code, f"CAUSE_{code}", f"Unknown cause {code}", CauseClass.FAILED)


class ReasonClass(enum.StrEnum):
    """What an OriginateResponse ``Reason`` says about the attempt."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"
    # No decisive control frame (0) or a hang-up before answer (1): the cause decides.
    BY_CAUSE = "by_cause"


@dataclass(frozen=True, slots=True)
class OriginateReason:
    code: int
    name: str  # AST_CONTROL_* name, or FAILURE for 0
    klass: ReasonClass


# Source: Asterisk include/asterisk/frame.h (enum ast_control_frame_type); 0 has no macro and
# means the far end was never reached (Tilghman Lesher, asterisk-dev, 2005-09-04). Confirmed
# on Asterisk 22 by the transcripts: 0 unallocated, 3 ring timeout, 4 answered, 5 busy,
# 8 congestion (shared/ami-transcripts/README.md, fact 2).
ORIGINATE_REASONS: dict[int, OriginateReason] = {
    0: OriginateReason(0, "FAILURE", ReasonClass.BY_CAUSE),
    1: OriginateReason(1, "HANGUP", ReasonClass.BY_CAUSE),
    # 2 RING (local ring) then the Originate timeout: the far end never answered.
    2: OriginateReason(2, "RING", ReasonClass.NO_ANSWER),
    3: OriginateReason(3, "RINGING", ReasonClass.NO_ANSWER),
    4: OriginateReason(4, "ANSWER", ReasonClass.ANSWERED),
    5: OriginateReason(5, "BUSY", ReasonClass.BUSY),
    8: OriginateReason(8, "CONGESTION", ReasonClass.CONGESTION),
}


def originate_reason(code: int) -> OriginateReason:
    """The table entry for ``code``; any other control frame leaves the decision to the cause."""
    return ORIGINATE_REASONS.get(code) or OriginateReason(code, f"CONTROL_{code}", ReasonClass.BY_CAUSE)
