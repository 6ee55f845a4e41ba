"""The PostgreSQL store: every read and write of the campaign data model goes through here.

One :class:`Store` wraps an asyncpg pool. All SQL is parameterised; identifiers never come
from input. Database constraint violations that the user caused come back as
:class:`~dialer.errors.ValidationError` naming the field; anything else is a
:class:`~dialer.errors.StoreError`.

Theory of operation: the SQL lives in one class per stored noun, each in its module and each
a :class:`~dialer.store.connection.PoolNoun` that holds the shared pool and nothing else:

* :class:`~dialer.store.campaigns.Campaigns`: campaigns and the schedules they dial in;
* :class:`~dialer.store.statuses.Statuses`: the status dictionary, campaign statuses, retry rules;
* :class:`~dialer.store.contacts.Contacts`: contacts, their numbers, leasing, transfer;
* :class:`~dialer.store.attempts.Attempts`: attempts, outcomes, dispositions;
* :class:`~dialer.store.callbacks.Callbacks`: callbacks and callback slots;
* :class:`~dialer.store.callback_grid.CallbackGrids`: the campaigns' callback slot grids;
* :class:`~dialer.store.web_callbacks.WebCallbacks`: web callback sites and requests;
* :class:`~dialer.store.agents.Agents`: agents and their campaigns;
* :class:`~dialer.store.dnc.DoNotCall`: the do-not-call lists;
* :class:`~dialer.store.history.History`: what pacing remembers of a campaign's calls.
* :class:`~dialer.store.compliance.Audit`: the compliance audit report, record retention.
* :class:`~dialer.store.users.Users`: the HTTP API's users and their tokens.
* :class:`~dialer.store.owners.Owners`: the engines and which campaign each owns (issue 15).
* :class:`~dialer.store.reminders.Reminders`, :class:`~dialer.store.reminder_sends.ReminderSends`:
  the reminder service's rules and templates, its sends and their log.
* :class:`~dialer.store.contact_search.ContactSearch`, :class:`~dialer.store.attempt_log.AttemptLog`,
  :class:`~dialer.store.reports.Reports`, :class:`~dialer.store.imports.Imports`: contacts and
  attempts read back, the operator's report, CSV import (the CLI's and the API's one service).
* :class:`~dialer.store.day_chart.DayCharts`: the agent time the runners write and the
  wallboard's day chart.

:class:`Store` owns the pool's life cycle (:meth:`Store.open` connects and migrates,
:meth:`Store.close`) and *inherits* every noun class, rather than holding them as attributes
and delegating. Why: each ``store.method(...)`` the engine, the CLI and the tests call stays
the very method the noun class defines, and ``Store`` satisfies
:class:`dialer.ports.ContactStore` structurally, with no forwarding layer; delegating would
repeat some forty signatures (a third copy next to the port and the benchmarks' in-memory
store) that must be kept in step, and add a coroutine frame per call on the engine's hot
path. It is safe because the noun classes share no state but ``self.pool`` (one
``__init__``, :class:`~dialer.store.connection.PoolNoun`'s) and no method names
(``tests/dialer/store/test_nouns.py`` guards that, since the MRO would pick one silently);
what one noun needs of another it reads with a module function on the caller's connection
(:func:`~dialer.store.campaigns.campaign_id_of`, :func:`~dialer.store.statuses.campaign_status_row`),
inside the caller's transaction. A noun class also works alone on a pool from
:func:`~dialer.store.connection.create_pool`.
"""

from __future__ import annotations

from dialer.store import migrate
from dialer.store.agents import Agents
from dialer.store.attempt_log import AttemptLog
from dialer.store.attempts import Attempts
from dialer.store.callback_grid import CallbackGrids
from dialer.store.callbacks import Callbacks
from dialer.store.campaigns import Campaigns
from dialer.store.compliance import Audit
from dialer.store.connection import create_pool
from dialer.store.contact_search import ContactSearch
from dialer.store.contacts import Contacts
from dialer.store.day_chart import DayCharts
from dialer.store.dnc import DoNotCall
from dialer.store.history import History
from dialer.store.imports import Imports
from dialer.store.owners import Owners
from dialer.store.reminder_sends import ReminderSends
from dialer.store.reminders import Reminders
from dialer.store.reports import Reports
from dialer.store.statuses import Statuses
from dialer.store.users import Users
from dialer.store.web_callbacks import WebCallbacks


class Store(
    Campaigns, Statuses, Contacts, Attempts, Callbacks, CallbackGrids, WebCallbacks, Agents, DoNotCall,
    History, Audit, Users, Reminders, ReminderSends, ContactSearch, AttemptLog, Reports, Imports, Owners,
    DayCharts,
):  # fmt: skip
    """The campaign database. Build with :meth:`open`; ``close()`` when done."""

    @classmethod
    async def open(
        cls,
        dsn: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        migrate_now: bool = True,
        server_settings: dict[str, str] | None = None,
    ) -> Store:
        """Connect a pool to ``dsn`` and (by default) apply pending migrations.

        The pool releases connections without asyncpg's session reset query (see
        :func:`~dialer.store.connection.release_connection`): one round trip less per acquire.

        Raises:
            StoreError: the server is unreachable or a migration failed.
        """
        pool = await create_pool(dsn, min_size=min_size, max_size=max_size, server_settings=server_settings)
        store = cls(pool)
        if migrate_now:
            try:
                await store.migrate()
            except BaseException:
                await pool.close()
                raise
        return store

    async def close(self) -> None:
        await self.pool.close()

    async def migrate(self) -> list[migrate.Migration]:
        async with self.pool.acquire() as conn:
            return await migrate.migrate(conn)
