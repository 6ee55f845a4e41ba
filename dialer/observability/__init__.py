"""What the engine shows about itself: Prometheus metrics, the metrics endpoint, structured logs.

May import ``config`` and ``prometheus_client``; reads engine state only through the gauges it is handed.
Must never import ``dialer.campaign``, ``dialer.store`` or ``dialer.cli``.
"""
