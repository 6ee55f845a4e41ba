"""A short shift through the real runner: the adapters and the runner keep the benchmark's promises."""

from __future__ import annotations

from collections import Counter

from ami.outcome import Outcome as AmiOutcome
from benchmarks.callcentre import SCENARIOS, run_shift
from benchmarks.engine_pacing import main, run_engine_shift
from dialer.model import DialingMode, Outcome
from pacing import PredictivePolicy, PredictiveSettings, ProgressivePolicy, profile_named


async def test_predictive_shift_through_the_runner_closes_every_ended_call() -> None:
    profile = profile_named("us")
    scenario = SCENARIOS["S2"]
    run = await run_engine_shift(scenario, PredictivePolicy(profile, PredictiveSettings(target=0.03)),
                                 profile=profile, hours=0.5, seed=4)
    store, pbx = run.store, run.pbx
    assert () == run.errors
    assert run.result.calls > 100
    # Every Originate had its attempt row first, and every call the PBX ended is closed in the store.
    assert len(store.attempts) == pbx.originates
    closed = {str(a.id) for a in store.attempts.values() if a.ended_at is not None}
    assert set(pbx.ended) <= closed
    assert len(store.attempts) - len(closed) == pbx.in_progress()
    # The store's outcome is the PBX's ending, through the runner's mapping.
    mapped = {AmiOutcome.CONNECTED: Outcome.ANSWERED, AmiOutcome.BUSY: Outcome.BUSY,
              AmiOutcome.NO_ANSWER: Outcome.NO_ANSWER, AmiOutcome.FAILED: Outcome.FAILED,
              AmiOutcome.MACHINE: Outcome.MACHINE, AmiOutcome.ABANDONED: Outcome.ABANDONED}
    for aid, ending in pbx.ended.items():
        assert mapped[ending] == store.attempts[int(aid)].outcome
    # Redials (stream 1) are only contacts that were abandoned, and go out with an agent reserved.
    redials = [f for f in pbx.fates if f.stream == 1]
    assert all(f.reserved for f in redials)
    per_contact = Counter(a.contact_id for a in store.attempts.values())
    for cid, n in per_contact.items():
        if n > 1:
            first = min((a for a in store.attempts.values() if a.contact_id == cid), key=lambda a: a.id)
            assert Outcome.ABANDONED == first.outcome


async def test_progressive_shift_never_abandons() -> None:
    profile = profile_named("us")
    run = await run_engine_shift(SCENARIOS["S2"], ProgressivePolicy(), profile=profile,
                                 mode=DialingMode.PROGRESSIVE, hours=0.25, seed=2)
    assert () == run.errors
    assert 0 == run.result.abandoned
    assert run.result.connects > 0
    assert all(f.reserved for f in run.pbx.fates)
    assert run.result.peak_lines <= SCENARIOS["S2"].agents


def test_command_prints_the_table_with_the_difference(capsys) -> None:  # type: ignore[no-untyped-def]
    assert 0 == main(["--scenario", "S2", "--hours", "0.1", "--seed", "3"])
    out = capsys.readouterr().out
    assert "| ours (engine) |" in out
    assert "| engine - pure (ours) |" in out
    assert "errors in the simulated side" not in out


async def test_progressive_through_the_runner_matches_the_pure_simulator_call_for_call() -> None:
    """Same seed, same calls (common random numbers): the adapters reproduce the pure model."""
    profile = profile_named("us")
    scenario = SCENARIOS["S2"]
    run = await run_engine_shift(scenario, ProgressivePolicy(), profile=profile, mode=DialingMode.PROGRESSIVE,
                                 hours=0.5, seed=5)
    pure = run_shift(scenario, ProgressivePolicy(), profile=profile, hours=0.5, seed=5)
    engine = run.result
    assert (pure.calls, pure.connects, pure.agent_calls, pure.peak_lines) == (
        engine.calls, engine.connects, engine.agent_calls, engine.peak_lines)
    assert abs(pure.talk_s - engine.talk_s) < 1e-6 * pure.talk_s
    assert abs(pure.wrap_s - engine.wrap_s) < 1e-6 * pure.wrap_s
