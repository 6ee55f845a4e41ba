"""Metrics: names, labels and scrape-time values; no phone numbers in labels."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from dialer.observability.metrics import CampaignGauges, DialerMetrics, EngineCollector, ServerGauges


def _metrics() -> tuple[CollectorRegistry, DialerMetrics, list[CampaignGauges]]:
    registry = CollectorRegistry()
    metrics = DialerMetrics(registry)
    state: list[CampaignGauges] = []
    servers = [ServerGauges("pbx1", connected=True, calls_in_flight=3, channel_limit=30)]
    metrics.add_collector(EngineCollector(lambda: list(state), lambda: servers))
    return registry, metrics, state


def test_event_counters_and_histograms() -> None:
    registry, m, _ = _metrics()
    m.attempts.labels("SALES", "busy").inc()
    m.attempts.labels("SALES", "busy").inc()
    m.decision_latency.labels("SALES").observe(0.004)
    assert registry.get_sample_value("dialer_attempts_total", {"campaign": "SALES", "outcome": "busy"}) == 2.0
    assert registry.get_sample_value("dialer_decision_latency_seconds_count", {"campaign": "SALES"}) == 1.0
    assert (
        registry.get_sample_value(
            "dialer_decision_latency_seconds_bucket", {"campaign": "SALES", "le": "0.005"}
        )
        == 1.0
    )


def test_scrape_time_gauges_follow_engine_state() -> None:
    registry, _, state = _metrics()
    state.append(
        CampaignGauges(
            "SALES",
            hopper_depth=40,
            lines_in_use=7,
            dial_level=1.6,
            predictive_fallback=False,
            agents_by_state={"talking": 5, "ready": 1},
            abandon_rate_by_window={"24h": 0.012},
        )
    )
    assert registry.get_sample_value("dialer_hopper_depth", {"campaign": "SALES"}) == 40
    assert registry.get_sample_value("dialer_agents", {"campaign": "SALES", "state": "talking"}) == 5
    assert registry.get_sample_value("dialer_abandon_rate", {"campaign": "SALES", "window": "24h"}) == 0.012
    assert registry.get_sample_value("dialer_ami_connected", {"server": "pbx1"}) == 1.0
    state[0] = CampaignGauges("SALES", 0, 0, 1.0, True)
    assert registry.get_sample_value("dialer_hopper_depth", {"campaign": "SALES"}) == 0
    assert registry.get_sample_value("dialer_predictive_fallback", {"campaign": "SALES"}) == 1.0


def test_every_metric_is_prefixed_and_labels_are_not_personal() -> None:
    registry, m, state = _metrics()
    m.attempts.labels("SALES", "connected").inc()
    state.append(CampaignGauges("SALES", 1, 1, 1.0, False, {"ready": 1}, {"30d": 0.0}))
    text = generate_latest(registry).decode()
    names = {
        line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")
    }
    assert names and all(n.startswith("dialer_") for n in names)
    label_names = {
        part.split("=")[0]
        for line in text.splitlines()
        if "{" in line and not line.startswith("#")
        for part in line[line.index("{") + 1 : line.index("}")].split(",")
    }
    assert label_names <= {"campaign", "outcome", "state", "window", "server", "le"}
