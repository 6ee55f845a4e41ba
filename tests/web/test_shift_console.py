"""A supervisor's and an administrator's shift without the CLI, in a real browser against the
real engine: the header's menus fit an administrator's seventeen screens in one line at 1280 px
(and wrap under the title on a narrow window); the compliance audit of `dialer compliance
report` with the retention of `dialer db prune`; the engines of `dialer engines`; a contact
import showing its progress while the engine works the file, then the rejected lines."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from playwright.async_api import Page, expect

from dialer.model import DialingMode
from dialer.store.users import Role
from tests.dialer.api.test_shift_parity import NOON, big_csv, closed_attempt
from tests.web.conftest import Console


async def _admin(console: Console, width: int = 1280, height: int = 800) -> Page:
    await console.rig.user("root", Role.ADMIN)
    page = await console.page()
    await page.set_viewport_size({"width": width, "height": height})
    await console.sign_in(page, "root")
    return page


async def _middles(page: Page, selector: str) -> list[float]:
    """The vertical middle of each element: one row of a centred flex line has one middle."""
    middle = "(e) => { const r = e.getBoundingClientRect(); return (r.top + r.bottom) / 2; }"
    return await page.eval_on_selector_all(selector, f"els => els.map({middle})")


async def test_the_header_fits_an_administrators_screens_at_1280_and_wraps_when_narrow(
    console: Console,
) -> None:
    page = await _admin(console)
    header = page.locator("header.top")
    await expect(page.locator("main h1")).to_be_visible()  # the first screen is up
    # one line: every item of the header on the same row, nothing wider than the window (the
    # layout is read again for up to 5 s: a stylesheet or the catalogue may still be arriving)
    for _ in range(50):
        middles = await _middles(page, "header.top > *, header.top nav > *")
        if max(middles) - min(middles) < 4:
            break
        await page.wait_for_timeout(100)
    assert max(middles) - min(middles) < 4, middles
    assert (await header.bounding_box() or {"height": 999})["height"] < 56
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # every screen is reachable: the menus hold the rest
    links = await page.eval_on_selector_all("header nav a", "els => els.map((e) => e.hash)")
    assert {"#/wallboard", "#/campaigns", "#/users", "#/compliance", "#/engines", "#/import"} <= set(links)
    await page.click("header nav details[data-group=contacts] summary")
    await expect(page.locator("header nav details[data-group=contacts] a[href='#/import']")).to_be_visible()
    await console.shot(page, "header-menu")
    await page.click("header nav details[data-group=contacts] a[href='#/import']")
    await expect(page.locator("main h1")).to_have_text("Import")
    await expect(page.locator("header nav details[open]")).to_have_count(0)  # a pick closes the menu
    await expect(page.locator("header nav details[data-group=contacts]")).to_have_class(re.compile("active"))
    # narrow: the navigation takes a row of its own under the title, still inside the window
    await page.set_viewport_size({"width": 700, "height": 800})
    await expect(page.locator("header nav")).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    nav_top = (await page.locator("header nav").bounding_box() or {"y": 0})["y"]
    brand_top = (await page.locator("header .brand").bounding_box() or {"y": 0})["y"]
    assert nav_top > brand_top + 10
    await console.shot(page, "header-narrow")


async def test_the_compliance_audit_and_the_retention_of_records(console: Console) -> None:
    rig = console.rig
    camp = await rig.campaign("AUDYT", "q-other", DialingMode.PREVIEW)
    short = await closed_attempt(rig, camp, NOON, "no_answer", ring_s=5.0)
    await closed_attempt(rig, camp, NOON + dt.timedelta(minutes=5), "no_answer", ring_s=30.0)
    page = await _admin(console)
    await console.open_screen(page, "compliance")
    await page.select_option("#cp-campaign", camp)
    await page.click("#compliance-go")
    short_row = page.locator("#compliance-report tr[data-rule=ring_under_15s]")
    await expect(short_row).to_have_attribute("data-violations", "1")
    await expect(short_row).to_contain_text(str(short))
    await expect(page.locator("#compliance-report tr[data-rule=do_not_call]")).to_have_attribute(
        "data-violations", "0"
    )
    await expect(page.locator("#compliance-verdict")).to_have_text("Violations: 1")
    await console.shot(page, "admin-compliance")
    # retention: the store's six months whoever asks; then a real cut
    page.on("dialog", lambda d: d.accept())
    await page.fill("#prune-days", "90")
    await page.click("#prune-go")
    await expect(page.locator("#admin-message")).to_contain_text("183")
    await page.fill("#prune-days", "400")
    await page.click("#prune-go")
    await expect(page.locator("#prune-result")).to_contain_text("Deleted 0 attempts")
    await expect(page.locator("#prune-result")).to_contain_text("minutes of agent time")
    await console.shot(page, "admin-compliance-pruned")

    # a supervisor runs the audit but is not offered the deletion
    await rig.user("sue", Role.SUPERVISOR)
    sup = await console.page()
    await console.sign_in(sup, "sue")
    await console.open_screen(sup, "compliance")
    await expect(sup.locator("#compliance-form")).to_be_visible()
    await expect(sup.locator("#retention")).to_have_count(0)


async def test_the_engines_sharing_the_database(console: Console) -> None:
    page = await _admin(console)
    await console.open_screen(page, "engines")
    me = page.locator("#engine-list tr[data-engine=api-test]")
    await expect(me).to_have_attribute("data-alive", "true")
    await expect(me).to_contain_text("alive")
    await console.shot(page, "admin-engines")


async def test_an_import_shows_its_progress_then_the_rejected_lines(console: Console, tmp_path: Path) -> None:
    rig = console.rig
    await rig.campaign("DUZA", "q-other", DialingMode.PREVIEW)
    total = 40_000
    csv = tmp_path / "duza.csv"
    csv.write_bytes(big_csv(total, {7: "12", 33_333: "zły numer"}))
    page = await _admin(console)
    await console.open_screen(page, "import")
    await page.select_option("#imp-campaign", "DUZA")
    await page.set_input_files("#imp-file", str(csv))
    await page.uncheck("#imp-dry-run")
    # every text the progress line shows, as it changes
    await page.evaluate("""() => {
      window.seenProgress = [];
      new MutationObserver(() => {
        const c = document.getElementById('imp-counts');
        if (c && c.textContent) window.seenProgress.push(c.textContent);
      }).observe(document.getElementById('imp-progress'),
                 { subtree: true, childList: true, characterData: true });
    }""")
    await page.click("#import-go")
    counts = page.locator("#imp-counts")
    await expect(counts).to_contain_text(re.compile(r"[1-9]\d* imported"))
    await console.shot(page, "admin-import-progress")
    report = page.locator("#import-report")
    await expect(report).to_contain_text("Import result", timeout=120_000)
    await expect(report.locator("tr[data-line='7']")).to_be_visible()
    await expect(report.locator("tr[data-line='33333']")).to_be_visible()
    await expect(page.locator("#admin-message")).to_contain_text(
        f"{total - 2} rows imported into DUZA, 2 rejected"
    )
    seen = await page.evaluate("window.seenProgress")
    imported = [int(m.group(1)) for s in seen if (m := re.search(r"(\d+) imported", s))]
    assert any(0 < n < total - 2 for n in imported), seen  # seen while the engine worked
    assert imported == sorted(imported)


async def test_a_supervisor_sees_a_campaigns_callbacks_their_history_moves_and_cancels_them(
    console: Console,
) -> None:
    rig = console.rig
    await rig.campaign("PÓŹNIEJ", "q-other", DialingMode.PREVIEW)
    first = await rig.store.add_contact("PÓŹNIEJ", ["+48540003201"], name="Jan Kowalski")
    second = await rig.store.add_contact("PÓŹNIEJ", ["+48540003202"], name="Ola Nowak")
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    moving = await rig.store.schedule_callback(
        first, due_at=tomorrow, window_end_at=tomorrow + dt.timedelta(hours=1)
    )
    going = await rig.store.schedule_callback(second, due_at=tomorrow + dt.timedelta(hours=2))
    await rig.user("sue", Role.SUPERVISOR)
    page = await console.page()
    await console.sign_in(page, "sue")
    await console.open_screen(page, "callbacks")
    await page.select_option("#cb-campaign", "PÓŹNIEJ")
    await page.click("#callback-search-go")
    rows = page.locator("#callback-list tbody tr")
    await expect(rows).to_have_count(2)
    row = page.locator(f"#callback-list tr[data-callback='{moving.id}']")
    await expect(row).to_contain_text("Jan Kowalski")
    # reschedule: the agent desktop's form, to 14:00-15:00 the day after, in UTC
    await row.get_by_role("button", name="Reschedule").click()
    later = tomorrow + dt.timedelta(days=1)
    await page.fill("#rs-date", later.date().isoformat())
    await page.fill("#rs-from", "14:00")
    await page.fill("#rs-to", "15:00")
    await page.select_option("#rs-zone", "UTC")
    await page.click("#rs-save")
    await expect(page.locator("#admin-message")).to_contain_text(f"Callback {moving.id} moved to")
    moved = await rig.store.get_callback(moving.id)
    assert (later.replace(hour=14), later.replace(hour=15)) == (moved.due_at, moved.window_end_at)
    await row.get_by_role("button", name="History").click()
    history = page.locator("#callback-history tbody tr")
    await expect(history).to_have_count(2)
    await expect(history.nth(1)).to_contain_text("supervisor:sue")
    await console.shot(page, "admin-callbacks")
    page.on("dialog", lambda d: d.accept())
    await (
        page.locator(f"#callback-list tr[data-callback='{going.id}']")
        .get_by_role("button", name="Cancel")
        .click()
    )
    await expect(page.locator("#admin-message")).to_contain_text(f"Callback {going.id} cancelled.")
    await expect(rows).to_have_count(1)
    assert "cancelled" == (await rig.store.get_callback(going.id)).state
