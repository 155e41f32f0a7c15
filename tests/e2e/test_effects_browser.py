"""The Effect emulation tab in a real browser: apply reverb to the example DI, see plots, metrics, ABX; capture."""
import pytest

from tests.conftest import EXAMPLES

pytestmark = pytest.mark.e2e


def _open(page):
    page.get_by_role("tab", name="Effect emulation").click()


def _upload(page, elem, path):
    page.locator(f"#{elem} input[type=file]").set_input_files(str(path))
    player = page.locator(f"#{elem} audio, #{elem} .waveform-container, #{elem} wave").first
    player.wait_for(state="attached", timeout=60_000)


def test_apply_effect_plots_metrics_and_abx(page, test_output):
    _open(page)
    _upload(page, "effects-audio", EXAMPLES / "effects" / "effects_guitar_di.flac")
    page.locator("#effects-run").click()
    for plot in ("mel", "overlay"):
        page.locator(f"#effects-{plot} img").wait_for(state="visible", timeout=120_000)
    metrics = page.locator("#effects-metrics").inner_text()
    assert "ESR model vs effect" in metrics and "MR-STFT clean vs effect" in metrics
    page.locator("#effects-abx-new").click()
    page.get_by_text("Listen to A, B and X").wait_for(timeout=60_000)
    page.locator("#effects-abx-b").click()
    page.get_by_text("1 answer(s)").wait_for(timeout=60_000)
    page.screenshot(path=str(test_output / "effects_tab.png"), full_page=True)


def test_capture_mode_trains_and_offers_download(page, test_output):
    _open(page)
    page.get_by_role("button", name="Capture mode: teach it your own plugin or pedal").click()
    _upload(page, "effects-capture-dry", EXAMPLES / "effects" / "effects_capture_dry.flac")
    _upload(page, "effects-capture-wet", EXAMPLES / "effects" / "effects_capture_wet.flac")
    page.locator("#effects-capture-model input").click()
    page.get_by_role("option", name="Learned FIR (reverb, EQ, cabinet)").click()
    page.locator("#effects-capture-train").click()
    page.locator("#effects-capture-file a").first.wait_for(state="visible", timeout=180_000)
    assert "latency removed: 530 samples" in page.locator("#effects-capture-status").inner_text()
    page.screenshot(path=str(test_output / "effects_capture.png"), full_page=True)

    # a second run clears the first one's results at once, and Stop ends in a final status
    page.locator("#effects-capture-model input").click()
    page.get_by_role("option", name="LSTM-32 with skip (Wright et al.)").click()
    _set_steps(page, 3000)
    page.locator("#effects-capture-train").click()
    page.wait_for_function("document.querySelector('#effects-capture-status').innerText.includes('Training')",
                           timeout=60_000)
    assert page.locator("#effects-capture-file a").count() == 0  # the first run's zip is gone
    page.locator("#effects-capture-stop").click()
    page.wait_for_function("document.querySelector('#effects-capture-status').innerText.includes('Stopped')",
                           timeout=30_000)
    page.wait_for_timeout(2000)  # nothing arrives after Stop's word
    assert "Stopped" in page.locator("#effects-capture-status").inner_text()


def _set_steps(page, value):
    box = page.locator("#effects-capture-steps input[type=number]")
    box.fill(str(value))
    box.press("Enter")


def test_each_effect_gets_its_own_knob_sliders_and_they_change_the_result(page):
    """Choosing the compressor shows its four knobs; moving the pitch shifter's slider changes the metrics."""
    _open(page)
    page.locator("#effects-effect input").click()
    page.get_by_role("option", name="Compressor", exact=True).click()
    for i, label in enumerate(["Threshold (dB)", "Ratio (:1)", "Attack (ms)", "Release (ms)"]):
        page.locator(f"#effects-knob-{i}").get_by_text(label).wait_for(timeout=30_000)
    page.locator("#effects-effect input").click()
    page.get_by_role("option", name="Pitch shift (polyphonic)", exact=True).click()
    page.locator("#effects-knob-0").get_by_text("Semitones").wait_for(timeout=30_000)
    page.locator("#effects-knob-1").wait_for(state="hidden", timeout=30_000)
    _upload(page, "effects-audio", EXAMPLES / "effects" / "effects_guitar_di.flac")
    page.locator("#effects-run").click()
    page.get_by_text("semitones=-12").wait_for(timeout=120_000)
    page.locator("#effects-knob-0 input[type=number]").fill("7")
    page.locator("#effects-knob-0 input[type=number]").press("Enter")
    page.locator("#effects-run").click()
    page.get_by_text("semitones=7").wait_for(timeout=120_000)


def test_every_effect_runs_in_the_browser(page):
    """Each of the ten effects, chosen in the dropdown, gives its metrics table (real effect vs model)."""
    from core.effects import fx

    _open(page)
    _upload(page, "effects-audio", EXAMPLES / "effects" / "effects_guitar_di.flac")
    previous = ""
    for effect in fx.EFFECTS.values():
        page.locator("#effects-effect input").click()
        page.get_by_role("option", name=effect.label, exact=True).click()
        if effect.knob_ranges:  # its sliders first, so the run sends this effect's knob settings
            page.locator("#effects-knob-0").get_by_text(fx.knob_label(next(iter(effect.knob_ranges)))).wait_for(timeout=30_000)
        page.locator("#effects-run").click()
        # each effect has its own ESR figures: wait until the table shows this run's, not the last one's
        page.wait_for_function(
            "prev => { const t = document.querySelector('#effects-metrics'); "
            "return t && t.innerText.includes('ESR model vs effect') && t.innerText !== prev; }",
            arg=previous, timeout=120_000)
        previous = page.locator("#effects-metrics").inner_text()
