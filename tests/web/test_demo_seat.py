"""``dialer demo`` with its browser seat: the console's address and one-run logins are printed,
they work while the demo runs (a person's agent and the wallboard beside ten simulated agents),
and they are gone when it ends."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

import httpx
from playwright.async_api import async_playwright, expect

from config import load_config
from dialer.cli.demo import DemoOptions, demo_config, run_demo
from dialer.cli.demo_seat import SEAT_AGENT, SEAT_SUPERVISOR
from dialer.store.store import Store
from tests.dialer.api.conftest import wait_for
from tests.dialer.cli.test_demo import free_port
from tests.web.conftest import CHROMIUM, SHOTS


async def test_demo_prints_the_console_and_one_run_logins_that_work_while_it_runs(
    api_dsn: str, tmp_path: Path
) -> None:
    dsn = api_dsn
    cfg = demo_config(load_config(env={"DIALER_HOME": str(tmp_path / "home")}), dsn)
    out = io.StringIO()
    port = free_port()
    opts = DemoOptions(
        duration_s=30, agents=10, metrics_port=0, api_port=port, contacts=600, browser_seat=True
    )
    demo = asyncio.create_task(run_demo(cfg, opts, out=out))
    await wait_for(lambda: "wallboard:" in out.getvalue() or demo.done(), timeout_s=60, what="the logins")
    text = out.getvalue()
    assert f"console on http://127.0.0.1:{port}/" in text, text
    agent_password = re.search(rf"user {SEAT_AGENT}, password (\S+)", text)
    board_password = re.search(rf"user {SEAT_SUPERVISOR}, password (\S+)", text)
    assert agent_password and board_password, text
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        page = await client.get("/")
        assert 200 == page.status_code and '<script type="module" src="/console/js/main.js">' in page.text
        r = await client.post("/api/v1/auth/login", json={"name": SEAT_AGENT, "password": agent_password[1]})
        assert 200 == r.status_code, r.text
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        assert ["DEMO"] == [
            c["name"] for c in (await client.get("/api/v1/campaigns", headers=headers)).json()
        ]
        r = await client.post(f"/api/v1/agents/{SEAT_AGENT}/login", headers=headers, json={"paused": True})
        assert 200 == r.status_code and "paused" == r.json()["campaigns"][0]["state"], r.text
    async with async_playwright() as pw:  # the wallboard of the demo's ten simulated agents
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            board = await browser.new_page(viewport={"width": 1280, "height": 900})
            await board.goto(f"http://127.0.0.1:{port}/")
            await board.fill("#login-name", SEAT_SUPERVISOR)
            await board.fill("#login-password", board_password[1])
            await board.click("#login-submit")
            card = board.locator("[data-campaign=DEMO]")
            await expect(card.locator("tr[data-agent=demo-agent-1]")).to_be_visible()
            await expect(card.locator(f"tr[data-agent={SEAT_AGENT}]")).to_contain_text("Paused")
            await asyncio.sleep(6)  # some calls for the figures and the chart
            SHOTS.mkdir(parents=True, exist_ok=True)
            await board.screenshot(path=str(SHOTS / "wallboard.png"), full_page=True)
        finally:
            await browser.close()
    assert 0 == await demo
    store = await Store.open(dsn, min_size=1, max_size=1)
    try:
        names = {u.name for u in await store.list_users()}
    finally:
        await store.close()
    assert not {SEAT_AGENT, SEAT_SUPERVISOR} & names  # one run only
