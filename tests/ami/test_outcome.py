"""Outcome mapping: every real transcript maps to its header's outcome, through the router."""

from __future__ import annotations

from pathlib import Path

import pytest

from ami.outcome import AgentConnected, Answered, Ended, Outcome
from ami.replay import replay
from ami.transcript import load_transcript
from tests.ami.transcripts import load, originate_paths


@pytest.mark.parametrize("path", originate_paths(), ids=lambda p: p.stem)
def test_transcript_maps_to_the_outcome_its_header_names(path: Path) -> None:
    transcript = load_transcript(path)
    assert transcript.outcome is not None, "an originate transcript must name its # Outcome:"

    result = replay(transcript)

    assert Outcome(transcript.outcome) == result.outcome.outcome
    assert isinstance(result.updates[-1], Ended)
    assert sum(isinstance(u, Ended) for u in result.updates) == 1


def test_connected_call_keeps_agent_times_and_codes() -> None:
    outcome = replay(load("originate-answer-agent")).outcome

    assert (Outcome.CONNECTED, 4, 16, "Normal Clearing") == (
        outcome.outcome,
        outcome.reason,
        outcome.cause,
        outcome.cause_txt,
    )
    assert "Local/agent1@sim-agents" == outcome.agent
    assert outcome.ring_s == pytest.approx(1.0, abs=0.05)
    assert outcome.wait_s == pytest.approx(1.0, abs=0.05)
    assert outcome.talk_s == pytest.approx(7.0, abs=0.1)
    assert "dlr-L0001-3" == outcome.uniqueid == outcome.linkedid


def test_busy_keeps_the_far_end_cause_from_the_second_half() -> None:
    # Fact 2: the ;1 half says cause 0 "Unknown"; the real cause 17 is on ;2, after the
    # OriginateResponse.
    outcome = replay(load("originate-busy")).outcome

    assert (Outcome.BUSY, 5, 17) == (outcome.outcome, outcome.reason, outcome.cause)
    assert outcome.agent is None and outcome.wait_s is None and outcome.talk_s is None


def test_amd_human_reports_progress_in_contract_order() -> None:
    updates = replay(load("originate-amd-human")).updates

    assert ["Answered", "AmdDetected", "AgentConnected", "Ended"] == [type(u).__name__ for u in updates]
    answered, amd, connected = updates[0], updates[1], updates[2]
    assert isinstance(answered, Answered) and isinstance(connected, AgentConnected)
    assert ("HUMAN", "HUMAN-800-800") == (amd.status, amd.cause)  # type: ignore[union-attr]
    assert connected.wait_s == pytest.approx(connected.at_s - answered.at_s)


def test_machine_keeps_amd_status_and_cause() -> None:
    outcome = replay(load("originate-amd-machine")).outcome

    assert (Outcome.MACHINE, "MACHINE", "LONGGREETING-1500-1500") == (
        outcome.outcome,
        outcome.amd_status,
        outcome.amd_cause,
    )
