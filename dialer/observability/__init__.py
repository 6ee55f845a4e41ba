"""What the engine shows about itself: Prometheus metrics, the metrics endpoint, structured logs.

May import ``config`` and ``dialer.errors``; reads engine state only through the gauges it is handed, so it
never imports ``dialer.campaign``, ``dialer.store`` or ``dialer.cli``.
"""
