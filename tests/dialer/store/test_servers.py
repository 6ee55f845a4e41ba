"""A campaign's servers and an agent's server (issue 15 item 3): stored, and checked against
the configured servers and groups (``Store.known_servers``) with errors naming the field."""

from __future__ import annotations

import pytest

from dialer.errors import ValidationError
from dialer.store.store import Store
from tests.dialer.conftest import make_campaign, unique

KNOWN = {"pbx1": ("pbx1",), "pbx2": ("pbx2",), "east": ("pbx1", "pbx2")}


async def test_campaign_servers_are_stored_deduplicated_and_checked(store: Store) -> None:
    store.known_servers = KNOWN
    name = await make_campaign(store, servers=(" east", "pbx2", "east"))
    assert ("east", "pbx2") == (await store.get_campaign(name)).servers
    with pytest.raises(ValidationError) as err:
        await store.update_campaign(name, servers=("pbx9",))
    assert ("servers", "pbx9") == (err.value.field, err.value.value)
    assert "configured: east, pbx1, pbx2" in str(err.value)
    with pytest.raises(ValidationError, match="letters, digits"):
        await store.update_campaign(name, servers=("pbx 1",))
    assert ("east", "pbx2") == (await store.get_campaign(name)).servers  # nothing half-written
    assert () == (await store.update_campaign(name, servers=())).servers  # every server
    with pytest.raises(ValidationError):
        await make_campaign(store, servers=("west",))


async def test_without_a_configuration_only_the_form_is_checked(store: Store) -> None:
    store.known_servers = None
    name = await make_campaign(store, servers=("anywhere",))
    assert ("anywhere",) == (await store.get_campaign(name)).servers


async def test_an_agent_names_one_server_not_a_group(store: Store) -> None:
    store.known_servers = KNOWN
    agent = await store.create_agent(unique("ag"), "PJSIP/7001", server="pbx1")
    assert "pbx1" == agent.server
    with pytest.raises(ValidationError) as err:
        await store.update_agent(agent.name, server="east")
    assert ("server", "east") == (err.value.field, err.value.value)
    assert "configured: pbx1, pbx2" in str(err.value)
    with pytest.raises(ValidationError):
        await store.create_agent(unique("ag"), server="nope")
    assert "" == (await store.update_agent(agent.name, server="")).server
    assert "pbx2" == (await store.update_agent(agent.name, server="pbx2")).server
    assert "pbx2" == (await store.get_agent(agent.name)).server
    assert "pbx2" == next(a.server for a in await store.list_agents() if a.name == agent.name)
