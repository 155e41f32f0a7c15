"""The Genre detection tab in a real browser: upload a clip, see the distribution, the strip and the spectrogram."""
import numpy as np
import pytest
import soundfile as sf

from tests.conftest import EXAMPLES

pytestmark = pytest.mark.e2e


def _upload(page, path):
    page.get_by_role("tab", name="Genre detection").click()
    page.locator("#genre-audio input[type=file]").set_input_files(str(path))
    page.locator("#genre-audio audio, #genre-audio .waveform-container, #genre-audio wave").first.wait_for(
        state="attached", timeout=60_000
    )


def test_upload_shows_genre_from_the_backbone_model_tags_taggram_and_spectrogram(page, test_output):
    clip = sorted((EXAMPLES / "genre").glob("techno_*.ogg"))[0]
    _upload(page, clip)
    assert ("musicnn" in page.locator("#genre-model").inner_text()
            or "musicnn" in page.locator("#genre-model input").input_value())
    page.locator("#genre-run").click()
    for plot in ("bars", "strip", "taggram", "mel"):
        page.locator(f"#genre-{plot} img").wait_for(state="visible", timeout=120_000)
    summary = page.locator("#genre-summary").inner_text()
    assert "%" in summary and "excerpt" in summary and "musicnn" in summary
    tags = page.locator("#genre-tags").inner_text()
    assert "MTT" in tags and "MSD" in tags
    page.locator("#genre-csv a").first.wait_for(state="visible", timeout=30_000)
    page.screenshot(path=str(test_output / "genre_tab.png"), full_page=True)


def test_silence_shows_one_clear_error(page, tmp_path):
    silent = tmp_path / "silence.wav"
    sf.write(silent, np.zeros(22_050 * 4, np.float32), 22_050)
    _upload(page, silent)
    page.locator("#genre-run").click()
    toast = page.locator(".toast-body, [data-testid='toast-body']").first
    toast.wait_for(state="visible", timeout=60_000)
    text = toast.inner_text()
    assert "No signal" in text and "Traceback" not in text
