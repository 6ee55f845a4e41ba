"""The PostgreSQL store: connection, embedded database, migrations, and one class per stored noun.

May import ``dialer.model``, ``dialer.errors``, ``dialer.schedules``, ``dialer.contacts`` and the pure
``dialer.campaign.retry``; must never be imported by ``pacing`` or ``ami``. Import names from their modules.
"""
