"""The predictive policy's settings: the levers operators expect and the controller's tuning.

Apart from :mod:`pacing.predictive` so that the policy module stays about deciding; the
attribute docs here say what each lever does and what it measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pacing.errors import InvalidParameter
from pacing.stats import StatisticsSettings


@dataclass(frozen=True, slots=True)
class PredictiveSettings:
    """The levers operators expect, and the controller's tuning.

    Attributes:
        target: abandon rate aimed at; ``None`` means the profile's cap.
        margin: aim ``margin`` below the target, for the noise of a finite day.
        max_lines_per_agent: ceiling on calls in progress per active agent (VICIdial's
            default maximum dial level is 3.0).
        max_customers_waiting: no new calls while this many live answers wait for an agent.
        horizon_s: how far the forecast looks (past the ring timeout plus the connect limit).
        budget_horizon_s: over how many seconds of future live answers a budget surplus or
            deficit is spread.
        max_budget_factor: ceiling on ``p_allow`` as a multiple of the aimed rate, so a
            quiet past cannot buy a burst of abandons (keeps the worst hour honest).
        marginal_factor: the marginal call may cost this multiple of ``p_allow`` in abandons per
            live answer (the calls before it cost less). 1.0 measured best across seeds
            (S1 0.894-0.899 of the bound against 0.884-0.899 with 2.0; S4 0.837 against 0.791).
        calibration_s: time constant of the forecast calibration: when the last hour's
            measured rate sits below (above) the aimed rate, the marginal allowance grows
            (shrinks) e-fold over this many seconds, within ``calibration_bounds``. It corrects a
            forecast that is systematically too cautious (e.g. talk times that are a mixture
            the lognormal fits badly, as when AMD is off and machines reach agents).
        calibration_bounds: lowest and highest calibration factor. The floor of 1 leaves
            boldness to the budget, which already answers to the measured rate; a second
            integrator there only added noise in the benchmark.
        ramp_live: below this many live answers in the window, the budget is scaled from half
            to full.
        small_team_agents: below this many active agents, the small-team protection applies.
        small_team_budget_factor: the small team's share of the budget.
        small_team_max_lines_per_agent: the small team's ceiling on lines per agent.
        fallback_min_live: live answers the window must hold before the rate can trigger the
            progressive fallback (one abandon in the first call is not a 100% rate).
        recover_fraction: predictive resumes when the rate is below this share of the cap.
        amd_false_positive_rate: the operator's estimate of human answers the AMD hangs up
            on (counted as abandons where the profile says so).
        table_refresh_s: how often the forecast tables follow the learned statistics.
        exact_max_terms: a small team's forecast is exact (Poisson-binomial) while at most
            this many agents and ringing calls are in play; beyond, or for larger teams, the
            normal approximation (at 20 agents the exact one measured no better, 5x slower).
        empirical_durations: read talk and wrap residuals off the learned empirical
            distributions rather than the lognormal fits.
        hour_ceiling: the budget shrinks to zero as the last hour's rate goes from the cap
            to this multiple of it (``None``: no hourly guard). 1.5 cut S1's worst hour from
            4.5-5.0% to 3.7-4.2% at a cost within seed noise; 1.3 cost talk on S4.
        worst_hour_cap: the supervisor's setting: every rolling hour at or under the cap, as
            a bound, not an aim: no call is exposed (may be abandoned) unless every rolling
            hour could take all exposed calls abandoned (:mod:`pacing.exposure`); besides, the
            hour's own budget aims at ``1 - hour_margin`` of the cap (which keeps room for
            exposed calls) and the campaign falls back to progressive when the last hour
            reaches it. Off by default: it cost 3-6 points of talk on S1-S2 (docs/pacing.md).
        hour_margin: with ``worst_hour_cap``, the hour's aim is this far under the cap.
        hour_live_floor: with ``worst_hour_cap``, the hard bound
            (:func:`~pacing.exposure.exposure_room`) assumes that the next hour brings at
            least this share of the last hour's non-abandoned answers, evenly spread.
        burst_factor: unreserved calls go out no faster than this multiple of the steady
            launch rate (:class:`~pacing.budget.LaunchRate`; ``None``: no limit).
        burst_depth_s: how many seconds of that rate may go out at once.
        window_risk: every rolling window is held under the cap by count
            (:func:`~pacing.budget.window_room`): calls in flight and new ones carry no more
            expected abandons than leave this probability of one too many (``None``: off).
        window_live_floor: future answers counted in a window: this share of one live
            answer per agent cycle, for at most the next hour (a floor, not an estimate).
        every_hour: the count guard also holds every rolling hour; off by default (it cost up
            to 7 points of talk, S4, docs/pacing.md). ``worst_hour_cap``'s bound is stricter
            (with both, the results were the same on S1-S2).
        cold_start_z: while the sample is small, the forecast uses a bound this many
            standard errors on the cautious side (more live answers, longer talks and wraps)
            instead of the estimate; the margin fades as the sample grows.
        statistics: memories and the minimum-history gate.
    """

    target: float | None = None
    margin: float = 0.1
    max_lines_per_agent: float = 3.0
    max_customers_waiting: int = 2
    horizon_s: float = 40.0
    budget_horizon_s: float = 3600.0
    max_budget_factor: float = 1.5
    marginal_factor: float = 1.0
    calibration_s: float = 3600.0
    calibration_bounds: tuple[float, float] = (1.0, 6.0)
    ramp_live: int = 300
    small_team_agents: int = 10
    small_team_budget_factor: float = 0.6
    small_team_max_lines_per_agent: float = 2.0
    fallback_min_live: int = 20
    recover_fraction: float = 0.95
    amd_false_positive_rate: float = 0.0
    table_refresh_s: float = 60.0
    exact_max_terms: int = 64
    empirical_durations: bool = True
    hour_ceiling: float | None = 1.5
    worst_hour_cap: bool = False
    hour_margin: float = 0.3
    hour_live_floor: float = 0.6
    burst_factor: float | None = 2.0
    burst_depth_s: float = 5.0
    window_risk: float | None = 0.002
    window_live_floor: float = 0.6
    every_hour: bool = False
    cold_start_z: float = 1.64
    statistics: StatisticsSettings = field(default_factory=StatisticsSettings)

    def __post_init__(self) -> None:
        if self.target is not None and not 0.0 <= self.target < 1.0:
            raise InvalidParameter("target", "must be in [0, 1)", self.target)
        if not 0.0 <= self.margin < 1.0:
            raise InvalidParameter("margin", "must be in [0, 1)", self.margin)
        if not self.max_lines_per_agent >= 1.0:
            raise InvalidParameter("max_lines_per_agent", "must be at least 1", self.max_lines_per_agent)
        if self.max_customers_waiting < 0:
            raise InvalidParameter("max_customers_waiting", "must not be negative",
                                   self.max_customers_waiting)
        if self.hour_ceiling is not None and not self.hour_ceiling > 1.0:
            raise InvalidParameter("hour_ceiling", "must be above 1 (a multiple of the cap)",
                                   self.hour_ceiling)
        if not 0.0 <= self.hour_margin < 1.0:
            raise InvalidParameter("hour_margin", "must be in [0, 1)", self.hour_margin)
        if not 0.0 <= self.hour_live_floor <= 1.0:
            raise InvalidParameter("hour_live_floor", "must be in [0, 1]", self.hour_live_floor)
        if self.burst_factor is not None and not self.burst_factor > 0.0:
            raise InvalidParameter("burst_factor", "must be positive (or None for no limit)",
                                   self.burst_factor)
        if self.window_risk is not None and not 0.0 < self.window_risk < 1.0:
            raise InvalidParameter("window_risk", "must be in (0, 1) (or None for no count guard)",
                                   self.window_risk)
        if not 0.0 <= self.window_live_floor <= 1.0:
            raise InvalidParameter("window_live_floor", "must be in [0, 1]", self.window_live_floor)
        if not 0.0 < self.recover_fraction <= 1.0:
            raise InvalidParameter("recover_fraction", "must be in (0, 1]", self.recover_fraction)
