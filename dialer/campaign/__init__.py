"""Running campaigns: engine supervisor, runner and its collaborators, hopper, outcome mapping, retry.

May import the kernel, ``pacing``, ``ami``'s pure layers, ``dialer.agents``, ``dialer.observability``; never
the store (only its port), ``ami.client`` or ``dialer.pbx``. Only the app, the CLI and the API build runners.
"""
