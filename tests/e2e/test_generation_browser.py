"""The MIDI generation tab in a real browser: each model generates audio, a MIDI download and the plots."""
import pytest

from tests.conftest import EXAMPLES

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("model",
                         ["LSTM with a pointer (next-event model)", "GAN (LSTM trained adversarially, WGAN-GP)"])
def test_generate_with_each_model(page, test_output, model):
    page.get_by_role("tab", name="MIDI generation").click()
    page.locator("#gen-model input").click()
    page.get_by_role("option", name=model).click()
    page.locator("#gen-run").click()
    for plot in ("roll", "mel", "mel-ref", "chroma", "zcr"):
        page.locator(f"#gen-{plot} img").wait_for(state="visible", timeout=120_000)
    page.locator("#gen-audio audio, #gen-audio wave, #gen-audio .waveform-container").first.wait_for(state="attached")
    with page.expect_download() as download:
        page.locator("#gen-midi a").first.click()
    name = download.value.suggested_filename
    assert name.endswith(".mid") and name.startswith(model.split()[0].lower())
    page.screenshot(path=str(test_output / f"generation_{name[:-4]}.png"), full_page=True)


def test_a_played_primer_is_transcribed_and_continued(page, test_output):
    page.get_by_role("tab", name="MIDI generation").click()
    page.get_by_text("Hum, whistle or play a primer").click()
    page.locator("#gen-hum-audio input[type=file]").set_input_files(
        str(EXAMPLES / "generation" / "primer_flute_melody.ogg"))
    player = page.locator("#gen-hum-audio audio, #gen-hum-audio .waveform-container").first
    player.wait_for(state="attached", timeout=60_000)
    page.locator("#gen-hum-run").click()
    page.locator("#gen-hum-roll img").wait_for(state="visible", timeout=60_000)
    assert "notes" in page.locator("#gen-hum-note").inner_text()
    page.locator("#gen-primer a").first.wait_for(state="visible")  # the primer file is set
    page.locator("#gen-run").click()
    page.locator("#gen-roll img").wait_for(state="visible", timeout=120_000)
    page.screenshot(path=str(test_output / "generation_primer.png"), full_page=True)


def test_an_arranged_piece_has_every_track_in_its_midi(page, test_output):
    import pretty_midi

    page.get_by_role("tab", name="MIDI generation").click()
    page.locator("#gen-arrangement input").click()
    page.get_by_role("option", name="Folk band (guitar, bass, shaker)").click()
    page.locator("#gen-run").click()
    page.locator("#gen-roll img").wait_for(state="visible", timeout=120_000)
    with page.expect_download() as download:
        page.locator("#gen-midi a").first.click()
    names = [i.name for i in pretty_midi.PrettyMIDI(download.value.path()).instruments]
    assert names == ["melody", "chords", "bass", "drums"]
    for plot in ("mel", "mel-ref", "chroma", "zcr"):  # the README's screenshot shows the comparison drawn
        page.locator(f"#gen-{plot} img").wait_for(state="visible", timeout=120_000)
    page.screenshot(path=str(test_output / "generation_arranged.png"), full_page=True)
