"""The demo's terminal view: pure rendering of samples and the summary table."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from dialer.cli.progress import (
    DemoSummary,
    ProgressSample,
    ProgressView,
    progress_lines,
    summary_lines,
    table,
)


def sample(**kw: float) -> ProgressSample:
    base = dict(
        elapsed_s=10.0,
        duration_s=30.0,
        calls=120,
        in_progress=14,
        live_answers=40,
        connects=39,
        abandons=1,
        agents_talking=7,
        agents_logged_in=10,
        hopper=50,
        dial_level=1.8,
    )
    base.update(kw)
    return ProgressSample(**base)  # type: ignore[arg-type]


def test_block_shows_calls_connects_abandon_rate_and_agents() -> None:
    text = "\n".join(progress_lines(sample(), mode="predictive"))
    assert "calls    120 done" in text
    assert "to an agent    39" in text
    assert "abandoned    1 (2.5%)" in text
    assert "agents talking   7 of  10" in text
    assert "dial level 1.80" in text and "(this run)" in text
    assert text.startswith("predictive [##########")


def test_preview_block_counts_agents_reading_a_record_instead_of_a_dial_level() -> None:
    for mode in ("preview", "push_preview"):
        text = "\n".join(progress_lines(sample(agents_reviewing=3), mode=mode))
        assert "dial level" not in text and "one call per record an agent accepts" in text
        assert "reading a record   3 of  10 logged in" in text


def test_no_answers_means_zero_abandon_rate() -> None:
    assert 0.0 == sample(live_answers=0, abandons=0).abandon_rate


def test_terminal_redraws_in_place_and_a_pipe_gets_one_line_per_sample() -> None:
    tty = io.StringIO()
    view = ProgressView(tty, tty=True)
    view.show(sample(calls=1))
    view.show(sample(calls=2))
    out = tty.getvalue()
    assert out.count("\x1b[4F\x1b[J") == 1  # the second block goes up over the first
    pipe = io.StringIO()
    plain = ProgressView(pipe, tty=False)
    plain.show(sample(calls=1))
    plain.show(sample(calls=2))
    assert ["calls=1", "calls=2"] == [line.split()[1] for line in pipe.getvalue().splitlines()]
    assert "\x1b" not in pipe.getvalue()


@given(
    elapsed=st.floats(min_value=0, max_value=1e4, allow_nan=False),
    duration=st.floats(min_value=0, max_value=1e4, allow_nan=False),
)
def test_time_bar_never_overflows(elapsed: float, duration: float) -> None:
    bar = progress_lines(sample(elapsed_s=elapsed, duration_s=duration))[0]
    inside = bar[bar.index("[") + 1 : bar.index("]")]
    assert 30 == len(inside)


def test_summary_table_totals_and_shares() -> None:
    s = DemoSummary(
        mode="predictive",
        duration_s=30,
        agents=10,
        attempts_by_outcome={"answered": 30, "busy": 50, "no_answer": 20},
        contacts_by_status={"Zajęty": 50, "Dzwonić": 2900},
        live_answers=30,
        abandons=1,
        agent_talk_share=0.5,
        contacts=3000,
    )
    lines = summary_lines(s)
    text = "\n".join(lines)
    first = lines.index("") + 1
    assert lines[first].startswith("This run's calls")
    assert ["busy", "50", "50.0%"] == lines[first + 2].split()
    assert ["total", "100", "100.0%"] == lines[first + 5].split()
    assert "every run so far" in lines[first + 7]
    assert "abandon rate 3.33%" in text
    assert "agent talk share 50.0%" in text
    assert 100 == s.attempts


@given(st.lists(st.tuples(st.text(min_size=1, max_size=8), st.integers(0, 10**6)), max_size=8))
def test_table_rows_line_up(rows: list[tuple[str, int]]) -> None:
    lines = table(["NAME", "N"], [list(r) for r in rows])
    assert 1 + len(rows) == len(lines)
