"""The shipped dashboard and alert rules only use metrics the engine exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest

from dialer.observability.metrics import CampaignGauges, DialerMetrics, EngineCollector, ServerGauges

MONITORING = Path(__file__).resolve().parents[1] / "config" / "monitoring"
_SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


def _exported_names() -> set[str]:
    registry = CollectorRegistry()
    m = DialerMetrics(registry)
    m.add_collector(
        EngineCollector(
            lambda: [CampaignGauges("c", 1, 1, 1.0, False, {"ready": 1}, {"24h": 0.0}, 0.3, 100.0)],
            lambda: [ServerGauges("s", True, 0, 1)],
        )
    )
    events = (m.attempts, m.live_answers, m.abandons, m.originate_errors, m.dial_refusals)
    for c in (*events, m.default_dispositions):
        c.labels(*(["x"] * len(c._labelnames))).inc()
    for c in (m.ami_reconnects, m.ami_garbled, m.takeovers, m.ownership_lost):
        c.labels("s").inc()
    for g in (m.engine_campaigns, m.engine_calls, m.engine_heartbeat, m.campaigns_unowned):
        g.labels("e").set(1)
    m.agent_wait.labels("c").observe(1)
    m.decision_latency.labels("c").observe(0.001)
    text = generate_latest(registry).decode()
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and line[0] != "#"}


def _referenced(text: str) -> set[str]:
    return set(re.findall(r"\bdialer_[a-z_]+", text))


def test_alert_rules_use_exported_metrics() -> None:
    names = _exported_names()
    refs = _referenced((MONITORING / "alerts.yml").read_text())
    assert {"dialer_abandon_rate", "dialer_ami_connected", "dialer_hopper_depth"} <= refs
    assert refs <= names, refs - names


def test_dashboard_is_json_and_uses_exported_metrics() -> None:
    dash = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    exprs = " ".join(t["expr"] for p in dash["panels"] for t in p["targets"])
    refs = _referenced(exprs)
    names = _exported_names()
    assert refs and refs <= names, refs - names
    assert all(n.endswith(_SUFFIXES) or n in names for n in refs)


def _label_values(text: str, metric: str, label: str) -> set[str]:
    """Every value a selector on ``metric`` matches ``label`` against (``=`` or ``=~`` alternatives)."""
    values: set[str] = set()
    for selector in re.findall(rf"\b{metric}\{{([^}}]*)\}}", text):
        for _op, pattern in re.findall(rf'\b{label}\s*(=~|=)\s*"([^"]*)"', selector):
            values.update(pattern.split("|"))
    return values


def test_agent_state_selectors_name_states_the_engine_exports() -> None:
    """The alert matched ``wrapup`` while the label value is ``wrap_up``: it never fired (issue 16)."""
    from dialer.agents.state import AgentState

    real = {s.value for s in AgentState}
    alerts = _label_values((MONITORING / "alerts.yml").read_text(), "dialer_agents", "state")
    dash = _label_values((MONITORING / "grafana-dashboard.json").read_text(), "dialer_agents", "state")
    assert "wrap_up" in alerts
    assert alerts | dash <= real, (alerts | dash) - real


def test_the_default_disposition_causes_exported_are_the_boards() -> None:
    from typing import get_args

    from dialer.agents.state import DefaultDispositionCause
    from dialer.observability.metrics import DEFAULT_DISPOSITION_CAUSES

    assert get_args(DefaultDispositionCause) == DEFAULT_DISPOSITION_CAUSES


def test_a_campaign_counters_are_exported_at_zero_before_any_call() -> None:
    from dialer.campaign.closing import OutcomeTally

    registry = CollectorRegistry()
    OutcomeTally("SALES", DialerMetrics(registry))
    text = generate_latest(registry).decode()
    for line in (
        'dialer_abandons_total{campaign="SALES"} 0.0',
        'dialer_live_answers_total{campaign="SALES"} 0.0',
        'dialer_attempts_total{campaign="SALES",outcome="busy"} 0.0',
        'dialer_default_dispositions_total{campaign="SALES",cause="queue_call"} 0.0',
    ):
        assert line in text
