"""core.plots: every figure has the expected axes, renders to PNG, and leaks nothing into pyplot."""
import matplotlib.pyplot as plt
import numpy as np
import pretty_midi
import pytest
from matplotlib.figure import Figure

from core import features, plots
from tests.conftest import tone

SR = 22_050


@pytest.fixture(autouse=True)
def no_pyplot_leak():
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before, "a plot function registered a figure with pyplot"


def _render(fig: Figure, tmp_path, name="f.png"):
    path = plots.save(fig, tmp_path / name)
    image = plt.imread(path)
    assert image.shape[0] > 100 and image.shape[1] > 100
    return image


def test_waveform_short_and_long(tmp_path):
    fig = plots.waveform(tone(440, 0.1, SR), SR)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Time (s)" and ax.get_ylabel() == "Amplitude"
    assert ax.get_xlim()[1] == pytest.approx(0.1)
    long = plots.waveform(np.random.default_rng(0).uniform(-1, 1, SR * 180).astype(np.float32), SR)
    assert long.axes[0].get_xlim()[1] == pytest.approx(180)
    _render(long, tmp_path)


def test_spectrogram_chroma_zcr(tmp_path):
    y = tone(440, 2.0, SR)
    mel = plots.spectrogram(features.log_mel(y, SR), SR)
    assert mel.axes[0].get_title() == "Log-mel spectrogram" and len(mel.axes) == 2  # + colorbar
    assert mel.axes[0].get_xlim()[1] == pytest.approx(2.0, abs=0.05)
    chroma = plots.chroma(features.chroma(y, SR), SR)
    assert "A" in [t.get_text() for t in chroma.axes[0].get_yticklabels()]
    z = plots.zcr(features.zcr(y), SR)
    assert z.axes[0].get_ylabel() == "Crossings / sample"
    for i, fig in enumerate((mel, chroma, z)):
        _render(fig, tmp_path, f"{i}.png")


def test_confusion_counts_and_percent(tmp_path):
    cm = np.array([[8, 2], [1, 9]])
    fig = plots.confusion(cm, ["jazz", "rock"])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["8", "2", "1", "9"]
    pct = plots.confusion(cm, ["jazz", "rock"], normalize=True)
    assert [t.get_text() for t in pct.axes[0].texts] == ["80.0", "20.0", "10.0", "90.0"]
    _render(pct, tmp_path)


def test_curves_split_loss_and_accuracy():
    fig = plots.curves({"train_loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6], "val_acc": [0.3, 0.6, 0.7]})
    assert [ax.get_ylabel() for ax in fig.axes] == ["Loss", "Accuracy"]
    assert len(fig.axes[0].lines) == 2 and len(fig.axes[1].lines) == 1


def test_piano_roll_and_timeline(tmp_path):
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0)
    inst.notes = [pretty_midi.Note(100, 60 + i, i * 0.5, i * 0.5 + 0.4) for i in range(8)]
    pm.instruments.append(inst)
    roll = plots.piano_roll(pm)
    lo, hi = roll.axes[0].get_ylim()
    assert lo < 60 and hi > 67
    tl = plots.timeline([(0, 2, "piano"), (2, 3, "violin"), (3, 5, "piano")], duration=5)
    assert tl.axes[0].get_xlim() == (0, 5)
    assert [t.get_text() for t in tl.axes[0].get_legend().get_texts()] == ["piano", "violin"]
    _render(roll, tmp_path, "r.png")
    _render(tl, tmp_path, "t.png")


def test_piano_roll_shows_note_names_and_classes_keep_one_colour():
    import pretty_midi

    from core import plots

    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0)
    inst.notes = [pretty_midi.Note(90, p, i * 0.5, i * 0.5 + 0.4) for i, p in enumerate((60, 64, 67, 72))]
    pm.instruments.append(inst)
    fig = plots.piano_roll(pm)
    assert {"C4", "E4", "G4", "C5"} <= {t.get_text() for t in fig.axes[0].get_yticklabels()}
    labels = ["flute", "piano", "violin"]
    colors = plots.class_colors(labels)
    probs = plots.probabilities(np.arange(3.0), np.eye(3), labels)
    line_colors = {line.get_label(): line.get_color() for line in probs.axes[0].get_lines()}
    strip = plots.timeline([(0, 1, "violin"), (1, 2, "flute")], 2.0, colors=colors)
    spans = strip.axes[0].patches
    assert line_colors["violin"] == colors["violin"] and tuple(spans[0].get_facecolor()[:3]) == colors["violin"][:3]


def test_a_full_songs_beat_grid_thins_itself_to_bar_lines():
    import numpy as np

    from core import plots

    y = np.zeros(22_050 * 240, np.float32)
    beats = np.arange(0, 240, 0.45)  # 534 beats at 133 BPM: drawn all, they painted the plot solid
    fig = plots.waveform(y, 22_050, beats=beats, bpm=133.3)
    lines = fig.axes[0].collections[-1]
    assert len(lines.get_segments()) <= plots.MAX_BEAT_LINES
    assert "every 8th beat" in fig.axes[0].get_legend().get_texts()[0].get_text()
    short = plots.waveform(y[: 22_050 * 10], 22_050, beats=beats[beats < 10], bpm=133.3)
    assert len(short.axes[0].collections[-1].get_segments()) == int((beats < 10).sum())  # every beat when they fit


def test_every_time_axis_reads_in_seconds():
    import io

    import numpy as np

    from core import plots

    for fig in (plots.spectrogram(np.random.rand(128, 20_000), 22_050),
                plots.chroma(np.random.rand(12, 20_000), 22_050)):
        fig.savefig(io.BytesIO(), format="png")  # ticks are set when drawn
        labels = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
        assert labels and not any(":" in t for t in labels), labels  # never m:ss beside a seconds axis


def test_image_plots_are_drawn_at_the_resolution_shown():
    M = np.arange(2 * 7750, dtype=float).reshape(2, 7750)
    small, hop = plots.at_resolution(M, 512)
    assert small.shape[1] <= plots.MAX_COLUMNS and hop == 512 * 5
    assert small.shape[1] * hop >= M.shape[1] * 512  # the time axis still reaches the end
    assert small[0, 0] == pytest.approx(M[0, :5].mean()) and small[1, -1] == pytest.approx(M[1, -5:].mean())
    same, same_hop = plots.at_resolution(M[:, :100], 512)
    assert same.shape == (2, 100) and same_hop == 512  # short input is drawn as it is
