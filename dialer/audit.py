"""The compliance audit report (issue 11, item 6): its rows and their text, pure.

Theory of operation: :meth:`dialer.store.compliance.Compliance.compliance_report` computes
the report from the attempts table (with the contacts' numbers, the do-not-call lists and the
campaign's configuration where an attempt row does not say it all) and returns a
:class:`ComplianceReport`; this module only holds the values and turns them into text, so
that the command line (``dialer compliance report``) and, later, the HTTP API show the same
rows. Every row is a rule with a count of violations that should be 0, and the ids of the
attempts that broke it (the first :data:`MAX_IDS`).

Rules (names as printed):

* ``abandon_rate_<window>``: abandoned / live answers over every rolling window of the
  profile (US 30 days, UK 24 hours), evaluated at each live answer; a violation is an
  abandon after which its window's rate is above the cap. The row also gives the worst
  window's rate and when it ended.
* ``outside_local_hours``: a call started outside the campaign's local hours (and, US
  profile, outside 08:00-21:00) in some candidate zone of the number at dial time.
* ``do_not_call``: a call to a number that was on the global list or the campaign's before
  the call started.
* ``ring_under_15s``: an unanswered call given up after ringing less than 15 s.
* ``uk_repeat_lock``: UK profile, a call to a number within 72 h of an abandoned call to it or
  24 h of a machine, without an agent reserved.
* ``abandon_without_message``: an abandon of ours that did not play the information message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: Attempt ids listed per row at most (the count is always complete).
MAX_IDS = 20


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One rule of the report.

    Attributes:
        rule: the rule's name (see the module docstring).
        violations: how many attempts broke it (0 is compliant).
        attempt_ids: the first :data:`MAX_IDS` of them, oldest first.
        detail: what the count does not say (the worst window, what was not applicable).
    """

    rule: str
    violations: int
    attempt_ids: tuple[int, ...] = ()
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ComplianceReport:
    """The report for one campaign over ``[since, until)``."""

    campaign: str
    profile: str
    since: dt.datetime
    until: dt.datetime
    attempts: int  # calls placed in the period (cancelled ones, never placed, left out)
    live_answers: int
    abandoned: int
    rows: tuple[AuditRow, ...]

    @property
    def violations(self) -> int:
        """Violations over every row (0: the period is clean)."""
        return sum(r.violations for r in self.rows)


def format_report(report: ComplianceReport) -> str:
    """The report as a text table (the command line prints it)."""
    head = (
        f"compliance report: campaign {report.campaign} (profile {report.profile}), "
        f"{report.since.isoformat()} .. {report.until.isoformat()}\n"
        f"calls placed {report.attempts}, live answers {report.live_answers}, abandoned {report.abandoned}"
    )
    rows = [("rule", "violations", "attempt ids", "detail")]
    for r in report.rows:
        ids = ",".join(str(i) for i in r.attempt_ids)
        if r.violations > len(r.attempt_ids):
            ids += ",..." if ids else "..."
        rows.append((r.rule, str(r.violations), ids, r.detail))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    verdict = "0 violations" if report.violations == 0 else f"{report.violations} VIOLATIONS"
    return "\n".join([head, *lines, verdict])
