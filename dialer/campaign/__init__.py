"""Running campaigns: engine supervisor, runner and its collaborators, hopper, outcome mapping, retry.

May import ``pacing``, ``ami``'s pure layers, ``dialer.agents``, the kernel (model, errors, ports, clock) and
``dialer.observability``; only ``dialer.app``, ``dialer.cli`` and ``dialer.api`` import the runner and engine.
"""
