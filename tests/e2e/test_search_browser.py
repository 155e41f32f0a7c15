"""The Loop & sample search tab in a real browser: a whole yes/no search on the bundled example, then the export."""
import json
import re

import pytest

from core.search.evaluate import simulated_user
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.e2e

EXAMPLE = EXAMPLES / "search" / "drum_and_bass_loops_and_samples.ogg"


def _set_number(page, elem_id, value):
    box = page.locator(f"#{elem_id} input[type=number]").first
    box.fill(str(value))
    box.press("Enter")


def _status(page) -> str:
    return page.locator("#search-status").inner_text()


def _wait_for_new_status(page, previous: str, timeout: int = 60_000):
    """Until the status is a new question or the end: while a request runs, a timer and progress sit above it."""
    page.wait_for_function(
        "prev => { const t = document.querySelector('#search-status').innerText.trim();"
        " return t !== prev && (t.startsWith('Is this the same sound?') || t.startsWith('Search ended')); }",
        arg=previous.strip(), timeout=timeout)


def test_search_by_clicking_yes_and_no_then_download(page, test_output):
    truth = json.loads(EXAMPLE.with_suffix(".json").read_text())
    loop = next(t for t in truth["targets"] if t["name"] == "loop2")
    t0, d = round(loop["starts"][0], 1), round(loop["duration"], 1)

    page.get_by_role("tab", name="Loop & sample search").click()
    page.locator("#search-audio input[type=file]").set_input_files(str(EXAMPLE))
    page.locator("#search-overview img").wait_for(state="visible", timeout=120_000)
    page.wait_for_function("document.querySelector('#search-status').innerText.includes('Loaded')", timeout=60_000)

    # a click in the middle of the track picture moves the query start there
    img = page.locator("#search-overview img")
    box = img.bounding_box()
    img.click(position={"x": box["width"] * 0.54, "y": box["height"] / 2})
    page.wait_for_function(
        "Number(document.querySelector('#search-t0 input[type=number]').value) > 10", timeout=30_000)

    _set_number(page, "search-t0", t0)
    _set_number(page, "search-d", d)
    page.locator("#search-kind").get_by_text("loop", exact=True).click()
    _set_number(page, "search-patience", 3)
    assert page.locator("#search-yes").is_disabled()  # nothing to answer before a search starts
    page.locator("#search-start").click()
    _wait_for_new_status(page, "", timeout=120_000)
    page.wait_for_function("() => !document.querySelector('#search-yes').disabled", timeout=30_000)

    user = simulated_user(loop["starts"][1:], d)
    for _ in range(30):
        text = _status(page)
        if "Search ended" in text:
            break
        proposal = float(re.search(r"Proposal at ([\d.]+)", text).group(1))
        page.locator("#search-yes" if user(proposal) else "#search-no").click()
        _wait_for_new_status(page, text)
    assert "Search ended" in _status(page)
    assert len(user.found) >= 1
    table = page.locator("#search-table").inner_text()
    assert "query" in table and "found" in table
    page.locator("#search-timeline img").first.wait_for(state="visible")  # matplotlib figures arrive as images

    with page.expect_download() as download:
        page.locator("#search-export tr:has(td[aria-label$='.csv']) a").first.click()
    assert download.value.suggested_filename.endswith("_occurrences.csv")
    lines = open(download.value.path()).read().splitlines()
    assert lines[0].startswith("start_s,end_s") and len(lines) == 1 + 1 + len(user.found)
    page.screenshot(path=str(test_output / "search_tab.png"), full_page=True)


def test_query_outside_the_track_shows_one_clear_error(page):
    page.get_by_role("tab", name="Loop & sample search").click()
    page.locator("#search-audio input[type=file]").set_input_files(str(EXAMPLE))
    page.wait_for_function("document.querySelector('#search-status').innerText.includes('Loaded')", timeout=120_000)
    _set_number(page, "search-t0", 44.5)
    _set_number(page, "search-d", 2)
    page.locator("#search-start").click()
    toast = page.locator(".toast-body, [data-testid='toast-body']").first
    toast.wait_for(state="visible", timeout=60_000)
    assert "outside the track" in toast.inner_text() and "Traceback" not in toast.inner_text()


def test_the_proposal_is_on_screen_after_start_and_answers_go_dark_after_stop(page):
    page.get_by_role("tab", name="Loop & sample search").click()
    page.locator("#search-audio input[type=file]").set_input_files(str(EXAMPLE))
    page.wait_for_function("document.querySelector('#search-status').innerText.includes('Loaded')", timeout=120_000)
    start = page.locator("#search-start")
    assert start.bounding_box()["y"] + start.bounding_box()["height"] <= 1000  # no scrolling to reach it
    start.click()
    page.wait_for_function("() => !document.querySelector('#search-yes').disabled", timeout=60_000)
    for element in ("#search-proposal", "#search-yes"):  # what to hear and to answer, in view at 1400×1000
        box = page.locator(element).bounding_box()
        assert 0 <= box["y"] and box["y"] + box["height"] <= 1000, element
    page.locator("#search-stop").click()
    page.wait_for_function("() => document.querySelector('#search-yes').disabled", timeout=30_000)
    assert page.locator("#search-no").is_disabled() and page.locator("#search-stop").is_disabled()
