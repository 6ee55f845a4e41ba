"""What a person watching ``dialer demo`` sees: a live progress block and a summary table.

Rendering is pure (a sample in, lines out) so tests check the text without a terminal;
:class:`ProgressView` only decides how to write it: on a terminal the block is redrawn in
place (cursor up, clear to end), elsewhere (CI logs, a pipe) one plain line is appended per
refresh, so a log file stays readable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO


@dataclass(frozen=True, slots=True)
class ProgressSample:
    """The campaign's counters at one instant of the demo."""

    elapsed_s: float
    duration_s: float
    calls: int  # attempts finished
    in_progress: int  # calls placed and not finished
    live_answers: int
    connects: int  # live answers that reached an agent
    abandons: int
    agents_talking: int
    agents_logged_in: int
    hopper: int = 0
    dial_level: float = 0.0
    agents_reviewing: int = 0  # preview modes: agents reading an offered record
    # True while a predictive campaign dials progressively: still learning its statistics
    # (the minimum-history gate) or held at the abandon cap.
    fallback: bool = False

    @property
    def abandon_rate(self) -> float:
        """Abandons per live answer (the regulators' ratio: Ofcom, TSR)."""
        return self.abandons / self.live_answers if self.live_answers else 0.0


PREVIEW_MODES = ("preview", "push_preview")


def progress_lines(s: ProgressSample, *, mode: str = "", width: int = 30) -> list[str]:
    """The live block: a time bar, then calls, connects, abandon rate and agents (this run's).

    In the preview modes an agent reads each record before its call is placed: the block says
    so and counts the agents reading instead of a dial level (always one call per record).
    """
    frac = min(1.0, s.elapsed_s / s.duration_s) if s.duration_s > 0 else 1.0
    done = round(frac * width)
    title = f"{mode} " if mode else ""
    if mode in PREVIEW_MODES:
        pacing = "   one call per record an agent accepts"
        agents = (
            f"  agents talking {s.agents_talking:3d}, reading a record {s.agents_reviewing:3d}"
            f" of {s.agents_logged_in:3d} logged in"
        )
    else:
        fallback = " (progressive: learning or at cap)" if s.fallback else ""
        pacing = f"   dial level {s.dial_level:4.2f}{fallback}"
        agents = f"  agents talking {s.agents_talking:3d} of {s.agents_logged_in:3d} logged in"
    return [
        f"{title}[{'#' * done}{'.' * (width - done)}] {s.elapsed_s:5.1f}/{s.duration_s:.0f} s   (this run)",
        f"  calls {s.calls:6d} done, {s.in_progress:4d} ringing/talking   hopper {s.hopper:5d}{pacing}",
        f"  answered {s.live_answers:5d}   to an agent {s.connects:5d}   abandoned {s.abandons:4d}"
        f" ({s.abandon_rate:.1%})",
        agents,
    ]


def progress_line(s: ProgressSample) -> str:
    """One line for a log or a pipe."""
    return (
        f"t={s.elapsed_s:.1f}s calls={s.calls} in_progress={s.in_progress} answers={s.live_answers}"
        f" connects={s.connects} abandons={s.abandons} abandon_rate={s.abandon_rate:.3f}"
        f" talking={s.agents_talking}/{s.agents_logged_in} reading={s.agents_reviewing}"
        f" dial_level={s.dial_level:.2f}"
        f"{' fallback' if s.fallback else ''}"
    )


class ProgressView:
    """Writes samples to ``stream``: redrawn in place on a terminal, appended otherwise.

    Args:
        stream: where to write (stdout for the demo).
        tty: force the terminal behaviour on or off; ``None`` asks the stream.
        mode: shown at the start of the block.
    """

    def __init__(self, stream: TextIO, *, tty: bool | None = None, mode: str = "") -> None:
        self._stream = stream
        self._tty = stream.isatty() if tty is None else tty
        self._mode = mode
        self._drawn = 0

    def show(self, sample: ProgressSample) -> None:
        if self._tty:
            lines = progress_lines(sample, mode=self._mode)
            # ESC[nF: cursor to the start of the line n lines up; ESC[J: clear to the end
            up = f"\x1b[{self._drawn}F\x1b[J" if self._drawn else ""
            self._stream.write(up + "\n".join(lines) + "\n")
            self._drawn = len(lines)
        else:
            self._stream.write(progress_line(sample) + "\n")
        self._stream.flush()


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """The end of a demo run: what was dialled and what the store now says."""

    mode: str
    duration_s: float
    agents: int
    attempts_by_outcome: Mapping[str, int]
    contacts_by_status: Mapping[str, int]
    live_answers: int
    abandons: int
    agent_talk_share: float  # talking time / logged-in time, over all agents
    contacts: int
    open_attempts: int = 0
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def attempts(self) -> int:
        return sum(self.attempts_by_outcome.values())

    @property
    def abandon_rate(self) -> float:
        return self.abandons / self.live_answers if self.live_answers else 0.0


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """Columns padded to their widest cell; numbers right-aligned."""
    cells = [list(headers), *[[_cell(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [all(_is_number(r[i]) for r in cells[1:]) and len(cells) > 1 for i in range(len(headers))]
    out = []
    for r in cells:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(r, widths, numeric, strict=True)]
        out.append("  ".join(parts).rstrip())
    return out


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def _is_number(text: str) -> bool:
    return text.replace(".", "", 1).replace("%", "").replace(",", "").isdigit()


def summary_lines(s: DemoSummary) -> list[str]:
    """The summary table printed when the demo ends."""
    total = s.attempts or 1
    by_count = sorted(s.attempts_by_outcome.items(), key=lambda kv: -kv[1])
    lines = [
        f"Demo summary: {s.mode}, {s.agents} agents, {s.duration_s:.0f} s, {s.contacts} contacts",
        "",
        f"This run's calls ({s.duration_s:.0f} s), by outcome:",
        *table(
            ["OUTCOME", "ATTEMPTS", "SHARE"],
            [[k, n, f"{n / total:.1%}"] for k, n in by_count]
            + [["total", s.attempts, "100.0%" if s.attempts else "0.0%"]],
        ),
        "",
        "The campaign's contacts now, by status (every run so far, not only this one):",
        *table(
            ["CONTACT STATUS", "CONTACTS"],
            [[k, n] for k, n in sorted(s.contacts_by_status.items(), key=lambda kv: -kv[1])],
        ),
        "",
        f"this run: live answers {s.live_answers}, abandoned {s.abandons}, abandon rate {s.abandon_rate:.2%}",
        f"this run: agent talk share {s.agent_talk_share:.1%} of logged-in time",
    ]
    if s.open_attempts:
        lines.append(f"attempts still open at the end: {s.open_attempts}")
    lines += [f"{k}: {v}" for k, v in s.extra.items()]
    return lines
