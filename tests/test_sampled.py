"""Sampled renders (issue 26): passages sequenced from sampled notes, on a tiny synthetic bank of sine "notes"
written here (no network, no real data)."""
import json

import numpy as np
import pytest
import soundfile as sf

from core.data import sampled as S

SR = S.SR


def _sine_note(path, midi, seconds=1.5, sr=SR):
    t = np.arange(int(seconds * sr)) / sr
    y = 0.5 * np.sin(2 * np.pi * S.midi_hz(midi) * t) * np.exp(-t / 3)
    sf.write(path, y.astype(np.float32), sr)
    return path


@pytest.fixture
def bank_records(tmp_path):
    """Note records as core.data.real writes them: violin C4/E4/G#4 in one package, piano in two."""
    folder = tmp_path / "notes"
    folder.mkdir()
    recs = []
    for label, package, names in (("violin", "fake-violin", ("C4", "E4", "Gs4")),
                                  ("piano", "fake-piano-a", ("C4", "Ds4", "Fs4", "A4")),
                                  ("piano", "fake-piano-b", ("C4v10", "D#4v10", "F#4v10", "A4v10"))):
        for name in names:
            p = _sine_note(folder / f"{package}-{name}.wav", S.parse_note(name))
            recs.append({"task": "instruments", "label": label, "kind": "note", "package": package, "version": "1.0",
                         "licence": "CC0 (test)", "path_in_package": f"{name}.wav", "abs_path": str(p)})
    return recs


@pytest.fixture
def bank(bank_records):
    return S.sample_bank([r for r in bank_records if r["label"] == "violin"])["violin"]


def _peak_hz(y, sr=SR):
    w = y * np.hanning(len(y))
    spec = np.abs(np.fft.rfft(w, 1 << 19))
    k = int(np.argmax(spec))
    a, b, c = np.log(spec[k - 1:k + 2] + 1e-12)
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * sr / (1 << 19)


def _tune(tid, kind, n=48, low=55):
    """A line within an octave (what the tiny bank can reach), quarter notes with a strong beat every two."""
    scale = [0, 2, 4, 5, 7, 9, 11, 12]
    notes = tuple((float(i), 1.0, low + scale[(i * 5) % len(scale)], 1.0 if i % 2 == 0 else 0.25) for i in range(n))
    return S.Tune(tid, f"test/{tid}", kind, "test melody", notes, tid)


# ----------------------------------------------------------------------------- notes and samples

@pytest.mark.parametrize("name,midi", [("C4", 60), ("Ds4", 63), ("D#4", 63), ("A#3", 58), ("As3", 58),
                                       ("D#1v10", 27), ("A0v10.ogg", 21), ("Gs4.mp3", 68), ("Fs6.mp3", 90)])
def test_parse_note(name, midi):
    assert S.parse_note(name) == midi


def test_parse_note_rejects_other_names():
    assert S.parse_note("clarinet.ogg") is None and S.parse_note("README") is None


def test_sample_bank_groups_by_label_and_sorts_by_pitch(bank_records):
    b = S.sample_bank(bank_records)
    assert set(b) == {"violin", "piano"}
    assert [m for m, _ in b["violin"]] == [60, 64, 68]
    assert [m for m, _ in b["piano"]] == [60, 60, 63, 63, 66, 66, 69, 69]


def test_nearest_sample_and_the_shift_limit(bank):
    assert S.nearest_sample(bank, 61)[0] == 60
    assert S.nearest_sample(bank, 63)[0] == 64
    assert S.nearest_sample(bank, 62)[0] == 60  # a tie goes to the lower sample
    assert S.nearest_sample(bank, 71)[0] == 68  # +3: the most allowed
    assert S.nearest_sample(bank, 72) is None and S.nearest_sample(bank, 56) is None
    assert S.covered(bank) == frozenset(range(57, 72))


def test_pitch_check_catches_misnamed_notes():
    t = np.arange(SR * 2) / SR
    a4 = (0.5 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 880 * t)).astype(np.float32)
    assert S.pitch_check(a4, SR, 69) is None
    assert "no fundamental" in S.pitch_check(a4, SR, 57)  # named an octave low
    assert S.pitch_check(a4, SR, 70) is not None  # named a semitone high
    leak = a4 + 0.05 * np.sin(2 * np.pi * S.midi_hz(70) * t).astype(np.float32)  # some energy at the named pitch
    assert "semitone below" in S.pitch_check(leak, SR, 70)
    assert S.pitch_check(np.zeros(SR, np.float32), SR, 69) == "silent"


def test_build_drops_a_misnamed_sample(bank_records):
    bad = dict(bank_records[0], path_in_package="D4.wav")  # a C4 sine named D4
    kept, dropped = S._checked(bank_records + [bad])
    assert kept == bank_records
    assert len(dropped) == 1 and dropped[0]["package"] == "fake-violin" and "fundamental" in dropped[0]["reason"]


def test_shift_ratio():
    assert S.shift_ratio(12) == pytest.approx(2.0)
    assert S.shift_ratio(-3) == pytest.approx(2 ** -0.25)


@pytest.mark.parametrize("target", [58, 62, 66, 71])
def test_rendered_note_has_the_target_pitch(bank, target):
    y = S.render_passage([S.Note(0.0, 1.0, target, 0.5)], bank, SR, np.random.default_rng(1))
    seg = y[int(0.1 * SR):int(0.9 * SR)]
    cents = 1200 * np.log2(_peak_hz(seg) / S.midi_hz(target))
    assert abs(cents) < 3, cents


def test_repitch_changes_length_by_the_ratio():
    y = np.random.default_rng(0).standard_normal(SR).astype(np.float32)
    out = S.repitch(y, 5, SR)
    assert len(out) == pytest.approx(SR / S.shift_ratio(5), abs=3)
    assert len(S.repitch(y, -2, SR, n_out=1000)) == 1000


def test_notes_out_of_reach_are_skipped(bank):
    y = S.render_passage([S.Note(0.0, 0.5, 90, 0.5)], bank, SR, np.random.default_rng(0), length=1.0)
    assert len(y) == SR and not np.any(y)


def test_onsets_land_where_asked(bank):
    onsets = [0.5, 1.5, 2.5, 3.5, 4.5]
    notes = [S.Note(t, 0.4, 64, 0.5) for t in onsets]
    y = S.render_passage(notes, bank, SR, np.random.default_rng(3), S.Style(release=0.02), length=5.5)
    loud = np.abs(y) > 0.05 * np.max(np.abs(y))
    found = []
    for t in onsets:
        lo = int((t - S.JITTER_MAX - 0.01) * SR)
        found.append((lo + int(np.argmax(loud[lo:]))) / SR)
    err = np.array(found) - onsets
    assert np.all(np.abs(err) <= S.JITTER_MAX + 0.005), err
    assert np.any(np.abs(err) > 0.001)  # human timing: not on the grid


def test_velocity_is_gain_within_the_bound(bank):
    soft = S.render_passage([S.Note(0.0, 0.5, 64, 0.0)], bank, SR, np.random.default_rng(0))
    loud = S.render_passage([S.Note(0.0, 0.5, 64, 1.0)], bank, SR, np.random.default_rng(0))
    assert 20 * np.log10(np.max(np.abs(loud)) / np.max(np.abs(soft))) == pytest.approx(2 * S.VELOCITY_DB, abs=0.1)


def test_legato_overlaps_and_piano_rings(bank):
    a = [S.Note(0.0, 0.5, 60, 0.5), S.Note(0.5, 0.5, 64, 0.5)]
    dry = S.render_passage(a, bank, SR, np.random.default_rng(0), S.Style(release=0.01))
    leg = S.render_passage(a, bank, SR, np.random.default_rng(0), S.Style(legato=(0.04, 0.04), release=0.01))
    ring = S.render_passage(a[:1], bank, SR, np.random.default_rng(0), S.Style(release=0.01, ring=(0.5, 0.5)))
    # the same seed draws the same jitter: only the first (connected) note's end moves, by the overlap
    diff = np.flatnonzero(np.abs(leg - dry) > 1e-6) / SR
    assert len(diff) and 0.5 - S.JITTER_MAX <= diff[0] and diff[-1] <= 0.5 + S.JITTER_MAX + 0.04 + 0.011
    # a ringing note lasts its length plus the ring (after its jittered onset), still sounding in the ring
    assert 1.0 <= len(ring) / SR <= 1.0 + S.JITTER_MAX + 1e-3
    assert np.max(np.abs(ring[int(0.6 * SR):int(0.7 * SR)])) > 0.01


def test_render_is_deterministic_for_a_seed(bank):
    notes = [S.Note(0.3 * i, 0.3, 60 + (i % 8), 0.5) for i in range(12)]
    a = S.render_passage(notes, bank, SR, np.random.default_rng(7))
    b = S.render_passage(notes, bank, SR, np.random.default_rng(7))
    c = S.render_passage(notes, bank, SR, np.random.default_rng(8))
    assert np.array_equal(a, b)
    assert not (len(a) == len(c) and np.allclose(a, c))


def test_room_and_amp_are_seeded_and_keep_length():
    y = np.random.default_rng(0).standard_normal(SR).astype(np.float32) * 0.1
    r1, p1 = S.room(y, SR, np.random.default_rng(1))
    r2, p2 = S.room(y, SR, np.random.default_rng(1))
    assert np.array_equal(r1, r2) and p1 == p2 and len(r1) == len(y)
    d, p = S.amp(y, SR, np.random.default_rng(1))
    assert len(d) == len(y) and 4000 <= p["lowpass_hz"] <= 5000 and np.all(np.isfinite(d))
    assert np.max(np.abs(S.normalise(d))) == pytest.approx(10 ** (S.PEAK_DBFS / 20), rel=1e-4)


# ----------------------------------------------------------------------------- melodies

@pytest.mark.parametrize("label", sorted(S.RANGES))
def test_fit_range_keeps_every_note_in_range(label):
    lo, hi = S.RANGES[label]
    line = [30, 34, 37, 41, 42, 39, 30]  # far below every range, a 12-semitone span
    for seed in range(5):
        s = S.fit_range(line, lo, hi, np.random.default_rng(seed))
        assert s is not None and all(lo <= p + s <= hi for p in line)


def test_fit_range_respects_the_samples_and_refuses_what_cannot_fit(bank):
    reach = S.covered(bank)
    s = S.fit_range([0, 4, 7, 12], 50, 90, np.random.default_rng(0), reach)
    assert all(p + s in reach for p in (0, 4, 7, 12))
    assert S.fit_range([0, 40], 50, 80) is None
    assert S.fit_range([0, 20], 50, 90, None, reach) is None  # wider than the bank's reach


def test_excerpt_length_and_timing():
    rng = np.random.default_rng(0)
    notes, length, info = S.excerpt(_tune("t", "folk", 80), rng)
    assert S.MIN_S <= length <= S.MAX_S
    assert S.LEAD_S[0] <= notes[0].onset <= S.LEAD_S[1]
    assert all(n.onset + n.duration <= length - S.TAIL_S + 1e-3 for n in notes)
    assert info["notes"] == len(notes) >= S.MIN_NOTES
    assert S.excerpt(_tune("short", "folk", 5), rng) is None


def test_load_tune_reads_a_chorale_soprano_line():
    pytest.importorskip("music21")
    files = S.chorale_files()
    assert "bach/bwv10.7.mxl" in files and "bach/bwv846.mxl" not in files
    t = S.load_tune("bach/bwv10.7.mxl")
    assert t.id == "bach-bwv10.7" and t.kind == "chorale" and len(t.notes) > 20
    assert all(55 <= m <= 84 for _, _, m, _ in t.notes)  # a soprano's range
    onsets = [o for o, *_ in t.notes]
    assert onsets == sorted(onsets)


# ----------------------------------------------------------------------------- build, items, docs

def _build(bank_records, out, seed=0):
    tunes = {"chorale": [_tune(f"ch{i}", "chorale", low=60 + i) for i in range(3)],
             "folk": [_tune(f"fk{i}", "folk", low=62 + i) for i in range(3)]}
    return S.build(None, out, per_class=3, seed=seed, records=bank_records, tunes=tunes, fetch=False)


def test_build_writes_files_and_manifest(bank_records, tmp_path):
    out = tmp_path / "sampled"
    rows = _build(bank_records, out)
    data = json.loads((out / "manifest.json").read_text())
    assert data["records"] == rows and len(rows) == 6
    assert {r["label"] for r in rows} == {"violin", "piano"}
    for r in rows:
        assert r["kind"] == "sampled-render" and r["source"] == "sampled"
        assert r["group"] in r["path"] and r["path"].startswith(f"{r['label']}/") and r["path"].endswith(".flac")
        assert r["samples"][0]["package"] == r["package"] and r["samples"][0]["files"]
        assert r["melody"]["corpus"].startswith("test/") and "not a real recording" in r["evidence"]
        y, sr = sf.read(out / r["path"])
        assert sr == SR and y.ndim == 1 and len(y) / sr == pytest.approx(r["duration_s"], abs=1e-3)
        assert S.MIN_S <= r["duration_s"] <= S.MAX_S
        assert -1.1 <= r["peak_dbfs"] <= -0.9
        lo, hi = S.RANGES[r["label"]]
        assert lo <= r["pitch_range"][0] <= r["pitch_range"][1] <= hi
    groups = {r["group"] for r in rows}
    assert groups <= {f"ch{i}" for i in range(3)} | {f"fk{i}" for i in range(3)}
    missing = {m["label"] for m in data["missing"]}
    assert {"tenor saxophone", "female singer", "distorted electric guitar", "clarinet", "flute",
            "trumpet"} == missing
    items = S.items(out)
    assert len(items) == 6 and {i.source for i in items} == {"sampled"} and {i.kind for i in items} == {S.KIND}
    assert {i.subset for i in items} <= {"fake-violin", "fake-piano-a", "fake-piano-b"}
    assert all(i.path.is_file() and i.group in groups for i in items)
    md = S.docs_markdown(S.load(out)["records"], data["missing"])
    assert "not real recordings" in md and "## violin" in md and "tenor saxophone" in md
    assert "| violin | 3 |" in md and "algorithmic" in md


def test_build_is_deterministic_for_a_seed(bank_records, tmp_path):
    a = _build(bank_records, tmp_path / "a", seed=1)
    b = _build(bank_records, tmp_path / "b", seed=1)
    c = _build(bank_records, tmp_path / "c", seed=2)
    assert a == b
    for ra, rb in zip(a, b):
        assert np.array_equal(sf.read(tmp_path / "a" / ra["path"])[0], sf.read(tmp_path / "b" / rb["path"])[0])
    assert [r["room"] for r in a] != [r["room"] for r in c]
