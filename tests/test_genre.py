"""Genre detection: features, arranger, dataset checks, the five networks training, predict API, Hub mapping."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.audio import AudioError
from core.features import band_spectrogram
from core.genre import data as gdata
from core.genre.features import AST_FRAMES, excerpts, minmax

SR = 22_050


def clip(kind: str, seconds: float, seed: int, sr: int = SR) -> np.ndarray:
    """Two easy 'genres': a low drone with a pulse, or bright noise bursts."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    if kind == "drone":
        beat = 0.6 + 0.4 * np.sin(2 * np.pi * 2 * t)
        return (0.4 * np.sin(2 * np.pi * rng.uniform(80, 120) * t) * beat).astype(np.float32)
    gate = (np.sin(2 * np.pi * rng.uniform(3, 5) * t) > 0).astype(np.float32)
    return (0.3 * rng.standard_normal(len(t)) * gate).astype(np.float32)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """2 genres × 5 tracks × 2 renders of 7.5 s: the tiny generated set the CLI trains on."""
    root = tmp_path_factory.mktemp("genres")
    for kind in ("drone", "noise"):
        (root / kind).mkdir()
        for i in range(5):
            for font in ("a", "b"):
                sf.write(root / kind / f"{kind}{i}__{font}.wav", clip(kind, 7.5, i * 2 + (font == "b")), SR)
    return root


def test_band_spectrogram_is_the_papers_12_by_29():
    B = band_spectrogram(clip("drone", 3.0, 0), SR)
    assert B.shape == (12, 29) and B.dtype == np.float32
    # a ~100 Hz drone peaks in the low bands, not the high ones
    assert B[:4].max() > B[8:].max() + 20


def test_excerpts_are_min_max_normalised_and_short_clips_padded():
    X, starts = excerpts(clip("noise", 10.0, 1), SR, "bands")
    assert X.shape == (3, 12, 29) and list(starts) == [0.0, 3.0, 6.0]
    assert np.allclose(X.min(axis=(1, 2)), 0) and np.allclose(X.max(axis=(1, 2)), 1)
    X, starts = excerpts(clip("noise", 1.0, 1), SR, "bands")
    assert X.shape == (1, 12, 29)
    assert np.all(minmax(np.ones((2, 3, 4))) == 0)  # flat input: zeros, not NaN
    X, _ = excerpts(clip("noise", 7.0, 1, sr=16_000), 16_000, "ast_mel")
    assert X.shape == (2, AST_FRAMES, 128)
    with pytest.raises(ValueError, match="22050"):
        excerpts(clip("noise", 3.0, 1, sr=16_000), 16_000, "bands")


def test_arranger_writes_each_genres_idiom():
    from core.data.arranger import GENRES, KICK, TEMPO, arrange

    for genre in GENRES:
        piece = arrange(genre, seed=3, seconds=12)
        lo, hi = TEMPO[genre]
        assert lo <= piece.tempo <= hi
        notes = sum(len(i.notes) for i in piece.midi.instruments)
        assert notes > 20, genre
        assert max(n.start for i in piece.midi.instruments for n in i.notes) < 12
    for genre in ("house", "techno"):  # four-on-the-floor: a kick on every beat
        piece = arrange(genre, seed=1, seconds=10)
        kicks = [n for i in piece.midi.instruments if i.is_drum for n in i.notes if n.pitch == KICK]
        assert len(kicks) >= int(10 / (60 / piece.tempo)) - 2
    assert not any(i.is_drum for i in arrange("classical", seed=0, seconds=8).midi.instruments)
    equal = arrange("ballad", seed=0, seconds=8, tempo_range=(110, 112))
    assert 110 <= equal.tempo <= 112
    with pytest.raises(ValueError, match="Unknown genre"):
        arrange("polka", seed=0)


def test_dataset_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match="no such folder"):
        gdata.scan(tmp_path / "missing")
    (tmp_path / "jazz").mkdir()
    sf.write(tmp_path / "jazz" / "a.wav", clip("drone", 3.0, 0), SR)
    with pytest.raises(ValueError, match="at least two genre"):
        gdata.scan(tmp_path)
    (tmp_path / "rock").mkdir()
    with pytest.raises(ValueError, match="hold no audio files: rock"):
        gdata.scan(tmp_path)


def test_split_is_by_track(dataset):
    labels, tracks = gdata.scan(dataset)
    assert labels == ["drone", "noise"] and len(tracks) == 10
    assert all(len(t.files) == 2 for t in tracks)  # both renders of a piece are one track
    train, val, test = gdata.split_tracks(tracks, seed=0)
    keys = [{t.key for t in s} for s in (train, val, test)]
    assert not (keys[0] & keys[1]) and not (keys[0] & keys[2]) and not (keys[1] & keys[2])
    assert sum(map(len, keys)) == 10 and len(keys[2]) == 2  # one test track per genre


@pytest.fixture(scope="module")
def trained(dataset, tmp_path_factory):
    """Train each of the five architectures a few epochs from the CLI entry point."""
    from core.genre import train

    out = {}
    root = tmp_path_factory.mktemp("models")
    for arch in ("dense", "rnn", "cnn", "crnn", "ast"):
        folder = root / arch
        metrics = train.main(["--data", str(dataset), "--model", arch, "--out", str(folder), "--epochs", "5",
                              "--lr", "3e-3", "--batch-size", "16", "--run-dir", str(root / "runs" / arch),
                              "--no-plots", "--threads", "1", "--eval-data", f"extra={dataset}"])
        out[arch] = (folder, metrics)
    return out


@pytest.mark.parametrize("arch", ["dense", "rnn", "cnn", "crnn", "ast"])
def test_each_architecture_trains_and_loss_falls(trained, arch):
    folder, metrics = trained[arch]
    history = json.loads((folder / "report.json").read_text())["history"]
    assert history["train_loss"][-1] < history["train_loss"][0]
    card = json.loads((folder / "card.json").read_text())
    assert card["config"]["labels"] == ["drone", "noise"]
    assert card["config"]["input"] == ("ast_mel" if arch == "ast" else "bands")
    assert set(card["metrics"]) == {"test", "extra"}
    assert 0 <= metrics["test"]["excerpt_accuracy"] <= 1


def test_training_resumes(dataset, tmp_path):
    from core.genre import train

    args = ["--data", str(dataset), "--model", "dense", "--out", str(tmp_path / "m"), "--run-dir", str(tmp_path / "r"),
            "--no-plots", "--threads", "1"]
    train.main(args + ["--epochs", "2"])
    train.main(args + ["--epochs", "4", "--resume"])
    history = json.loads((tmp_path / "m" / "report.json").read_text())["history"]
    assert len(history["train_loss"]) == 4


def test_a_model_trained_at_another_size_loads_at_that_size(dataset, tmp_path):
    from core.genre import train
    from core.genre.api import load as genre_load
    from core.genre.models import n_params

    train.main(["--data", str(dataset), "--model", "cnn", "--out", str(tmp_path / "small"), "--epochs", "1",
                "--no-plots", "--threads", "1", "--size", "kernels=8", "hidden=16"])
    model = genre_load(str(tmp_path / "small"))
    config = json.loads((tmp_path / "small" / "config.json").read_text())
    assert config["model"] == {"kernels": 8, "hidden": 16} and n_params(model.net) == config["params"]


def test_training_runs_unchanged_under_torchrun_with_two_workers(dataset, tmp_path):
    """The same train script, launched by torchrun on two CPU workers (gloo): both train, rank 0 saves."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "core.genre.train", "--data", str(dataset), "--model", "dense", "--out", str(tmp_path / "m"),
           "--run-dir", str(tmp_path / "r"), "--epochs", "2", "--no-plots", "--threads", "1"]
    done = subprocess.run(cmd, cwd=Path(__file__).resolve().parents[1], env={**env, "MUSIC_STUDIO_DEVICE": "cpu"},
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    card = json.loads((tmp_path / "m" / "card.json").read_text())
    assert card["config"]["epochs_run"] == 2 and (tmp_path / "m" / "model.safetensors").exists()


def test_a_freshly_trained_card_has_everything_the_tab_reports(trained):
    from core.genre.api import report

    folder, _ = trained["cnn"]
    r = report(str(folder))
    assert "On generated music" in r.markdown and "| test |" in r.markdown and "| extra |" in r.markdown
    assert "Trained with `python -m core.genre.train" in r.markdown and "Per genre" in r.markdown
    assert r.labels == ["drone", "noise"] and len(r.confusion) == 2 and len(r.history["val_acc"]) == 5


def test_predict_whole_song(trained):
    from core.genre import load

    model = load(str(trained["cnn"][0]))
    y = np.concatenate([clip("drone", 9.0, 20), clip("noise", 9.0, 21)])
    for how in ("mean", "max"):
        r = model.predict(y, SR, aggregate=how)
        assert r.excerpt_probs.shape == (6, 2) and list(r.starts) == [0, 3, 6, 9, 12, 15]
        assert abs(r.probs.sum() - 1) < 1e-5 and r.top in ("drone", "noise")
        assert r.segments()[0][0] == 0 and r.segments()[-1][1] == pytest.approx(18.0)
    short = model.predict(clip("drone", 1.0, 3, sr=44_100), 44_100)  # other rates are resampled
    assert short.excerpt_probs.shape == (1, 2) and "padded" in short.notices[0]
    with pytest.raises(AudioError, match="No signal"):
        model.predict(np.zeros(SR * 4, np.float32), SR)
    with pytest.raises(ValueError, match="aggregation"):
        model.predict(y, SR, aggregate="median")


def test_predict_file_caps_long_input_and_writes_csv(trained, tmp_path):
    from core.genre import predict_file

    path = tmp_path / "long.wav"
    sf.write(path, clip("noise", 12.0, 5), SR)
    r = predict_file(str(path), model=str(trained["ast"][0]), max_seconds=6.0)
    assert "only the first 6 s" in r.notices[0] and len(r.starts) == 2
    lines = open(r.to_csv(tmp_path / "x.csv")).read().splitlines()
    assert lines[0].startswith("start_s,end_s,genre,drone,noise") and lines[-1].startswith("whole")


def test_unknown_model_name_is_a_clear_error():
    from core.genre import load

    with pytest.raises(ValueError, match="Unknown genre model"):
        load("no-such-model")


def test_hub_ast_checkpoint_maps_audioset_labels(tmp_path, monkeypatch):
    """The Hub path, offline: a tiny AST saved locally with AudioSet-style labels."""
    from transformers import ASTConfig, ASTForAudioClassification

    from core.genre import load

    names = ["Speech", "Jazz", "Rock music", "Heavy metal", "Techno", "Classical music", "Hip hop music", "House music"]
    cfg = ASTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, max_length=300,
                    num_mel_bins=128, frequency_stride=16, time_stride=16,
                    id2label=dict(enumerate(names)), label2id={n: i for i, n in enumerate(names)})
    ASTForAudioClassification(cfg).save_pretrained(tmp_path / "tiny_ast")
    model = load(str(tmp_path / "tiny_ast"))
    assert model.labels == ["ballad", "classical", "hiphop", "house", "jazz", "rock", "techno"]
    assert model.hub_map[model.labels.index("rock")] == [2, 3] and model.hub_map[0] == []  # no ballad label here
    assert model.extractor.max_length == 300  # must equal config.max_length
    r = model.predict(clip("noise", 7.0, 2), SR)
    assert r.excerpt_probs.shape == (2, 7) and abs(r.probs.sum() - 1) < 1e-5
    assert r.probs[0] == 0  # ballad has no AudioSet label in this checkpoint
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("MUSIC_STUDIO_GENRE_HUB", "MIT/ast-finetuned-audioset-10-10-0.4593")
    from core.genre.api import hub_model

    assert hub_model() is None  # offline: the tab hides the Hub option
    with pytest.raises(ValueError, match="Hub may be unreachable"):
        load("hub:nobody/no-such-ast-model")
