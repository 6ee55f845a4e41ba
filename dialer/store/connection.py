"""The one connection pool every noun class of the store shares, and how its connections are set up.

Theory of operation: the store is one class per stored noun (campaigns, statuses, contacts,
attempts, callbacks, agents, do-not-call), each a :class:`PoolNoun` that runs its SQL on the
pool it is given and on nothing else. :func:`create_pool` makes that pool: every connection
gets the jsonb codec (:func:`init_connection`) and goes back to the pool without asyncpg's
session reset (:func:`release_connection`). :class:`dialer.store.store.Store` owns the pool's
life cycle; a noun class can also be built alone on a pool from :func:`create_pool` (tests do).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from typing import Any

import asyncpg

from config.dsn import dsn_problem
from dialer.errors import DatabaseUnreachable, StoreError


def _jsonb_encode(value: Any) -> bytes:
    # jsonb's binary wire format is a version byte (1) followed by the JSON text; binary is
    # needed so COPY (contact import) can send custom fields too.
    return b"\x01" + json.dumps(value, ensure_ascii=False).encode()


def _jsonb_decode(data: bytes) -> Any:
    return json.loads(data[1:])


async def init_connection(conn: asyncpg.Connection) -> None:
    """The pool's ``init`` hook: jsonb columns in and out as Python values (binary format)."""
    await conn.set_type_codec(
        "jsonb", encoder=_jsonb_encode, decoder=_jsonb_decode, schema="pg_catalog", format="binary"
    )


async def release_connection(conn: asyncpg.Connection) -> None:
    """The pool's ``reset`` hook: send nothing when a connection goes back to the pool.

    asyncpg's default reset sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL;`` on every release, one round trip per acquire, as many as the statement it
    follows on the engine's hot path. With a custom hook the pool still rolls back a
    transaction left open and drops listeners first (``Connection._reset``, asyncpg >= 0.30);
    what is skipped only undoes session state, and none is taken on this pool: the one advisory
    lock (migrations) is ``pg_advisory_xact_lock``, released at commit; nothing LISTENs; no
    session ``SET``; cursors live inside transactions; the import's staging table is
    ``ON COMMIT DROP``. Code that takes session state must use its own connection.
    """
    del conn


# asyncpg grew the ``reset`` argument in 0.30; older versions keep the default reset.
_POOL_RESET_KW: dict[str, Any] = (
    {"reset": release_connection} if "reset" in inspect.signature(asyncpg.create_pool).parameters else {}
)


async def create_pool(
    dsn: str, *, min_size: int = 1, max_size: int = 10, server_settings: dict[str, str] | None = None
) -> asyncpg.Pool:
    """Connect the store's pool to ``dsn`` (``server_settings``: session settings of each connection).

    The pool releases connections without asyncpg's session reset query (see
    :func:`release_connection`): one round trip less per acquire.

    Raises:
        DatabaseUnreachable: the server did not answer (worth retrying).
        StoreError: it refused us (password, database name) or the DSN is unreadable.
    """
    try:
        return await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            init=init_connection,
            server_settings=server_settings,
            **_POOL_RESET_KW,
        )
    except (
        OSError,
        TimeoutError,
        asyncpg.CannotConnectNowError,
        asyncpg.TooManyConnectionsError,
        asyncpg.ConnectionDoesNotExistError,
    ) as e:
        raise DatabaseUnreachable(f"cannot connect to the database: {type(e).__name__}: {e}") from e
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as e:
        raise StoreError(f"cannot connect to the database: {type(e).__name__}: {e}") from e
    except ValueError as e:  # the driver's DSN parser (config checks it first: config/dsn.py)
        raise StoreError(f"cannot read the database DSN: {dsn_problem(dsn) or e}") from None


class PoolNoun:
    """The base of every noun class: it holds the shared pool, and that is all it shares.

    A noun class's methods take connections from ``self.pool`` and keep their transactions to
    themselves. The attribute is public because tests, benchmarks and the contact import
    run their own SQL on the store's pool (``store.pool``).
    """

    # The AMI servers and groups the configuration names (``AmiConfig.selectable``), set by
    # whoever opens the store with a configuration: campaign ``servers`` and an agent's
    # ``server`` are checked against it; None: only their form is checked.
    known_servers: Mapping[str, tuple[str, ...]] | None = None

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
