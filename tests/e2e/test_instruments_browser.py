"""The Instrument tab in a real browser: upload a clip, see the ranking, the timeline and the curves."""
import pytest

from tests.conftest import EXAMPLES

pytestmark = pytest.mark.e2e


def test_classify_shows_ranking_and_timeline(page, test_output):
    page.get_by_role("tab", name="Instrument classification").click()
    page.locator("#inst-audio input[type=file]").set_input_files(
        str(EXAMPLES / "instruments" / "medley_flute_singer_piano_trumpet_violin.flac"))
    page.locator("#inst-audio audio, #inst-audio wave, #inst-audio .waveform-container").first.wait_for(state="attached")
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
