"""Tempo on real-music labels: the BPM-from-rows arithmetic, the MIREX scoring and the chooser on click tracks
(no downloaded data: a synthetic click grid stands in for a module's rows)."""
import numpy as np
import pytest

from core import tempo
from core.data import modules

SR = 22_050


def clicks(bpm: float, seconds: float = 20.0, sr: int = SR, accent_every: int = 4) -> np.ndarray:
    """A click on every beat (a short decaying noise burst), louder on each bar's first beat."""
    rng = np.random.default_rng(0)
    y = np.zeros(int(seconds * sr), dtype=np.float32)
    burst = (rng.standard_normal(int(0.02 * sr)) * np.exp(-np.linspace(0, 8, int(0.02 * sr)))).astype(np.float32)
    for k, t in enumerate(np.arange(0.1, seconds - 0.05, 60.0 / bpm)):
        i = int(t * sr)
        y[i:i + len(burst)] += burst[: len(y) - i] * (1.0 if k % accent_every == 0 else 0.6)
    return y


@pytest.mark.parametrize("speed,tempo_,rpb,bpm", [(6, 125, 4, 125.0), (3, 125, 8, 125.0), (3, 125, 4, 250.0),
                                                  (4, 125, 4, 187.5), (5, 125, 4, 150.0), (6, 140, 4, 140.0),
                                                  (8, 125, 4, 93.75), (4, 125, 6, 125.0), (2, 176, 16, 132.0)])
def test_bpm_from_rows(speed, tempo_, rpb, bpm):
    assert modules.bpm_from_rows(speed, tempo_, rpb) == pytest.approx(bpm)
    # a beat lasts rpb rows of speed ticks of 2.5 / tempo seconds
    assert 60.0 / bpm == pytest.approx(rpb * modules.row_seconds(speed, tempo_))


def test_bpm_from_rows_rejects_nonsense():
    with pytest.raises(ValueError):
        modules.bpm_from_rows(0, 125)


def test_folded_rows_per_beat():
    assert modules.folded_rows_per_beat(6, 125) == 4
    assert modules.folded_rows_per_beat(3, 125) == 8  # 250 BPM at 4 rows is 125 at 8
    assert modules.folded_rows_per_beat(2, 176) == 16
    assert modules.folded_rows_per_beat(3, 100) == 4  # 200 BPM is kept


def test_rows_per_beat_in_it_header():
    header = bytearray(b"IMPM" + bytes(0x40))
    header[0x1E], header[0x1F] = 6, 24
    assert modules.rows_per_beat_in_header(bytes(header)) == 6
    assert modules.rows_per_beat_in_header(b"Extended Module: " + bytes(64)) is None


def test_beat_grid_keeps_phase_across_pattern_breaks():
    # rows 0..5 of one pattern, then a pattern break to row 0 of the next: beats on rows 0 and 4 of each
    rows = [(0.1 * i, r) for i, r in enumerate([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4])]
    assert modules.beat_grid(rows, 4).tolist() == pytest.approx([0.0, 0.4, 0.6, 1.0])


def test_subdivision_from_note_grid():
    rows = [(0.1 * i, i % 64) for i in range(128)]
    binary = [1 if r % 2 == 0 else 0 for _, r in rows]
    ternary = [1 if r % 3 == 0 else 0 for _, r in rows]
    assert modules.subdivision(rows, binary) == 2
    assert modules.subdivision(rows, ternary) == 3


def test_dat_members_roundtrip():
    import struct

    payload = [("jump.mod", b"M.K.abc"), ("level.pcx", b"xyz")]
    head = struct.pack("<i", len(payload))
    off, body, entries = 4 + 20 * len(payload), b"", b""
    for name, data in payload:
        entries += struct.pack("<12sii", name.encode(), off + len(body), len(data))
        body += data
    assert modules.dat_members(head + entries + body) == dict(payload)


def test_reserved_packages_are_refused(tmp_path, monkeypatch):
    listed = tmp_path / "RESERVED.md"
    listed.write_text("Reserved:\n\n    some-held-out-package another-one\n")
    monkeypatch.setenv("MUSIC_STUDIO_RESERVED", str(listed))
    assert not (set(modules.PACKAGES) & modules.reserved())
    with pytest.raises(ValueError, match="reserved"):
        modules.fetch_package("some-held-out-package", tmp_path)
    monkeypatch.setenv("MUSIC_STUDIO_RESERVED", str(tmp_path / "missing.md"))
    with pytest.raises(ValueError, match="not found"):  # no list, nothing fetched
        modules.fetch_package("ironseed-data", tmp_path)


@pytest.mark.parametrize("est,truth,acc1,acc2", [(125.0, 125.0, True, True), (129.9, 125.0, True, True),
                                                 (130.5, 125.0, False, False), (62.5, 125.0, False, True),
                                                 (250.0, 125.0, False, True), (375.0, 125.0, False, True),
                                                 (41.7, 125.0, False, True), (83.3, 125.0, False, False),
                                                 (None, 125.0, False, False)])
def test_mirex_accuracy(est, truth, acc1, acc2):
    assert tempo.accuracy(est, truth) == (acc1, acc2)


def test_octave_error_names():
    assert tempo._octave_error(125.0, 125.0) == "1"
    assert tempo._octave_error(83.4, 125.0) == "2/3"
    assert tempo._octave_error(62.5, 125.0) == "1/2"
    assert tempo._octave_error(None, 125.0) == "none"


def test_beat_f_measure():
    ref = np.arange(0, 30, 0.5)
    assert tempo.beat_f(ref, ref + 0.01) == pytest.approx(1.0)
    assert tempo.beat_f(ref, ref + 0.25) == pytest.approx(0.0)
    assert tempo.beat_f(ref, np.array([])) == 0.0


@pytest.mark.parametrize("bpm", [70.0, 100.0, 128.0, 174.0])
def test_chooser_on_click_tracks(bpm):
    t = tempo.estimate(clicks(bpm), SR)
    assert t is not None
    assert tempo.accuracy(t.bpm, bpm)[1], (bpm, t.bpm, t.candidates)  # right up to an octave
    ref = np.arange(0.1, 20, 60.0 / bpm)
    beats = t.beats if tempo.accuracy(t.bpm, bpm)[0] else ref
    assert tempo.beat_f(ref, beats) > 0.8


def test_evaluate_real_on_a_tiny_cache(tmp_path):
    """The evaluate command on a one-module cache written here (a click track labelled as a module)."""
    import json

    import soundfile as sf

    (tmp_path / "audio").mkdir()
    y = clicks(125.0)
    sf.write(tmp_path / "audio" / "x__click.wav", y, SR)
    beats = np.arange(0.1, 20, 0.48)
    (tmp_path / "audio" / "x__click.beats.json").write_text(json.dumps(beats.tolist()))
    m = {"id": "x__click", "package": "x", "format": "mod", "speed": 6, "tempo": 125, "rows_per_beat": 4,
         "rows_per_beat_folded": 4, "bpm": 125.0, "bpm_folded": 125.0, "seconds": 20.0}
    (tmp_path / "manifest.json").write_text(json.dumps({"modules": [m]}))
    r = tempo.evaluate_real(tmp_path, methods={"fixed": lambda y, sr: (125.0, beats)})
    assert r["modules"] == 1 and r["summary"]["fixed"]["acc1"] == 1.0 and r["summary"]["fixed"]["beat_f"] == 1.0
