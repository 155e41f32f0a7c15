"""The Audio analysis tab in a real browser: upload an example, see every plot and the levels."""
import pytest

from tests.conftest import EXAMPLES

pytestmark = pytest.mark.e2e


def test_upload_shows_plots_and_levels(page, test_output):
    page.get_by_role("tab", name="Audio analysis").click()
    for plot in ("waveform", "mel", "chroma", "zcr"):  # no empty frames before the first analysis
        assert not page.locator(f"#analysis-{plot}").is_visible(), plot
    page.locator("#analysis-audio input[type=file]").set_input_files(str(EXAMPLES / "house_groove_124bpm.ogg"))
    # The player appears once the upload has reached the server.
    page.locator("#analysis-audio audio, #analysis-audio .waveform-container, #analysis-audio wave").first.wait_for(
        state="attached", timeout=60_000
    )
    page.locator("#analysis-run").click()
    for plot in ("waveform", "mel", "chroma", "zcr"):
        page.locator(f"#analysis-{plot} img").wait_for(state="visible", timeout=120_000)
    stats = page.locator("#analysis-stats")
    assert "LUFS" in stats.inner_text()
    assert "16.4" in stats.inner_text()  # duration of the groove in seconds
    assert "124.0 BPM" in stats.inner_text() and "dBTP" in stats.inner_text()  # the groove is 124 BPM by construction
    page.screenshot(path=str(test_output / "analysis_tab.png"), full_page=True)
    page.locator("#analysis-double").click()
    page.wait_for_function("() => Math.abs(parseFloat(document.querySelector('#analysis-bpm input').value) - 248) < 1",
                           timeout=30_000)
    with page.expect_download() as download:
        page.locator("#analysis-csv a").first.click()
    assert download.value.suggested_filename == "features.csv"


def test_bad_file_shows_one_clear_error(page, tmp_path):
    bogus = tmp_path / "not_audio.wav"
    bogus.write_text("this is a text file, not a recording")
    page.get_by_role("tab", name="Audio analysis").click()
    page.locator("#analysis-audio input[type=file]").set_input_files(str(bogus))
    page.wait_for_timeout(1500)
    page.locator("#analysis-run").click()
    toast = page.locator(".toast-body, [data-testid='toast-body']").first
    toast.wait_for(state="visible", timeout=60_000)
    text = toast.inner_text()
    assert "not audio this app can read" in text
    assert "Traceback" not in text
