"""The Instrument tab in a real browser: upload a clip, see the ranking, the timeline and the curves."""
import pytest

from tests.conftest import EXAMPLES

pytestmark = pytest.mark.e2e


#: The audio input's player, once the upload has reached the server.
PLAYER = "#inst-audio audio, #inst-audio wave, #inst-audio .waveform-container"

def test_classify_shows_ranking_and_timeline(page, test_output):
    page.get_by_role("tab", name="Instrument classification").click()
    page.locator("#inst-audio input[type=file]").set_input_files(
        str(EXAMPLES / "instruments" / "medley_flute_singer_piano_trumpet_violin.flac"))
    page.locator(PLAYER).first.wait_for(state="attached")
    page.locator("#inst-run").click()
    for plot in ("bars", "timeline", "curves"):
        page.locator(f"#inst-{plot} img").wait_for(state="visible", timeout=120_000)
    label = page.locator("#inst-label").inner_text()
    assert any(name in label for name in ("flute", "violin", "trumpet", "piano", "female singer"))
    assert "MTT" in page.locator("#inst-tags").inner_text()  # the default (musicnn) model shows the tags too
    with page.expect_download() as download:
        page.locator("#inst-csv a").first.click()
    assert download.value.suggested_filename == "instrument_timeline.csv"
    page.screenshot(path=str(test_output / "instruments_tab.png"), full_page=True)


def test_the_answer_is_on_screen_after_the_click_and_a_folders_columns_fit(page):
    page.get_by_role("tab", name="Instrument classification").click()
    page.locator("#inst-audio input[type=file]").set_input_files(str(EXAMPLES / "instruments" / "violin.flac"))
    page.locator(PLAYER).first.wait_for(state="attached")
    page.locator("#inst-run").click()
    page.wait_for_function("document.querySelector('#inst-label').innerText.includes('violin')", timeout=120_000)
    box = page.locator("#inst-label").bounding_box()
    assert 0 <= box["y"] and box["y"] + 40 <= 1000  # the answer is in view at 1400×1000, no scrolling
    page.get_by_role("tab", name="Tag a folder").click()
    page.locator("#inst-batch-files input[type=file]").set_input_files(
        [str(EXAMPLES / "instruments" / "violin.flac"), str(EXAMPLES / "genre" / "techno_128bpm.ogg")])
    page.locator("#inst-batch-run").click()
    page.wait_for_function("document.querySelector('#inst-batch-table').innerText.includes('techno_128bpm')",
                           timeout=120_000)
    overflow = page.evaluate("""() => [...document.querySelectorAll('#inst-batch-table table')]
        .some(t => t.scrollWidth > t.parentElement.clientWidth + 2)""")
    assert not overflow  # every column, Top tags included, fits the table's width
