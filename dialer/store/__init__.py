"""The PostgreSQL store: pool, embedded database, migrations, one class per stored noun (``Store``).

May import the kernel, ``config``, ``dialer.contacts`` and the pure ``dialer.campaign.retry``; must never be
imported by ``pacing``, ``ami``, ``dialer.agents`` or ``dialer.campaign`` (the runner sees only its port).
"""
