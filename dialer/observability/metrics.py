"""Prometheus metrics of the engine, on an injected registry.

Events (attempts, answers, abandons, latencies) are counters and histograms updated where
they happen. Levels that describe the engine's current state (hopper depth, agents by state,
dial level, abandon rate, AMI connection state) are read at scrape time by
:class:`EngineCollector` from providers the composition root hands it, so they are never
stale and cost nothing between scrapes (prometheus_client's custom-collector pattern).

Labels are campaign names, outcomes, states, windows and server names: never a phone
number, a contact name or an agent's personal data (our security rule).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# Buckets for "agent free -> next call connected" (seconds): a good predictive dialer keeps
# this near the wrap-up end, a progressive one near answer time (~5-15 s).
_WAIT_BUCKETS = (0.5, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 300)
# Runner decision latency (seconds): the budget is 50 ms at p99 (engine issue).
_DECISION_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
# HTTP API, request in to response headers out (seconds): issue 9's goal is p99 < 50 ms.
_API_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def api_latency_sink(metrics: DialerMetrics) -> Callable[[str, str, float], None]:
    """What the API calls with each request's (route template, method, seconds)."""

    def observe(route: str, method: str, seconds: float) -> None:
        metrics.api_latency.labels(route=route, method=method).observe(seconds)

    return observe


@dataclass(frozen=True, slots=True)
class CampaignGauges:
    """One campaign's current levels, as the runner sees them at scrape time."""

    campaign: str
    hopper_depth: int
    lines_in_use: int
    dial_level: float
    predictive_fallback: bool
    agents_by_state: dict[str, int] = field(default_factory=dict)
    abandon_rate_by_window: dict[str, float] = field(default_factory=dict)
    learned_answer_rate: float | None = None
    learned_talk_mean_s: float | None = None
    schedule_open: bool = True


@dataclass(frozen=True, slots=True)
class ServerGauges:
    """One Asterisk server's connection state and load."""

    server: str
    connected: bool
    calls_in_flight: int
    channel_limit: int


class EngineCollector(Collector):
    """Scrape-time gauges read from the running engine."""

    def __init__(
        self,
        campaigns: Callable[[], Iterable[CampaignGauges]],
        servers: Callable[[], Iterable[ServerGauges]],
    ) -> None:
        self._campaigns = campaigns
        self._servers = servers

    def collect(self) -> Iterator[Metric]:
        c = ["campaign"]
        hopper = GaugeMetricFamily("dialer_hopper_depth", "Leased contacts waiting to be dialled", labels=c)
        lines = GaugeMetricFamily("dialer_lines_in_use", "Calls in progress", labels=c)
        level = GaugeMetricFamily(
            "dialer_dial_level", "Lines per available agent the pacer aims at", labels=c
        )
        fallback = GaugeMetricFamily(
            "dialer_predictive_fallback", "1 while a predictive campaign dials progressively", labels=c
        )
        agents = GaugeMetricFamily("dialer_agents", "Agents by state", labels=["campaign", "state"])
        rate = GaugeMetricFamily(
            "dialer_abandon_rate",
            "Abandoned / live answers over a rolling window",
            labels=["campaign", "window"],
        )
        answer = GaugeMetricFamily("dialer_learned_answer_rate", "Learned P(person answers)", labels=c)
        talk = GaugeMetricFamily("dialer_learned_talk_seconds", "Learned mean talk time", labels=c)
        open_ = GaugeMetricFamily("dialer_schedule_open", "1 while the campaign's schedule is open", labels=c)
        for g in self._campaigns():
            hopper.add_metric([g.campaign], g.hopper_depth)
            lines.add_metric([g.campaign], g.lines_in_use)
            level.add_metric([g.campaign], g.dial_level)
            fallback.add_metric([g.campaign], 1.0 if g.predictive_fallback else 0.0)
            open_.add_metric([g.campaign], 1.0 if g.schedule_open else 0.0)
            for state, n in sorted(g.agents_by_state.items()):
                agents.add_metric([g.campaign, state], n)
            for window, value in sorted(g.abandon_rate_by_window.items()):
                rate.add_metric([g.campaign, window], value)
            if g.learned_answer_rate is not None:
                answer.add_metric([g.campaign], g.learned_answer_rate)
            if g.learned_talk_mean_s is not None:
                talk.add_metric([g.campaign], g.learned_talk_mean_s)
        s = ["server"]
        up = GaugeMetricFamily("dialer_ami_connected", "1 while the AMI connection is logged in", labels=s)
        inflight = GaugeMetricFamily("dialer_ami_calls_in_flight", "Calls originated and not ended", labels=s)
        limit = GaugeMetricFamily("dialer_ami_channel_limit", "Configured channel limit", labels=s)
        for sv in self._servers():
            up.add_metric([sv.server], 1.0 if sv.connected else 0.0)
            inflight.add_metric([sv.server], sv.calls_in_flight)
            limit.add_metric([sv.server], sv.channel_limit)
        yield from (hopper, lines, level, fallback, agents, rate, answer, talk, open_, up, inflight, limit)


# The causes of dialer_default_dispositions_total (dialer.agents.state.ApplyDefaultDisposition).
DEFAULT_DISPOSITION_CAUSES = ("timeout", "queue_call", "no_agent")


class DialerMetrics:
    """The engine's event metrics, registered on ``registry`` (tests pass a fresh one)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.attempts = Counter(
            "dialer_attempts", "Finished call attempts by outcome", ["campaign", "outcome"], registry=registry
        )
        self.live_answers = Counter(
            "dialer_live_answers",
            "Calls a person answered (AMD human or no AMD)",
            ["campaign"],
            registry=registry,
        )
        self.abandons = Counter(
            "dialer_abandons",
            "Live answers with no agent within the connect limit",
            ["campaign"],
            registry=registry,
        )
        self.dial_refusals = Counter(
            "dialer_dial_refusals",
            "Leased contacts not dialled because a rule refused them at dial time, by rule",
            ["campaign", "reason"],
            registry=registry,
        )
        self.default_dispositions = Counter(
            "dialer_default_dispositions",
            "Answered calls given the campaign's default status, not an agent's, by cause"
            " (timeout, queue_call: a queue call reached the agent in wrap-up, no_agent)",
            ["campaign", "cause"],
            registry=registry,
        )
        self.originate_errors = Counter(
            "dialer_originate_errors",
            "Originate actions refused or lost",
            ["campaign", "server"],
            registry=registry,
        )
        self.ami_reconnects = Counter(
            "dialer_ami_reconnects",
            "AMI reconnections after a lost connection",
            ["server"],
            registry=registry,
        )
        self.ami_garbled = Counter(
            "dialer_ami_garbled_messages", "AMI messages skipped as unreadable", ["server"], registry=registry
        )
        self.queue_missing = Gauge(
            "dialer_campaign_queue_missing",
            "1 while the campaign's Asterisk queue does not exist on a connected server (nothing is dialled)",
            ["campaign"],
            registry=registry,
        )
        self.agent_wait = Histogram(
            "dialer_agent_free_to_connect_seconds",
            "Time from an agent becoming free to the next call connected to them",
            ["campaign"],
            buckets=_WAIT_BUCKETS,
            registry=registry,
        )
        self.decision_latency = Histogram(
            "dialer_decision_latency_seconds",
            "Runner decision tick: snapshot, pacing decision and launching calls",
            ["campaign"],
            buckets=_DECISION_BUCKETS,
            registry=registry,
        )
        self.api_latency = Histogram(
            "dialer_api_request_seconds",
            "HTTP API: request received to response headers sent (event streams: to their opening)",
            ["route", "method"],
            buckets=_API_BUCKETS,
            registry=registry,
        )

        # Several engines on one database (issue 15): labelled by engine id, never by a number.
        e = ["engine"]
        self.engine_campaigns = Gauge(
            "dialer_engine_campaigns_owned", "Campaigns this engine owns", e, registry=registry
        )
        self.engine_calls = Gauge(
            "dialer_engine_calls_in_progress", "Calls from attempt row to end", e, registry=registry
        )
        self.engine_heartbeat = Gauge(
            "dialer_engine_heartbeat_timestamp_seconds",
            "When this engine last refreshed its ownership in the database (Unix time)",
            e,
            registry=registry,
        )
        self.campaigns_unowned = Gauge(
            "dialer_campaigns_unowned",
            "Running campaigns with an open schedule that no live engine owns, as this engine sees them",
            e,
            registry=registry,
        )
        self.takeovers = Counter(
            "dialer_engine_takeovers",
            "Campaigns this engine took from another engine (expired or handed back)",
            e,
            registry=registry,
        )
        self.ownership_lost = Counter(
            "dialer_engine_ownership_lost",
            "Campaigns another engine took from this one while it ran them",
            e,
            registry=registry,
        )

    def export_campaign(self, campaign: str, outcomes: Iterable[str]) -> None:
        """Export a campaign's event counters at 0 before its first event.

        A counter with labels appears only once a label set is used, so ``dialer_abandons_total``
        of a campaign that never abandoned was absent: the dashboard showed "No data" instead
        of 0 and ``rate()`` had nothing to start from (issue 16).
        """
        self.live_answers.labels(campaign)
        self.abandons.labels(campaign)
        for outcome in outcomes:
            self.attempts.labels(campaign, outcome)
        for cause in DEFAULT_DISPOSITION_CAUSES:
            self.default_dispositions.labels(campaign, cause)

    def add_collector(self, collector: Collector) -> None:
        self.registry.register(collector)
