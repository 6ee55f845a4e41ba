"""``python -m dialer.cli``: the ``dialer`` console script, for subprocesses and benchmarks."""

from dialer.cli.main import main

raise SystemExit(main())
