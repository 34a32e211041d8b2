"""The operator dashboard in Debian's Chromium against a real ``slicefarm serve`` (demo farm).

The tests of this module share one tab (see conftest) and run in file order: login, the wall,
the plan, an upload that prints with moving progress, operator actions on printers, the queue's
cancel and retry, a to-do click that loads a filament, then the page's pure helpers evaluated
in the same tab. Screenshots land in tests/artifacts/.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.browser

CUBE = Path(__file__).resolve().parents[2] / "samples" / "models" / "xyz_cube_20mm.stl"
UPLOAD_NAME = "dashboard_cube.stl"
SECOND_MS = 1000


def card(page, printer_id: str):
    return page.locator(f'.card[data-printer="{printer_id}"]')


def test_dashboard_files_need_no_key_but_data_does(farm):
    assert httpx.get(f"{farm.url}/", timeout=5).headers["content-type"].startswith("text/html")
    script = httpx.get(f"{farm.url}/static/js/main.js", timeout=5)
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert httpx.get(f"{farm.url}/static/../dashboard.py", timeout=5).status_code == 404
    assert httpx.get(f"{farm.url}/static/%2e%2e/dashboard.py", timeout=5).status_code == 404
    assert httpx.get(f"{farm.url}/api/printers", timeout=5).status_code in (401, 403)


def test_without_a_key_the_login_shows_and_no_data(browser, farm, artifacts):
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    tab = context.new_page()
    data_calls: list[str] = []
    tab.on("request", lambda r: data_calls.append(r.url) if "/api/" in r.url else None)
    tab.goto(f"{farm.url}/")
    tab.locator("#login-key").wait_for()
    assert tab.locator(".card").count() == 0
    assert data_calls == []
    tab.fill("#login-key", "not-the-key")
    tab.click("#login-form button[type=submit]")
    tab.locator("#login-error", has_text="refused").wait_for()
    tab.screenshot(path=str(artifacts / "dashboard-login-refused.png"))
    assert tab.locator("#app").is_hidden()
    tab.fill("#login-key", farm.key)
    tab.click("#login-form button[type=submit]")
    tab.locator(".card").first.wait_for()
    tab.click("#logout")
    tab.locator("#login-key").wait_for()
    assert tab.locator(".card").count() == 0
    assert tab.evaluate("Object.keys(localStorage).filter(k => k.includes('Key'))") == []
    context.close()


def test_kiosk_link_shows_every_printer_and_hides_the_key(page, farm, artifacts):
    printers = farm.get("/api/printers")["printers"]
    assert printers
    page.locator(".card").nth(len(printers) - 1).wait_for()
    assert page.locator(".card").count() == len(printers)
    assert farm.key not in page.url
    for printer in printers:
        assert card(page, printer["id"]).locator(".card-name").inner_text() == printer["name"]
    # States move on (printers connect, heat up): the wall must follow the service within seconds.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        truth = {p["id"]: p["state"] for p in farm.get("/api/printers")["printers"]}
        shown = {pid: card(page, pid).get_attribute("data-state") for pid in truth}
        if shown == truth:
            break
        page.wait_for_timeout(500)
    assert shown == truth
    page.locator("#live[data-status=live]").wait_for()
    page.screenshot(path=str(artifacts / "dashboard-wall.png"), full_page=True)
    assert page.errors == []


def test_search_filters_the_wall_and_escape_clears_it(page, farm):
    printers = farm.get("/api/printers")["printers"]
    wanted = printers[1]
    page.keyboard.press("/")
    page.keyboard.type(wanted["name"])
    visible = page.locator(".card:visible")
    visible.first.wait_for()
    assert visible.count() == sum(wanted["name"].lower() in p["name"].lower() for p in printers)
    assert card(page, wanted["id"]).is_visible()
    page.keyboard.press("Escape")
    page.locator(".card").nth(len(printers) - 1).wait_for()
    assert page.locator(".card:visible").count() == len(printers)


def test_theme_button_cycles_light_dark_and_the_systems(page, artifacts):
    def background() -> str:
        return page.evaluate("getComputedStyle(document.body).backgroundColor")

    system = background()  # the tab prefers dark
    assert system == "rgb(13, 17, 23)"
    page.click("#theme")
    assert page.locator("#theme").inner_text() == "Light"
    assert background() == "rgb(243, 244, 246)"
    page.wait_for_timeout(400)  # let the colour transitions finish before the picture
    page.screenshot(path=str(artifacts / "dashboard-light.png"), full_page=True)
    page.click("#theme")
    assert page.locator("#theme").inner_text() == "Dark"
    assert background() == system
    page.click("#theme")
    assert page.locator("#theme").inner_text() == "Auto"
    assert page.evaluate("document.documentElement.dataset.theme") is None


def test_gantt_has_one_row_per_printer(page, farm):
    printers = farm.get("/api/printers")["printers"]
    page.locator(".gantt-row").first.wait_for()
    rows = page.locator(".gantt-row")
    assert rows.count() == len(printers)
    assert {rows.nth(i).get_attribute("data-printer") for i in range(rows.count())} == {
        p["id"] for p in printers
    }
    assert page.locator(".gantt-body .now-line").count() == 1


DROP_FILES = """([name, text]) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([text], name));
    return transfer;
}"""


def test_a_dropped_file_that_is_no_part_is_refused_in_words(page):
    transfer = page.evaluate_handle(DROP_FILES, ["notes.txt", "hello"])
    page.dispatch_event("#upload .dropzone", "drop", {"dataTransfer": transfer})
    message = page.locator(".staged-rejected .staged-msg")
    assert "notes.txt is not a part" in message.inner_text()
    page.click(".staged-rejected [data-remove]")
    assert page.locator(".staged-item").count() == 0


def printing_card(page, name: str):
    return page.locator(".card[data-state=printing]", has=page.locator(".card-part", has_text=name))


def progress_of(locator) -> float:
    return float(locator.locator(".progress").get_attribute("data-progress") or 0)


def require_a_connected_printer(farm) -> None:
    printers = farm.get("/api/printers")["printers"]
    if all(p["state"] == "offline" for p in printers):
        pytest.skip(f"no demo printer is connected yet: {printers[0]['message']}")


def job_error(farm, name: str) -> str | None:
    jobs = [j for j in farm.get("/api/jobs")["jobs"] if j["name"] == name]
    return jobs[0]["error"] if jobs and jobs[0]["state"] == "failed" else None


def test_upload_goes_to_queue_then_prints_with_moving_progress(page, farm, artifacts):
    require_a_connected_printer(farm)
    plan_before = page.locator("#gantt").get_attribute("data-generated")
    page.set_input_files(
        "#upload input[type=file]",
        files=[{"name": UPLOAD_NAME, "mimeType": "model/stl", "buffer": CUBE.read_bytes()}],
    )
    page.fill("#upload input[name=color]", "black")
    page.fill("#upload input[name=material]", "PLA")
    page.click("#upload button[type=submit]")
    row = page.locator("#queue-body tr", has_text=UPLOAD_NAME)
    row.wait_for(timeout=20 * SECOND_MS)
    page.screenshot(path=str(artifacts / "dashboard-uploaded.png"), full_page=True)

    busy = printing_card(page, UPLOAD_NAME)
    deadline = time.monotonic() + 90
    while busy.count() == 0 and time.monotonic() < deadline:
        error = job_error(farm, UPLOAD_NAME)
        assert error is None, f"the job failed: {error}"
        page.wait_for_timeout(1000)
    assert busy.count() > 0, f"{UPLOAD_NAME} never printed; service log:\n{farm.log_tail()}"
    first = progress_of(busy.first)
    deadline = time.monotonic() + 30
    while progress_of(busy.first) <= first and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    assert progress_of(busy.first) > first, "the card's progress did not move"
    assert busy.first.locator(".card-preview").get_attribute("src"), "no preview on the card"
    job_id = page.locator("#queue-body tr", has_text=UPLOAD_NAME).first.get_attribute("data-job")
    bar = page.locator(f'.gantt-row .bar[data-job="{job_id}"]').first
    bar.wait_for(timeout=20 * SECOND_MS)
    assert page.locator("#gantt").get_attribute("data-generated") != plan_before, "plan not redrawn"
    bar.hover(force=True)
    assert UPLOAD_NAME in page.locator("#tooltip").inner_text()
    page.screenshot(path=str(artifacts / "dashboard-printing.png"), full_page=True)
    assert page.errors == []


def test_a_queue_row_opens_its_prints_and_gives_the_gcode(page, farm, artifacts, tmp_path):
    rows = page.locator("#queue-body tr[data-job]:not(.job-detail)", has_text=UPLOAD_NAME)
    if rows.count() == 0:
        pytest.skip("the upload test did not queue a job")
    job_id = rows.first.get_attribute("data-job")
    job = farm.get(f"/api/jobs/{job_id}")
    rows.first.locator(".job-name").click()
    detail = page.locator(f'#queue-body tr.job-detail[data-job="{job_id}"]')
    detail.wait_for()
    for print_ in job["prints"]:
        assert detail.locator(f'tr[data-print="{print_["id"]}"]').count() == 1
    page.screenshot(path=str(artifacts / "dashboard-job-detail.png"), full_page=True)
    model = next(iter(job["estimates"]))
    with page.expect_download() as download:
        detail.locator(f'button[data-gcode="{job_id}"][data-model="{model}"]').click()
    saved = tmp_path / "part.gcode"
    download.value.save_as(saved)
    text = saved.read_text(encoding="utf-8", errors="replace")
    assert any(line.startswith(("G1 ", "G0 ")) for line in text.splitlines())
    rows.first.locator(".job-name").click()
    detail.wait_for(state="detached")


def test_pause_and_resume_buttons_change_the_printer_state(page, farm, artifacts):
    busy = printing_card(page, UPLOAD_NAME)
    if busy.count() == 0:
        pytest.skip("no card prints the uploaded part (finished already, or it never started)")
    printer_id = busy.first.get_attribute("data-printer")
    target = card(page, printer_id)
    target.get_by_role("button", name="Pause").click()
    page.locator(f'.card[data-printer="{printer_id}"][data-state=paused]').wait_for(
        timeout=30 * SECOND_MS
    )
    assert farm.get(f"/api/printers/{printer_id}")["state"] == "paused"
    page.screenshot(path=str(artifacts / "dashboard-paused.png"), full_page=True)
    target.get_by_role("button", name="Resume").click()
    page.locator(f'.card[data-printer="{printer_id}"][data-state=printing]').wait_for(
        timeout=30 * SECOND_MS
    )


def test_maintenance_button_takes_an_idle_printer_out_and_back(page, farm):
    idle = [p for p in farm.get("/api/printers")["printers"] if p["state"] == "idle"]
    if not idle:
        pytest.skip("no idle printer in the demo farm right now")
    printer_id = idle[0]["id"]
    target = card(page, printer_id)
    target.get_by_role("button", name="Maintenance").click()
    page.locator(f'.card[data-printer="{printer_id}"][data-state=maintenance]').wait_for(
        timeout=30 * SECOND_MS
    )
    target.get_by_role("button", name="Back in service").click()
    page.locator(f'.card[data-printer="{printer_id}"][data-state=idle]').wait_for(
        timeout=30 * SECOND_MS
    )
    assert page.errors == []


def test_load_filament_asks_material_and_colour_and_shows_the_swatch(page, farm):
    idle = [p for p in farm.get("/api/printers")["printers"] if p["state"] == "idle"]
    if not idle:
        pytest.skip("no idle printer in the demo farm right now")
    printer = idle[-1]
    target = card(page, printer["id"])
    before = target.locator(".swatch").evaluate("e => getComputedStyle(e).backgroundColor")
    target.get_by_role("button", name="Load filament").click()
    dialog = page.locator("#filament-dialog")
    dialog.locator("input[name=material]").fill(printer["material"])
    dialog.locator("input[name=color]").fill("blue")
    dialog.get_by_role("button", name="Loaded").click()
    target.locator(".filament-text", has_text=f"{printer['material']} blue").wait_for(
        timeout=30 * SECOND_MS
    )
    after = target.locator(".swatch").evaluate("e => getComputedStyle(e).backgroundColor")
    assert after != before
    restore = {"action": "filament_loaded", "material": printer["material"]}
    httpx.post(
        f"{farm.url}/api/printers/{printer['id']}/actions",
        json=restore | {"color": printer["color"]},
        headers={"X-Api-Key": farm.key},
        timeout=10,
    ).raise_for_status()


def test_queue_cancel_asks_once_more_then_retry_requeues(page, farm, artifacts):
    rows = page.locator("#queue-body tr", has_text=UPLOAD_NAME)
    if rows.count() == 0:
        pytest.skip("the upload test did not queue a job")
    page.check("#show-finished")
    row = rows.first
    job_id = row.get_attribute("data-job")
    if farm.get(f"/api/jobs/{job_id}")["state"] in ("done", "cancelled", "failed"):
        pytest.skip(f"{job_id} is over already; nothing to cancel")
    cancel = row.get_by_role("button", name="Cancel")
    cancel.click()
    assert farm.get(f"/api/jobs/{job_id}")["state"] != "cancelled", "one click cancelled"
    row.get_by_role("button", name="Sure?").click()
    page.locator(f'#queue-body tr[data-job="{job_id}"][data-state=cancelled]').wait_for(
        timeout=30 * SECOND_MS
    )
    page.screenshot(path=str(artifacts / "dashboard-cancelled.png"), full_page=True)
    row.get_by_role("button", name="Retry").click()
    page.locator(f'#queue-body tr[data-job="{job_id}"]:not([data-state=cancelled])').wait_for(
        timeout=30 * SECOND_MS
    )
    assert farm.get(f"/api/jobs/{job_id}")["state"] != "cancelled"


def test_a_part_the_service_refuses_shows_its_words(page, farm):
    bad = b"solid nothing\nendsolid nothing\n"
    answer = httpx.post(
        f"{farm.url}/api/jobs",
        files={"file": ("empty_mesh.stl", bad)},
        headers={"X-Api-Key": farm.key},
        timeout=30,
    )
    assert 400 <= answer.status_code < 500
    page.set_input_files(
        "#upload input[type=file]",
        files=[{"name": "empty_mesh.stl", "mimeType": "model/stl", "buffer": bad}],
    )
    page.click("#upload button[type=submit]")
    message = page.locator(".staged-error .staged-msg")
    message.wait_for(timeout=20 * SECOND_MS)
    assert message.inner_text() == answer.json()["detail"]
    page.click(".staged-error [data-remove]")


def test_todo_one_click_loads_the_filament_a_part_waits_for(page, farm, artifacts):
    require_a_connected_printer(farm)
    before = {p["id"]: p for p in farm.get("/api/printers")["printers"]}
    answer = httpx.post(
        f"{farm.url}/api/jobs",
        files={"file": ("green_cube.stl", CUBE.read_bytes())},
        data={"material": "PLA", "color": "green"},
        headers={"X-Api-Key": farm.key},
        timeout=30,
    )
    answer.raise_for_status()
    job_id = answer.json()["id"]
    try:
        loaded = page.locator('#todo button[data-act="filament_loaded"][data-color="green"]')
        loaded.first.wait_for(timeout=90 * SECOND_MS)
        page.screenshot(path=str(artifacts / "dashboard-todo.png"), full_page=True)
        printer_id = loaded.first.get_attribute("data-printer")
        loaded.first.click()
        card(page, printer_id).locator(".filament-text", has_text="PLA green").wait_for(
            timeout=30 * SECOND_MS
        )
        assert farm.get(f"/api/printers/{printer_id}")["color"] == "green"
    finally:
        cleanup = {"X-Api-Key": farm.key}
        httpx.delete(f"{farm.url}/api/jobs/{job_id}", headers=cleanup, timeout=30)
    deadline = time.monotonic() + 30
    while farm.get(f"/api/printers/{printer_id}")["state"] in ("printing", "paused"):
        assert time.monotonic() < deadline, "the cancelled print did not stop"
        time.sleep(0.5)
    original = before[printer_id]
    httpx.post(
        f"{farm.url}/api/printers/{printer_id}/actions",
        json={
            "action": "filament_loaded",
            "material": original["material"],
            "color": original["color"],
        },
        headers=cleanup,
        timeout=10,
    ).raise_for_status()


FORMAT_CASES = [
    ("duration(null)", "–"),
    ("duration(45)", "45s"),
    ("duration(90)", "2m"),
    ("duration(3599)", "1h 00m"),
    ("duration(3600 + 5 * 60)", "1h 05m"),
    ("duration(86400 * 2 + 3 * 3600)", "2d 3h"),
    ("percent(0.426)", "42%"),
    ("percent(1.7)", "100%"),
    ("relative(new Date(1e12 + 12 * 60e3).toISOString(), 1e12)", "in 12m"),
    ("relative(new Date(1e12 - 5 * 60e3).toISOString(), 1e12)", "5m ago"),
    ("stateWords('needs_operator')", "needs operator"),
    ("esc('<b a=\"1\">&</b>')", "&lt;b a=&quot;1&quot;&gt;&amp;&lt;/b&gt;"),
    ("materialColor('pla')", "#4f8ff7"),
    ("materialColor('NYLON') === materialColor('nylon')", True),
    ("cssColor('Dark Green')", "darkgreen"),
    ("cssColor('galaxy swirl')", None),
]


@pytest.mark.parametrize(("expression", "expected"), FORMAT_CASES)
def test_format_helpers_in_the_browser(page, expression, expected):
    script = f"import('/static/js/format.js').then((m) => {{ with (m) return {expression}; }})"
    assert page.evaluate(script) == expected


BUTTON_CASES = [
    ({"state": "printing", "bed_clear": False}, ["Pause", "Cancel"]),
    ({"state": "paused", "bed_clear": False}, ["Resume", "Cancel"]),
    ({"state": "idle", "bed_clear": True}, ["Load filament", "Maintenance"]),
    ({"state": "needs_operator", "bed_clear": False}, ["Bed cleared"]),
    (
        {"state": "needs_operator", "bed_clear": True, "message": "load PETG red into P1 for J1-1"},
        ["Loaded PETG red", "Other…"],
    ),
    (
        {"state": "needs_operator", "bed_clear": True, "message": "J1-1 failed"},
        ["Done", "Load filament"],
    ),
    ({"state": "error", "bed_clear": True}, ["Bed cleared, reset", "Maintenance"]),
    ({"state": "maintenance", "bed_clear": True}, ["Back in service"]),
    ({"state": "offline", "bed_clear": True}, ["Maintenance"]),
]


@pytest.mark.parametrize(("printer", "labels"), BUTTON_CASES)
def test_each_printer_state_gets_its_operator_buttons(page, printer, labels):
    script = """(printer) => import('/static/js/actions.js').then((m) => {
        const box = document.createElement('div');
        box.innerHTML = m.printerButtons({id: 'P1', ...printer});
        return [...box.querySelectorAll('button')].map((b) => b.textContent);
    })"""
    assert page.evaluate(script, printer) == labels
