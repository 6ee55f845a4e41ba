"""Predictive pacing that models the calls and the agents, under an abandon-rate budget.

Theory of operation
-------------------
VICIdial-style pacing nudges a lines-per-agent ratio from idle-agent samples. We instead
forecast, at every decision, the next ``horizon_s`` seconds:

* **supply**: for each agent, the probability of being free by ``t + connect_limit``: ready
  agents are free now; a talking agent with ``tau`` seconds elapsed is free when the rest of
  the talk time (conditioned on having lasted ``tau``) plus a whole wrap is over (averaged
  over five equal-probability wrap durations); a wrapping agent likewise on the wrap time.
  Talk and wrap residuals are read off the learned empirical distributions
  (:class:`~pacing.stats.DecayingHistogram`), which follow mixtures a lognormal misses;
* **demand**: for each call ringing with age ``a``, the probability that it becomes a live
  answer by ``t`` (answer probability and lognormal answer time, conditioned on no answer
  yet), plus the customers already waiting, plus ``n`` new calls.

All distributions come from :class:`~pacing.stats.CallStatistics`, learned online with
exponential forgetting, so a drifting answer rate is followed within minutes.

With supply ``S(t)`` and demand ``D(t)`` as sums of Bernoulli variables (exact
Poisson-binomial for small teams, :mod:`pacing.poisson_binomial`; a normal approximation
for larger ones), a live answer arriving in ``(t_{k-1}, t_k]`` is abandoned when the answers
before it (never its own: it had not answered by ``t_{k-1}``) plus itself outnumber the
agents free by ``t_k + limit``; summing over the checkpoints gives the expected abandons
``A(n)`` over the horizon if ``n`` calls are launched now. We launch calls while the
*marginal* call's expected abandons per live answer, ``(A(n+1) - A(n)) / P(live)``, stay
within ``marginal_factor * p_allow``: the cheapest abandons are bought first, which is the
Lagrangian solution of "most talk time for a given number of abandons".

``p_allow`` is the **abandon budget**: the rate that would bring the compliance window's
measured rate to ``target * (1 - margin)`` if the next ``budget_horizon_s`` of live answers
kept it, scaled down linearly to zero as the measured rate climbs from the aimed rate to the
cap, and scaled down to zero as the last hour's rate climbs from the cap to
``hour_ceiling`` times it (the rolling hour a supervisor watches). It is also the feedback
that corrects any bias of the forecast. At the cap itself the
campaign **falls back to progressive**, and returns to predictive when the rate has recovered below
``recover_fraction * cap``. Between the aimed rate and the cap, when the budget is spent,
only ready agents get calls, each reserved. In both states (fallback and no budget) a ready
agent is first kept free for each unreserved call still ringing and each customer waiting:
reserving it away would expose those calls, so a campaign nearer the cap would risk more
abandons than one further from it (and dial more). The budget also keeps every later window at the
aim (:func:`~pacing.budget.suffix_allowance`: the part of the window about to expire is not
spent) and, with ``worst_hour_cap``, every rolling hour; and nothing unreserved goes out
while one more abandon would put the window over the cap. Besides these rates in
expectation, a count guard (``window_risk``, :func:`~pacing.budget.window_room`) keeps the
expected abandons in flight within what every window can still take. With ``worst_hour_cap``
every rolling hour is also held by a hard bound that prices every call no ready agent
covers as abandoned (:mod:`pacing.exposure`). Until the learned statistics pass
their (small) minimum-history gate the campaign is progressive too; after it, while the
sample is small, the forecast uses cautious bounds (``cold_start_z``), and while fewer than
``ramp_live`` live answers are in the window the budget is spent at half speed rising to
full, because one early abandon moves the measured rate a lot. Unreserved calls no ready
agent certainly covers follow a steady rate (:class:`~pacing.budget.LaunchRate`), so a jump
in state does not release a burst whose abandons land together.

**Small teams** (fewer than ``small_team_agents`` active agents) get explicit protection:
each abandon weighs more on their rate and their forecast is noisier, so their budget is
scaled by ``small_team_budget_factor``, their lines per agent are capped lower, and no new
unreserved call is launched while the forecast live answers already exceed the agents
expected free over the horizon.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from pacing._normal import lognormal_cdf, norm_cdf
from pacing.abandon import AbandonTracker
from pacing.budget import ForecastBias, LaunchRate, risk_allowance, suffix_allowance, window_room
from pacing.compliance import ComplianceProfile
from pacing.exposure import exposed_launch_cap, exposure_room, ready_to_keep
from pacing.forecast import NormalForecast, launch_exact
from pacing.progressive import progressive_decision
from pacing.settings import PredictiveSettings
from pacing.snapshot import CallObservation, CampaignSnapshot, DialDecision, DialMode
from pacing.stats import LIVE_OUTCOMES, CallOutcomeKind, CallStatistics

# Forecast checkpoints, seconds from now: dense where the next answers land.
_BLOCK = 16
# Variance added to the normal approximation: a continuity allowance for small counts.
_VAR_FLOOR = 0.25
# The calibration waits for this many live answers in the last hour (a rate from fewer is
# mostly noise: 50 answers put one abandon at 2%).
_CALIBRATION_MIN_LIVE = 50
# Forecast tables: rows per elapsed time. Talks past 2 h use the 2 h row (their residual
# barely changes there); ages past 90 s use the last row (nothing rings that long).
_TALK_STEP_S, _TALK_ROWS_S = 2.0, 7200.0
_WRAP_STEP_S, _WRAP_ROWS_S = 0.5, 600.0
_RING_STEP_S, _RING_ROWS_S = 0.25, 90.0
# Standard-normal mid-quantiles of 5 equal-probability slices (0.1, 0.3, 0.5, 0.7, 0.9).
_WRAP_QUANTILE_Z = np.array([-1.2815516, -0.5244005, 0.0, 0.5244005, 1.2815516])
_CHECKPOINTS_S = np.array([0.0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 18, 20, 22, 24, 27, 30, 34,
                           40])
# Each talk row plus each checkpoint is a multiple of the first, each wrap row plus each
# checkpoint of the second (``_residual_on_grid``).
_TALK_GRID_S, _WRAP_GRID_S = 1.0, 0.5
for _step, _grid in ((_TALK_STEP_S, _TALK_GRID_S), (_WRAP_STEP_S, _WRAP_GRID_S)):
    if any((v / _grid) % 1 for v in (_step, *_CHECKPOINTS_S)):
        raise AssertionError("the forecast table steps and checkpoints must be multiples of their grid")


@dataclass(frozen=True, slots=True)
class Forecast:
    """The forecast behind one decision, for tests and the curious."""

    p_allow: float
    launch: int
    expected_abandons: float
    expected_live: float
    new_abandons: float = 0.0       # the new calls' share of ``expected_abandons``


class PredictivePolicy:
    """Our predictive pacing (see the module docstring).

    Args:
        profile: the campaign's compliance profile (cap, window, AMD rule, whether
            predictive is allowed at all).
        settings: levers and tuning; defaults are sensible for a US campaign.
    """

    mode = DialMode.PREDICTIVE

    def __init__(self, profile: ComplianceProfile, settings: PredictiveSettings | None = None) -> None:
        self.profile = profile
        self.settings = s = settings or PredictiveSettings()
        self.target = min(profile.abandon_cap, s.target) if s.target is not None else profile.abandon_cap
        self.stats = CallStatistics(s.statistics)
        self.tracker = AbandonTracker(profile.window_s,
                                      amd_false_positive_rate=s.amd_false_positive_rate,
                                      count_amd_false_positives=profile.amd_false_positives_count)
        self.recent = AbandonTracker(3600.0, buckets=60)
        self.launch_rate = LaunchRate(s.burst_factor or 1.0, s.burst_depth_s)
        self.bias = ForecastBias()
        self.calibration = 1.0
        self._calibrated_s: float | None = None
        self.in_fallback = False
        self.last_forecast: Forecast | None = None
        self._tables: _Tables | None = None

    # -- observations ----------------------------------------------------------------
    def observe_call(self, observation: CallObservation) -> None:
        kind = observation.outcome
        self.stats.observe_call(observation.t_s, kind, observation.ring_s)
        if kind in LIVE_OUTCOMES:
            abandoned = kind is CallOutcomeKind.ABANDONED
            if abandoned:
                self.bias.seen(observation.t_s)
            self.tracker.record_answer(observation.t_s, abandoned=abandoned)
            self.recent.record_answer(observation.t_s, abandoned=abandoned)
        elif kind is CallOutcomeKind.MACHINE:
            self.tracker.record_machine_verdict(observation.t_s)

    def observe_talk(self, t_s: float, talk_s: float) -> None:
        self.stats.observe_talk(t_s, talk_s)

    def observe_wrap(self, t_s: float, wrap_s: float) -> None:
        self.stats.observe_wrap(t_s, wrap_s)

    # -- the controller ----------------------------------------------------------------
    def _fp_ratio(self) -> float:
        """Estimated AMD hang-ups on people per live answer seen, if they count."""
        if not self.profile.amd_false_positives_count:
            return 0.0
        f = self.settings.amd_false_positive_rate
        return f / (1.0 - f)

    def update_fallback(self, now_s: float) -> bool:
        """Enter progressive fallback at the cap; leave it once recovered. Returns the state."""
        counts = self.tracker.counts(now_s)
        cap = self.target
        rate = counts.rate
        if self.settings.worst_hour_cap:
            hour = self.recent.counts(now_s)
            if hour.live_answers >= self.settings.fallback_min_live:
                rate = max(rate, hour.rate)
        if self.in_fallback:
            if rate <= self.settings.recover_fraction * cap:
                self.in_fallback = False
                # Resume at the steady launch rate, not with a burst for everyone about to free.
                self.launch_rate.reset(now_s)
        elif counts.live_answers >= self.settings.fallback_min_live and rate >= cap:
            self.in_fallback = True
        return self.in_fallback

    def abandon_budget(self, now_s: float, active_agents: int) -> float:
        """``p_allow``: abandons allowed per live answer over the next budget horizon."""
        s = self.settings
        aim = self.target * (1.0 - s.margin)
        counts = self.tracker.counts(now_s)
        cycle_s = self.stats.talk_time.mean_s + self.stats.wrap_time.mean_s + 5.0
        future_live = max(10.0, active_agents * s.budget_horizon_s / cycle_s)
        phi = self._fp_ratio()
        seen_live = counts.live_answers + counts.estimated_amd_false_positives
        seen_abandons = counts.abandoned + counts.estimated_amd_false_positives
        allowed = aim * (seen_live + future_live * (1.0 + phi)) - seen_abandons - phi * future_live
        p_allow = allowed / future_live
        # The parts of the window that later windows keep: the surplus about to expire is not ours.
        later = suffix_allowance(self.tracker.suffixes(now_s), self.tracker.window_s, s.budget_horizon_s, aim,
                                 future_live, phi)
        if later is not None:
            p_allow = min(p_allow, later)
        if s.worst_hour_cap:
            # Every rolling hour: the hour x seconds ahead keeps the last (3600 - x) s and gets
            # x seconds of answers; the current hour tightens the budget from its aim to the cap.
            hour_aim = self.target * (1.0 - s.hour_margin)
            per_s = future_live / s.budget_horizon_s
            for span_s, live, abandoned in self.recent.suffixes(now_s):
                if span_s > 3000.0:
                    break           # the hour about to end: the linear tightening below
                future = max(per_s * (3600.0 - span_s), 1.0)
                p_allow = min(p_allow, (hour_aim * (live + future) - abandoned) / future)
            hour = self.recent.counts(now_s)
            if hour.rate > hour_aim:
                p_allow *= max(0.0, (self.target - hour.rate) / (self.target - hour_aim))
        p_allow = min(max(p_allow, 0.0), s.max_budget_factor * aim)
        if self.settings.ramp_live > 0 and seen_live < self.settings.ramp_live:
            # Few answers seen: one abandon moves the rate a lot, so spend the budget slowly.
            p_allow *= 0.5 + 0.5 * seen_live / self.settings.ramp_live
        # Every moment's window under the cap: while one more abandon now would put it over
        # (fewer than 1 / cap live answers per abandon so far, e.g. a new campaign's first
        # few dozen answers), nothing unreserved; full budget once two abandons fit.
        room = self.target * seen_live - seen_abandons
        p_allow *= min(max(room - 1.0, 0.0), 1.0)
        if counts.rate > aim:
            # Tighten as the measured rate closes on the cap: nothing left at the cap itself.
            p_allow *= max(0.0, (self.target - counts.rate) / (self.target - aim))
        if s.hour_ceiling is not None:
            # The supervisor's view: the last hour's rate. Above the cap it eats the budget,
            # all of it at ``hour_ceiling * cap``, so a burst does not grow into a bad hour.
            hour = self.recent.counts(now_s)
            if hour.live_answers >= _CALIBRATION_MIN_LIVE and hour.rate > self.target:
                span = (s.hour_ceiling - 1.0) * self.target
                p_allow *= max(0.0, (s.hour_ceiling * self.target - hour.rate) / span)
        if active_agents < s.small_team_agents:
            p_allow *= s.small_team_budget_factor
        return p_allow

    def window_allowance(self, now_s: float, active_agents: int, dials_for_s: float | None = None) -> float:
        """Expected abandons the calls in flight and the new ones may carry (see ``window_risk``).

        Future answers count for at most the next hour, and none past ``dials_for_s`` (the
        campaign's announced end): near its end the windows must hold with what they have.
        """
        s = self.settings
        if s.window_risk is None:
            return math.inf
        cycle_s = self.stats.talk_time.mean_s + self.stats.wrap_time.mean_s + 5.0
        per_s = s.window_live_floor * active_agents / cycle_s
        phi = self._fp_ratio()
        windows = (self.tracker, self.recent) if s.every_hour else (self.tracker,)
        future_s = 3600.0 if dials_for_s is None else min(3600.0, dials_for_s)
        room = min(window_room(w.suffixes(now_s), w.window_s, self.target, per_s, s.horizon_s,
                               future_s=future_s, fp_ratio=phi)
                   for w in windows)
        return risk_allowance(room, s.window_risk) / self.bias.ratio(now_s)

    def hour_exposure(self, now_s: float) -> int:
        """Exposed calls every rolling hour can still take at worst (:func:`~pacing.exposure.exposure_room`).

        The floor on future answers is ``hour_live_floor`` of the last hour's answers that
        were not abandoned, spread evenly over the next hour.
        """
        hour, window_s = self.recent.counts(now_s), self.recent.window_s
        per_s = self.settings.hour_live_floor * max(hour.live_answers - hour.abandoned, 0) / window_s
        phi = self._fp_ratio()
        suffixes = [(span, live * (1.0 + phi), ab + live * phi)
                    for span, live, ab in self.recent.suffixes(now_s)]
        return exposure_room(suffixes, window_s, self.target, per_s, phi)

    def _calibrate(self, now_s: float, small: bool) -> float:
        """Nudge the calibration factor by the last hour's rate against the aimed rate.

        A small team aims at its share of the budget, so the calibration cannot undo the
        small-team protection.
        """
        s = self.settings
        last = self._calibrated_s
        self._calibrated_s = now_s
        if last is None or now_s <= last:
            return self.calibration
        recent = self.recent.counts(now_s)
        if recent.live_answers < _CALIBRATION_MIN_LIVE:
            return self.calibration
        aim = self.target * (1.0 - s.margin) * (s.small_team_budget_factor if small else 1.0)
        error = (aim - recent.rate) / aim          # +1 with no abandons, -1 at twice the aim
        step = math.exp(max(min(error, 1.0), -2.0) * (now_s - last) / s.calibration_s)
        low, high = s.calibration_bounds
        self.calibration = min(max(self.calibration * step, low), high)
        return self.calibration

    def decide(self, snapshot: CampaignSnapshot) -> DialDecision:
        """How many calls to launch now, and how many of them need a reserved agent."""
        s = self.settings
        now = snapshot.now_s
        lines = snapshot.lines_free
        # "Call progressive" contacts are only dialled with an agent reserved, first.
        ringing, waiting = len(snapshot.ringing_ages_s), snapshot.customers_waiting
        # With ``worst_hour_cap``: exposed calls (any that may be abandoned) every rolling hour
        # can take at worst; ready agents that must stay free for calls in flight are kept.
        exposure = self.hour_exposure(now) if s.worst_hour_cap else None
        keep = 0 if exposure is None else ready_to_keep(exposure, ringing, waiting, snapshot.ready_agents)
        reserved = min(snapshot.progressive_contacts, snapshot.ready_agents - keep, lines)
        # Without a budget (fallback, or spent) no call in flight may lose its cover.
        cover = ready_to_keep(0, ringing, waiting, snapshot.ready_agents)
        if (not self.profile.predictive_allowed or self.target <= 0.0
                or self._fp_ratio() >= self.target * (1.0 - s.margin)
                or not self.stats.ready() or self.update_fallback(now)):
            return progressive_decision(snapshot, fallback=True, keep_ready=cover)

        active = snapshot.active_agents
        small = active < s.small_team_agents
        calibration = self._calibrate(now, small)
        p_allow = self.abandon_budget(now, active)
        if p_allow <= 0.0:
            # No budget left (the rate is between the aim and the cap): dial for ready agents
            # no call in flight needs, each call reserved, so nobody is abandoned.
            return progressive_decision(snapshot, fallback=False, keep_ready=cover)
        max_level = min(s.max_lines_per_agent, s.small_team_max_lines_per_agent) if small \
            else s.max_lines_per_agent
        in_flight = ringing + snapshot.reserved_ringing
        cap = min(lines - reserved, int(max_level * active) - in_flight - reserved)
        if snapshot.customers_waiting >= s.max_customers_waiting:
            cap = 0
        free = snapshot.ready_agents - reserved
        if exposure is not None:
            cap = min(cap, exposed_launch_cap(exposure, ringing, waiting, free))
        n = self._forecast_launch(snapshot, free, max(cap, 0), p_allow * calibration, small,
                                  self.window_allowance(now, active, snapshot.dials_for_s))
        if s.burst_factor is not None:
            # Calls a ready agent certainly covers cannot abandon; the rest follow a steady rate.
            covered = min(n, max(0, free - ringing - waiting))
            st = self.stats
            steady = active / ((st.talk_time.mean_s + st.wrap_time.mean_s) * max(st.p_live, 0.02))
            n = covered + self.launch_rate.allow(now, steady, n - covered, active)
        forecast = self.last_forecast
        if forecast is not None and forecast.launch > 0:   # what the guard's bias compares with
            self.bias.expected(now, forecast.new_abandons * n / forecast.launch)
        launch = reserved + n
        level = (in_flight + launch) / active if active else 0.0
        return DialDecision(launch=launch, reserved=reserved, dial_level=level, fallback=False,
                            mode=DialMode.PREDICTIVE)

    def _refresh_tables(self, now_s: float) -> _Tables:
        """Per-elapsed-time forecast rows, rebuilt every ``table_refresh_s`` of the caller's time.

        Each decision then only gathers one row per agent or call instead of evaluating
        lognormal cdfs, which keeps a 100-agent tick cheap. The statistics forget over tens
        of minutes, so rows a minute or two old are as good as fresh ones.
        """
        tables = self._tables
        st = self.stats
        seen = st.outcomes.n_seen
        if (tables is not None and now_s - tables.built_s < self.settings.table_refresh_s
                and seen < 1.25 * tables.built_seen):
            return tables
        limit = self.profile.connect_limit_s
        ts = _CHECKPOINTS_S[_CHECKPOINTS_S <= self.settings.horizon_s]
        talk = np.arange(0.0, _TALK_ROWS_S, _TALK_STEP_S)[:, None]
        # Cautious bounds on a small sample (cold start): talks and wraps longer by z standard
        # errors of their log-mean, more live answers by z standard errors of the share. The
        # sample is what was ever seen: the margin is for a new campaign, and it fades; drift
        # in a long-running one is the budget's business.
        z = self.settings.cold_start_z
        tt, wt = st.talk_time, st.wrap_time
        talk_k = math.exp(z * tt.sigma / math.sqrt(max(tt.weight, tt.n_seen, 1)))
        wrap_k = math.exp(z * wt.sigma / math.sqrt(max(wt.weight, wt.n_seen, 1)))
        p_live = st.p_live
        p_live = min(p_live + z * math.sqrt(p_live * (1.0 - p_live) / max(st.outcomes.weight, seen, 1)), 1.0)
        if self.settings.empirical_durations:
            talk_shape, wrap_shape = st.talk_shape.cdf, st.wrap_shape.cdf
        else:
            talk_shape = partial(lognormal_cdf, mu=st.talk_time.mu, sigma=st.talk_time.sigma)
            wrap_shape = partial(lognormal_cdf, mu=st.wrap_time.mu, sigma=st.wrap_time.sigma)

        def talk_cdf(x: np.ndarray) -> np.ndarray:
            return talk_shape(x / talk_k)

        def wrap_cdf(x: np.ndarray) -> np.ndarray:
            return wrap_shape(x / wrap_k)

        # The agent is free once the rest of the talk and a whole wrap are over: average the
        # residual over equal-probability points of the wrap distribution (mid-quantiles).
        wraps = wrap_k * np.exp(st.wrap_time.mu + st.wrap_time.sigma * _WRAP_QUANTILE_Z)
        f_talk = _residual_on_grid(talk, ts, [limit - w for w in wraps], talk_cdf, _TALK_GRID_S)
        wrap = np.arange(0.0, _WRAP_ROWS_S, _WRAP_STEP_S)[:, None]
        f_wrap = _residual_on_grid(wrap, ts, [limit], wrap_cdf, _WRAP_GRID_S)
        age = np.arange(0.0, _RING_ROWS_S, _RING_STEP_S)[:, None]
        mu_a, sg_a = st.answer_time.mu, st.answer_time.sigma
        fa = lognormal_cdf(age, mu_a, sg_a)
        early_done = np.where(age >= st.early_end_time.mean_s, st.p_early_end, 0.0)
        still = np.maximum(1.0 - early_done - st.p_answered * fa, 1e-3)
        q = np.clip(p_live * (lognormal_cdf(age + ts, mu_a, sg_a) - fa) / still, 0.0, 1.0)
        g = p_live * lognormal_cdf(ts, mu_a, sg_a)
        self._tables = tables = _Tables(now_s, seen, ts, f_talk, f_talk * (1.0 - f_talk), f_wrap,
                                        f_wrap * (1.0 - f_wrap), q, q * (1.0 - q), g)
        return tables

    def _forecast_launch(self, snapshot: CampaignSnapshot, ready: int, cap: int, p_allow: float,
                         small: bool, allowance: float = math.inf) -> int:
        tb = self._refresh_tables(snapshot.now_s)
        ts = tb.ts

        # Supply: expected agents free by t + connect limit, and its variance.
        s_mean = np.full(ts.shape, float(ready))
        s_var = np.zeros(ts.shape)
        if snapshot.talking_elapsed_s:
            rows = _rows(snapshot.talking_elapsed_s, _TALK_STEP_S, tb.f_talk.shape[0])
            s_mean += tb.f_talk[rows].sum(axis=0)
            s_var += tb.v_talk[rows].sum(axis=0)
        if snapshot.wrapping_elapsed_s:
            rows = _rows(snapshot.wrapping_elapsed_s, _WRAP_STEP_S, tb.f_wrap.shape[0])
            s_mean += tb.f_wrap[rows].sum(axis=0)
            s_var += tb.v_wrap[rows].sum(axis=0)

        # Demand: live answers by t from calls ringing now, plus those already waiting. An
        # answer arriving in (t_{k-1}, t_k] had not answered by t_{k-1}: "the answers ahead
        # of it" leave its own out (``own``: the arrivals' own share of the count, per step).
        d_mean = np.full(ts.shape, float(snapshot.customers_waiting))
        d_var = np.zeros(ts.shape)
        own = own_var = np.zeros(ts.size - 1)
        demand = tb.q[_rows(snapshot.ringing_ages_s, _RING_STEP_S, tb.q.shape[0])]
        if snapshot.ringing_ages_s:
            d_mean += demand.sum(axis=0)
            d_var += tb.v_q[_rows(snapshot.ringing_ages_s, _RING_STEP_S, tb.q.shape[0])].sum(axis=0)
            before = demand[:, :-1]
            step = np.diff(demand, axis=1)
            own = (step * before).sum(axis=0)
            own_var = (step * before * (1.0 - before)).sum(axis=0)
        g = tb.g
        exact = small and (len(snapshot.talking_elapsed_s) + len(snapshot.wrapping_elapsed_s)
                 + len(snapshot.ringing_ages_s)) <= self.settings.exact_max_terms

        if small and cap > 0:
            # Small team: never more live answers coming than agents expected free.
            room = s_mean[-1] - d_mean[-1]
            if g[-1] > 0:
                cap = min(cap, max(int(np.floor(room / g[-1])), 0))

        waiting = snapshot.customers_waiting
        if waiting:
            # Customers already waiting with nobody free within the connect limit.
            z0 = (waiting - 0.5 - s_mean[0]) / np.sqrt(s_var[0] + 0.25)
            sunk = float(norm_cdf(np.asarray(z0)))
        else:
            sunk = 0.0
        theta = self.settings.marginal_factor * p_allow
        g_end = max(float(g[-1]), 1e-9)
        # The windows' count guard binds past the calls a ready agent covers for certain (those
        # cannot be abandoned, whatever is in flight).
        covered = max(0, ready - len(snapshot.ringing_ages_s) - snapshot.customers_waiting)
        allowance -= sunk
        if exact:
            supply = [tb.f_talk[_rows(snapshot.talking_elapsed_s, _TALK_STEP_S, tb.f_talk.shape[0])],
                      tb.f_wrap[_rows(snapshot.wrapping_elapsed_s, _WRAP_STEP_S, tb.f_wrap.shape[0])]]
            launch, expected, expected_live, base = launch_exact(
                snapshot.customers_waiting - ready, np.concatenate(supply)[:, 1:], demand[:, :-1],
                d_mean, g, cap, theta * g_end, own, allowance, covered)
            self.last_forecast = Forecast(p_allow, launch, expected + sunk, expected_live, expected - base)
            return launch
        arrivals = np.diff(d_mean)
        shares = np.divide(own, arrivals, out=np.zeros_like(own), where=arrivals > 1e-12)
        share_vars = np.divide(own_var, arrivals, out=np.zeros_like(own), where=arrivals > 1e-12)
        forecast = NormalForecast(d_mean, d_var, s_mean, s_var + _VAR_FLOOR, g, shares, share_vars, ready,
                                  len(snapshot.ringing_ages_s) + snapshot.customers_waiting)
        # Search n in blocks: most ticks launch a handful of calls, so the first block decides.
        # A call is launched while its marginal abandons per live answer stay within
        # ``marginal_factor * p_allow`` (the Lagrangian rule: cheapest abandons first).
        lo = 0
        while True:
            hi = min(lo + _BLOCK, cap)
            n = np.arange(lo, hi + 1, dtype=float)
            abandons, live = forecast.abandons(n)
            if lo == 0:
                base = float(abandons[0])
            over = (abandons[1:] > allowance) & (n[1:] > covered)
            bad = np.flatnonzero((np.diff(abandons) > theta * g_end) | over)
            if bad.size:
                launch = lo + int(bad[0])
                break
            if hi >= cap:
                launch = cap
                break
            lo = hi
        i = launch - lo
        self.last_forecast = Forecast(p_allow, launch, float(abandons[i] + sunk), float(live[i]),
                                      float(abandons[i]) - base)
        return launch


@dataclass(frozen=True, slots=True)
class _Tables:
    built_s: float
    built_seen: int
    ts: np.ndarray
    f_talk: np.ndarray
    v_talk: np.ndarray
    f_wrap: np.ndarray
    v_wrap: np.ndarray
    q: np.ndarray
    v_q: np.ndarray
    g: np.ndarray


def _rows(elapsed_s: tuple[float, ...], step_s: float, n_rows: int) -> np.ndarray:
    """Table rows for elapsed times (nearest row; past the table, its last row)."""
    idx = (np.asarray(elapsed_s) * (1.0 / step_s) + 0.5).astype(np.intp)
    return np.minimum(idx, n_rows - 1, out=idx)


def _residual_on_grid(
    elapsed: np.ndarray,
    ts: np.ndarray,
    offsets: list[float],
    cdf: Callable[[np.ndarray], np.ndarray],
    unit: float,
) -> np.ndarray:
    """The mean over ``offsets`` of P(T <= elapsed + ts + offset | T > elapsed) for T with the
    given cdf, broadcast over ``elapsed`` (a column) and ``ts`` (a row), with ``cdf`` evaluated
    once per distinct ``elapsed + ts`` instead of once per cell.

    Why: rebuilding the tables was the whole tail of the decision's latency (a rebuild took
    about 31 ms, once a minute, inside a decision; issue 12). Rows are a fixed step apart and
    the checkpoints are whole seconds, so ``elapsed + ts`` takes few distinct values on a grid
    of ``unit`` seconds (7,239 for the 82,800 cells of the talk table); each is a multiple of a
    power of two, so ``grid + offset`` is the very float the cell would have added up, and the
    table is the same to the last bit as the cell-by-cell one it replaced
    (``tests/pacing/test_forecast_tables.py`` compares).
    """
    cells = elapsed + ts  # exact: multiples of unit
    index = (cells * (1.0 / unit)).astype(np.intp)
    grid = np.arange(int(index.max()) + 1) * unit
    f_e = cdf(elapsed)
    denominator = np.maximum(1.0 - f_e, 1e-9)
    total: np.ndarray | None = None
    cell = np.empty(cells.shape)
    for offset in offsets:
        np.take(cdf(grid + offset), index, out=cell)
        np.subtract(cell, f_e, out=cell)
        np.divide(cell, denominator, out=cell)
        np.clip(cell, 0.0, 1.0, out=cell)
        if total is None:
            total = cell.copy()
        else:
            total += cell
    assert total is not None, "at least one offset"
    return total / len(offsets)
