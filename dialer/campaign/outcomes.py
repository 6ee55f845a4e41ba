"""How an AMI call outcome becomes a store outcome and a pacing observation (STYLE rule 18).

The AMI layer (``ami.outcome.Outcome``) says what happened on the wire; the store
(``dialer.model.Outcome``) says which automatic status trigger fires; pacing
(``pacing.CallOutcomeKind``) says what the pacer learns. One row per AMI outcome, so a new
AMI outcome without a row fails at import, not in production.

Choices that are judgements, with their reasons:

* ``connected`` -> store ``answered``: the agent's disposition decides the status.
* ``hangup_waiting`` (the person hung up while waiting for an agent) -> ``abandoned``: the
  regulator counts a live answer not put through within the connect limit as abandoned
  (DESIGN.md "Connect limit"); counting it is the conservative side of the 3 % cap, and the
  contact gets the "call progressive" status so it is redialled only with an agent reserved.
* ``lost`` (the engine lost track: AMI connection gone past its grace, or an engine restart
  found no channel) -> store ``lost``: a distinct outcome (migration 002) so the audit trail
  shows we do not know; it fires the congestion/failed trigger, so the contact is retried by
  the campaign's rules and the attempt counts.
* ``pbx_shutdown`` (``core stop/restart now`` cut the call; ``ami.shutdown``) -> store
  ``pbx_shutdown`` (migration 009): nobody was left waiting by the dialer, so it is neither a
  live answer nor an abandon and stays out of the abandon rate; retried like a network
  failure (the congestion trigger). Pacing learns nothing from it (``pacing`` None): a
  restart cutting fifty calls says nothing about who answers, and teaching the pacer fifty
  failures would make it dial harder once the PBX is back.
"""

from __future__ import annotations

from dataclasses import dataclass

from ami.outcome import Outcome as AmiOutcome
from dialer.model import Outcome as StoreOutcome
from pacing.stats import CallOutcomeKind


@dataclass(frozen=True, slots=True)
class OutcomeMapping:
    store: StoreOutcome
    pacing: CallOutcomeKind | None  # None: nothing for the pacer to learn
    live: bool  # a person answered (counts in the abandon-rate denominator)
    abandoned: bool  # counts in the abandon-rate numerator


_K = CallOutcomeKind
_S = StoreOutcome

OUTCOMES: dict[AmiOutcome, OutcomeMapping] = {
    AmiOutcome.CONNECTED: OutcomeMapping(_S.ANSWERED, _K.CONNECTED, live=True, abandoned=False),
    AmiOutcome.BUSY: OutcomeMapping(_S.BUSY, _K.BUSY, live=False, abandoned=False),
    AmiOutcome.NO_ANSWER: OutcomeMapping(_S.NO_ANSWER, _K.NO_ANSWER, live=False, abandoned=False),
    AmiOutcome.CONGESTION: OutcomeMapping(_S.CONGESTION, _K.FAILED, live=False, abandoned=False),
    AmiOutcome.FAILED: OutcomeMapping(_S.FAILED, _K.FAILED, live=False, abandoned=False),
    AmiOutcome.INVALID_NUMBER: OutcomeMapping(_S.INVALID_NUMBER, _K.FAILED, live=False, abandoned=False),
    AmiOutcome.MACHINE: OutcomeMapping(_S.MACHINE, _K.MACHINE, live=False, abandoned=False),
    AmiOutcome.ABANDONED: OutcomeMapping(_S.ABANDONED, _K.ABANDONED, live=True, abandoned=True),
    AmiOutcome.HANGUP_WAITING: OutcomeMapping(_S.ABANDONED, _K.ABANDONED, live=True, abandoned=True),
    AmiOutcome.LOST: OutcomeMapping(_S.LOST, _K.FAILED, live=False, abandoned=False),
    AmiOutcome.PBX_SHUTDOWN: OutcomeMapping(_S.PBX_SHUTDOWN, None, live=False, abandoned=False),
}

missing = set(AmiOutcome) - set(OUTCOMES)
if missing:  # pragma: no cover - guards the table against a new ami outcome
    raise RuntimeError(f"dialer.campaign.outcomes has no row for {sorted(missing)}")
del missing


def map_outcome(outcome: AmiOutcome) -> OutcomeMapping:
    """The row for ``outcome`` (every AMI outcome has one)."""
    return OUTCOMES[outcome]
