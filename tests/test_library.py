"""The sample library engine (core.library) on a tiny synthesised library: tones and noise bursts in tmp_path."""
from __future__ import annotations

import csv
import importlib
import json
import os
import shutil
import sqlite3
import zipfile

import numpy as np
import pytest
import soundfile as sf

from core.library import (
    Filters,
    LibraryBusy,
    LibrarySearch,
    SearchEnded,
    default_db,
    find_duplicates,
    index,
)
from core.library.index import library_lock, vector

SR = 22_050
index_module = importlib.import_module("core.library.index")  # the module; core.library.index is the function


def _tone(freq, seconds, amp=0.5, sr=SR):
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t) * np.exp(-3 * t)).astype(np.float32)


def _noise(seconds, seed, amp=0.3, sr=SR):
    rng = np.random.default_rng(seed)
    y = amp * rng.standard_normal(int(seconds * sr)).astype(np.float32)
    return y * np.exp(-8 * np.arange(len(y)) / sr).astype(np.float32)


def _clicks(bpm, seconds, sr=SR):
    y = np.zeros(int(seconds * sr), np.float32)
    for t in np.arange(0, seconds, 60 / bpm):
        i = int(t * sr)
        y[i:i + 400] += _noise(400 / sr, int(t * 1000), 0.8)[:len(y[i:i + 400])]
    return y


@pytest.fixture
def library(tmp_path):
    """Six sounds in two folders (and a symlink back to the root that must not be followed)."""
    root = tmp_path / "lib"
    (root / "drums").mkdir(parents=True)
    (root / "tones").mkdir()
    sf.write(root / "tones" / "a440.wav", _tone(440, 1.0), SR)
    sf.write(root / "tones" / "c262.wav", _tone(262, 1.2), SR)
    sf.write(root / "tones" / "e1320.flac", _tone(1320, 0.8), SR)
    sf.write(root / "drums" / "noise_kick.wav", _noise(0.5, 1), SR)
    sf.write(root / "drums" / "hat.wav", np.diff(_noise(0.3, 2), prepend=0).astype(np.float32), SR)
    sf.write(root / "drums" / "loop_120.wav", _clicks(120, 4.0), SR)
    (root / "drums" / "back").symlink_to(root, target_is_directory=True)
    return root


def _paths(db):
    con = sqlite3.connect(db)
    try:
        return sorted(r[0] for r in con.execute("SELECT path FROM files"))
    finally:
        con.close()


def test_index_is_incremental_and_lists_unreadable_files(library):
    r = index(library)
    assert (r.added, r.updated, r.removed, r.errors) == (6, 0, 0, [])
    db = default_db(library)
    assert len(_paths(db)) == 6 and not any("back/" in p for p in _paths(db))  # the symlinked folder: not entered
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert index(library).analysed == 0
    f = library / "tones" / "a440.wav"
    sf.write(f, _tone(440, 1.0, amp=0.4), SR)
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    r = index(library)
    assert (r.added, r.updated, r.removed) == (0, 1, 0)
    (library / "tones" / "e1320.flac").unlink()
    (library / "broken.wav").write_bytes(b"RIFF\x00\x00not audio at all")
    r = index(library)
    assert (r.added, r.updated, r.removed) == (1, 0, 1)
    assert [p for p, _ in r.errors] == ["broken.wav"] and r.errors[0][1]
    row = sqlite3.connect(db).execute("SELECT status, error FROM files WHERE path='broken.wav'").fetchone()
    assert row[0] == "error" and row[1]
    loop = sqlite3.connect(db).execute("SELECT bpm, duration, tags FROM files WHERE path = ?",
                                       ("drums/loop_120.wav",)).fetchone()
    assert loop[1] == pytest.approx(4.0, abs=0.01) and len(json.loads(loop[2])) == 5
    one_shot = sqlite3.connect(db).execute("SELECT bpm, lufs FROM files WHERE path='drums/hat.wav'").fetchone()
    assert one_shot[0] is None and one_shot[1] is None  # too short for tempo and for gated loudness


def test_a_crash_loses_only_the_files_in_flight_and_a_rerun_resumes(library):
    seen = []

    def crash(fraction, message):
        seen.append(message)
        if len(seen) == 3:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        index(library, progress=crash, commit_every=2)
    assert len(_paths(default_db(library))) == 2  # committed every 2 files: the third was in flight
    r = index(library)
    assert r.added == 4 and len(_paths(default_db(library))) == 6


def test_a_second_indexer_is_refused(library):
    with library_lock(library):
        with pytest.raises(LibraryBusy, match="Another process"):
            index(library)
    assert index(library).added == 6  # released


def test_a_file_changed_while_read_is_left_for_the_next_run(library, monkeypatch):
    real = index_module.analyse

    def analyse_then_write(path, rel=None, spaces=index_module.SPACES):
        row = real(path, rel, spaces)
        if rel == "tones/c262.wav":
            with open(path, "ab") as f:
                f.write(b"\x00\x00")  # a download still arriving
        return row

    monkeypatch.setattr(index_module, "analyse", analyse_then_write)
    r = index(library)
    assert r.deferred == 1 and "tones/c262.wav" not in _paths(default_db(library))
    monkeypatch.setattr(index_module, "analyse", real)
    assert index(library).added == 1


def test_search_by_example_feedback_patience_and_export(library, tmp_path):
    index(library)
    query = tmp_path / "query.wav"
    sf.write(query, 0.5 * _tone(440, 1.0), SR)  # outside the library, 6 dB down
    for space in ("musicnn", "mel"):
        s = LibrarySearch(library, query, space=space)
        assert s.results(1)[0].path == "tones/a440.wav", space
    s = LibrarySearch(library, library / "drums" / "noise_kick.wav", space="mel", patience=3)
    first = [r.path for r in s.results(5)]
    assert "drums/noise_kick.wav" not in first  # a query inside the library is not its own answer
    s.answer(first[0], yes=False)
    after = [r.path for r in s.results(5)]
    assert first[0] not in after and after != first[1:]
    s.undo()
    assert [r.path for r in s.results(5)] == first
    s.answer(first[0], yes=True)
    s.answer(s.next().path, yes=False)
    s.answer(s.next().path, yes=False)
    assert not s.ended  # 2 No in a row, patience 3
    s.answer(s.next().path, yes=False)
    assert s.ended and s.misses_in_a_row == 3
    with pytest.raises(SearchEnded):
        s.answer(first[0], yes=True)
    assert [r.path for r in s.chosen()] == [first[0]]
    s.undo()
    assert not s.ended  # ending can be undone
    s.to_csv(tmp_path / "hits.csv")
    rows = list(csv.DictReader(open(tmp_path / "hits.csv")))
    assert rows[0]["path"] == first[0] and rows[0]["answer"] == "yes" and len(rows) == 5
    s.to_json(tmp_path / "hits.json")
    assert json.loads((tmp_path / "hits.json").read_text())["results"][0]["answer"] == "yes"
    s.export_zip(tmp_path / "chosen.zip")
    assert zipfile.ZipFile(tmp_path / "chosen.zip").namelist() == [r.path for r in s.chosen()]
    # an array query
    s = LibrarySearch(library, (SR, _tone(262, 1.2)), space="mel")
    assert s.results(1)[0].path == "tones/c262.wav"


def test_filters(library):
    index(library)
    q = library / "tones" / "a440.wav"
    assert {r.path for r in LibrarySearch(library, q, "mel", Filters(max_s=0.6)).results(10)} == {
        "drums/noise_kick.wav", "drums/hat.wav"}
    assert {r.path for r in LibrarySearch(library, q, "mel", Filters(min_s=2)).results(10)} == {"drums/loop_120.wav"}
    by_tag = LibrarySearch(library, q, "mel", Filters(tag="kick")).results(10)
    assert [r.path for r in by_tag] == ["drums/noise_kick.wav"]
    by_tempo = LibrarySearch(library, q, "mel", Filters(min_bpm=60, max_bpm=250)).results(10)
    assert [r.path for r in by_tempo] == ["drums/loop_120.wav"] and by_tempo[0].bpm
    assert LibrarySearch(library, q, "mel", Filters(bpm=by_tempo[0].bpm)).results(10)[0].path == "drums/loop_120.wav"
    assert LibrarySearch(library, q, "mel", Filters(bpm=33)).results(10) == []
    r = LibrarySearch(library, q, "musicnn").results(1)[0].to_dict()
    assert set(r) == {"path", "score", "duration", "tags", "bpm", "answer", "key"}


def _chord(midi_notes, seconds=3.0, sr=SR):
    t = np.arange(int(seconds * sr)) / sr
    y = sum(np.sin(2 * np.pi * 440 * 2 ** ((m - 69) / 12) * k * t) / k for m in midi_notes for k in (1, 2, 3))
    return (0.2 * y / len(midi_notes)).astype(np.float32)


def test_loops_carry_key_beats_and_chords_and_the_key_filter_takes_the_relative_key_too(tmp_path):
    from core.key import relative_key

    assert relative_key("C major") == "A minor" and relative_key("A minor") == "C major"
    assert relative_key("F# minor") == "A major" and relative_key("nonsense") is None
    root = tmp_path / "keys"
    root.mkdir()
    sf.write(root / "a_minor.wav", _chord([57, 60, 64, 69]), SR)  # A C E A
    sf.write(root / "e_major.wav", _chord([52, 56, 59, 64]), SR)  # E G# B E
    sf.write(root / "blip.wav", _tone(440, 0.5), SR)  # a one-shot: no key
    index(root)
    rows = {r["path"]: r for r in index_module.rows(default_db(root))}
    assert rows["a_minor.wav"]["key"] == "A minor" and rows["blip.wav"]["key"] is None
    assert json.loads(rows["a_minor.wav"]["chords"])[0][2].startswith("A:min")
    assert isinstance(json.loads(rows["a_minor.wav"]["beats"]), list)
    q = root / "e_major.wav"
    assert [r.path for r in LibrarySearch(root, q, "mel", Filters(key="C major")).results(10)] == ["a_minor.wav"]
    assert LibrarySearch(root, q, "mel", Filters(key="A minor")).results(10)[0].key == "A minor"


def test_an_index_from_before_keys_gains_the_columns_and_reads_its_files_again(library):
    db = default_db(library)
    con = sqlite3.connect(db)  # the first schema, without key, beats, downbeats, chords
    con.executescript("CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, "
                      "status TEXT NOT NULL, error TEXT, duration REAL, sample_rate INTEGER, channels INTEGER, "
                      "lufs REAL, peak_dbfs REAL, bpm REAL, tags TEXT, emb_musicnn BLOB, emb_mel BLOB, "
                      "indexed_at REAL); CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);")
    st = (library / "drums" / "loop_120.wav").stat()
    con.execute("INSERT INTO files (path, size, mtime_ns, status) VALUES (?, ?, ?, 'ok')",
                ("drums/loop_120.wav", st.st_size, st.st_mtime_ns))
    con.commit()
    con.close()
    r = index(library)
    assert r.updated == 1 and r.added == 5  # the old row is read again, not trusted
    row = next(x for x in index_module.rows(db) if x["path"] == "drums/loop_120.wav")
    assert row["bpm"] and row["beats"] and row["emb_musicnn"] is not None


def test_a_moved_library_is_still_searchable(library, tmp_path):
    index(library)
    moved = tmp_path / "elsewhere" / "samples"
    moved.parent.mkdir()
    (library / "drums" / "back").unlink()
    shutil.move(str(library), str(moved))
    s = LibrarySearch(moved, moved / "tones" / "a440.wav", "mel")
    assert len(s.results(10)) == 5
    assert index(moved).analysed == 0  # nothing looks changed


def test_duplicates_group_a_gain_changed_trimmed_copy_not_a_different_sound(library):
    y = _tone(440, 1.0)
    sf.write(library / "tones" / "a440_copy.wav", 0.5 * y[: int(0.95 * len(y))], SR)  # −6 dB, 5 % trimmed
    sf.write(library / "tones" / "a440.ogg", y, SR, format="OGG", subtype="VORBIS")  # re-encoded
    index(library)
    groups = find_duplicates(library)
    assert [g.paths for g in groups] == [["tones/a440.ogg", "tones/a440.wav", "tones/a440_copy.wav"]]
    assert groups[0].to_dict()["similarity"] >= 0.99


def test_the_dask_engine_writes_the_same_index(library, tmp_path):
    from distributed import Client, LocalCluster

    from core.backbones.embed import forget

    index(library)
    forget()  # the workers share this process (threads): make them compute the embeddings again
    other = tmp_path / "dask.sqlite"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        r = index(library, db=other, engine="dask", client=client)
    assert r.added == 6 and r.engine == "dask"
    a = index_module.rows(default_db(library))
    b = index_module.rows(other)
    assert [x["path"] for x in a] == [x["path"] for x in b]
    for x, y in zip(a, b):
        assert x["duration"] == y["duration"] and x["tags"] == y["tags"] and x["key"] == y["key"]
        assert x["beats"] == y["beats"] and x["chords"] == y["chords"]
        for space in index_module.SPACES:
            assert np.allclose(vector(x[f"emb_{space}"]), vector(y[f"emb_{space}"]), atol=1e-3)


def test_the_cli(library, capsys):
    from core.library.__main__ import main

    assert main(["index", str(library)]) == 0
    assert "6 added" in capsys.readouterr().out
    assert main(["search", str(library / "tones" / "a440.wav"), "--library", str(library), "--space", "mel",
                 "--k", "2", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2
    assert main(["duplicates", str(library)]) == 0
    assert "0 group(s)" in capsys.readouterr().out
    assert main(["search", "x.wav", "--library", str(library / "nowhere")]) == 2


def test_the_no_weight_in_use_is_the_one_the_evaluation_chose():
    from pathlib import Path

    from core.library.search import NEGATIVE_WEIGHT

    figure = Path(__file__).resolve().parents[1] / "docs" / "figures" / "library_eval.json"
    assert json.loads(figure.read_text())["negative_weight_chosen"] == NEGATIVE_WEIGHT
