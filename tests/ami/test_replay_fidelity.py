"""Fidelity of ``dialer ami replay --detail``: the wait and talk times each capture shows.

Every transcript of ``tests/fixtures/ami-transcripts`` is replayed through the command line,
and its ``wait=`` and ``talk=`` are compared with values read off the capture's own
``# +S.SSSs`` time marks *by hand* (the comment on each row says which events), never from
the engine's code. The two times, as an operator reads a capture:

* **wait**: from the customer's answer (``Newstate`` ``Up`` of our originated ``;1``) to the
  agent's answer (the ``DialEnd`` ``ANSWER`` of the leg to the agent); for a call no agent
  took, to the end of the wait (``QueueCallerAbandon`` on the connect-limit timeout, or the
  customer's own hang-up, the far end's ``;2`` ``Hangup``).
* **talk**: from the agent's answer to the end of the conversation (the far end's hang-up,
  its ``;2`` ``Hangup``, which the agent's legs follow within a millisecond).

The tolerance is 2 ms: the marks are printed to the millisecond, and events of one instant
(``DialEnd`` and ``AgentConnect``, the hang-ups of the two parties) differ by up to 1 ms.
A transcript with no call (a login, a restart, queue admin) replays to an error line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dialer.cli.main import main
from tests.ami.transcripts import transcript_paths

NO_CALL = "no call"

# name -> (wait_s, talk_s); None: the capture shows no such time.
EXPECTED: dict[str, tuple[float | None, float | None] | str] = {
    # ;1 Up +1.003; agent DialEnd ANSWER +2.005; far end ;2 Hangup +9.031
    "coreshowchannels-active-call": (2.005 - 1.003, 9.031 - 2.005),
    # ;1 Up +1.003; AMD until +3.286, then the agent's DialEnd ANSWER +4.288; ;2 Hangup +10.503
    "originate-amd-human": (4.288 - 1.003, 10.503 - 4.288),
    # answered +1.003, AMD said MACHINE at +2.986 and hung up: no agent, no wait in a queue
    "originate-amd-machine": (None, None),
    # ;1 Up +1.004; agent DialEnd ANSWER +2.006; far end ;2 Hangup +9.031
    "originate-answer-agent": (2.006 - 1.004, 9.031 - 2.006),
    # ;1 Up +1.003; the customer's ;2 Hangup +2.024 (members paused): waited, never talked
    "originate-answer-customer-hangup-in-queue": (2.024 - 1.003, None),
    # ;1 Up +1.003; QueueCallerAbandon (the 2 s timeout) +3.004
    "originate-answer-empty-queue-abandon": (3.004 - 1.003, None),
    # ;1 Up +1.003; QueueCallerAbandon +3.004
    "originate-answer-no-agent-abandon": (3.004 - 1.003, None),
    "originate-busy": (None, None),  # never answered
    "originate-congestion": (None, None),
    # dialer-out ;1 Up +1.013; the reserved agent's DialEnd ANSWER +2.005; the ;1 hangs up at
    # +2.046 (Local optimisation, fact 11) but the far end (sim-pstn ;2) hangs up at +10.020
    "originate-local-optimized-reserved-agent": (2.005 - 1.013, 10.020 - 2.005),
    "originate-no-answer": (None, None),
    "originate-unavailable": (None, None),
    # dialer-out ;1 Up +1.004; agent DialEnd ANSWER +2.006; far end (sim-pstn ;2) Hangup +9.033
    "originate-via-dial-answer-agent": (2.006 - 1.004, 9.033 - 2.006),
    "originate-via-dial-busy": (None, None),
    "originate-via-dial-congestion": (None, None),
    "originate-via-dial-no-answer": (None, None),
    "originate-via-dial-unavailable": (None, None),
    "asterisk-restart": NO_CALL,
    "login": NO_CALL,
    "login-failed": NO_CALL,
    "queue-member-admin": NO_CALL,
    "queue-status-idle": NO_CALL,
}

PATHS = transcript_paths()


def test_every_transcript_has_its_expected_times() -> None:
    """A new capture must come with its hand-read times."""
    assert sorted(EXPECTED) == sorted(p.stem for p in PATHS)


def _time(line: str, name: str) -> float | None:
    found = re.search(rf"\b{name}=([0-9.]+)s\b", line)
    return float(found[1]) if found else None


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_replay_detail_gives_the_wait_and_talk_the_capture_shows(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["ami", "replay", "--detail", str(path)])
    out = capsys.readouterr()
    expected = EXPECTED[path.stem]
    if expected == NO_CALL:
        assert (status, out.out) == (1, "")
        assert "no Originate" in out.err
        return
    assert status == 0, out.err
    [line] = out.out.splitlines()
    assert line.startswith(f"{path.stem} ")
    wait, talk = expected
    got = (_time(line, "wait"), _time(line, "talk"))
    assert got == (
        pytest.approx(wait, abs=0.002) if wait is not None else None,
        pytest.approx(talk, abs=0.002) if talk is not None else None,
    ), line
