"""The Sample library tab in a real browser: index the bundled example library, search it by example, answer
Yes and No, export the results and the chosen files."""
import pytest

pytestmark = pytest.mark.e2e


def _wait_text(page, selector: str, text: str, timeout: int = 60_000) -> None:
    page.wait_for_function("([sel, t]) => (document.querySelector(sel)?.innerText || '').includes(t)",
                           arg=[selector, text], timeout=timeout)


def test_index_search_answer_and_export_the_example_library(page, test_output):
    page.get_by_role("tab", name="Sample library").click()
    page.locator("#library-index").click()
    _wait_text(page, "#library-index-note", "added", timeout=240_000)
    assert "27 added" in page.locator("#library-index-note").inner_text()

    page.locator("#library-file input").click()
    page.get_by_role("option", name="kicks/bd_808.flac").click()
    assert page.locator("#library-yes").is_disabled()  # nothing to answer before a search
    page.locator("#library-search").click()
    _wait_text(page, "#library-status", "Is this what you are looking for?", timeout=120_000)
    first = page.locator("#library-status").inner_text()
    assert "kicks/" in first  # a kick is proposed first for a kick

    page.locator("#library-yes").click()
    _wait_text(page, "#library-status", "Chosen 1")
    page.locator("#library-no").click()
    _wait_text(page, "#library-status", "No in a row 1")
    table = page.locator("#library-table").inner_text()
    assert "yes" in table and "no" in table  # the answers are in the results, answered first

    page.locator("#library-export").click()
    page.locator("#library-files a").nth(2).wait_for(state="attached", timeout=60_000)
    names = page.locator("#library-files").inner_text().replace("\n", "")  # the name and extension wrap apart
    assert "library_results.csv" in names and "library_results.json" in names and "chosen_samples.zip" in names
    page.screenshot(path=str(test_output / "library_tab.png"), full_page=True)
