"""core.data.real without network or downloaded data: the reserved-package guard,
the manifest loader, evidence checks and the .deb path on a package built here."""
import json
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from core.data import real


@pytest.fixture(autouse=True)
def reserved_list(tmp_path, monkeypatch):
    """A reserved list in the shared file's format, with made-up names (the real list is never named in code)."""
    path = tmp_path / "RESERVED.md"
    path.write_text("# Reserved\n\nNever use these:\n\n    held-out-music-data held-out-samples\n    held-out-songs\n")
    monkeypatch.setenv(real.RESERVED_ENV, str(path))
    return path


def test_the_reserved_list_is_read_from_the_shared_file_and_no_entry_uses_it(reserved_list, monkeypatch):
    assert real.reserved() == {"held-out-music-data", "held-out-samples", "held-out-songs"}
    real.check_entries()  # the shipped entries
    monkeypatch.setenv(real.RESERVED_ENV, str(reserved_list.parent / "missing.md"))
    with pytest.raises(ValueError, match="was not found"):
        real.check_entries()  # nothing is built or read without the list


def test_check_entries_rejects_reserved_and_bad_labels():
    base = real.ENTRIES[0]
    from dataclasses import replace
    with pytest.raises(ValueError, match="reserved"):
        real.check_entries([replace(base, package="held-out-samples", source="deb")])
    with pytest.raises(ValueError, match="label"):
        real.check_entries([replace(base, label="banjo")])
    with pytest.raises(ValueError, match="reserved"):
        real.fetch_deb("held-out-songs", None, real.DEFAULT_OUT / "never")


def test_load_manifest_drops_reserved_and_unknown(tmp_path):
    recs = [
        {"task": "genre", "label": "rock", "package": "some-music", "path": "audio/genre/rock/a.ogg",
         "duration_s": 3.0, "evidence": "GENRE=Rock", "licence": "GPL-2+", "kind": "track", "version": "1"},
        {"task": "genre", "label": "rock", "package": "held-out-music-data", "path": "audio/genre/rock/b.ogg",
         "duration_s": 3.0, "evidence": "x", "licence": "x", "kind": "track", "version": "1"},
        {"task": "genre", "label": "polka", "package": "other", "path": "audio/genre/polka/c.ogg",
         "duration_s": 3.0, "evidence": "x", "licence": "x", "kind": "track", "version": "1"},
    ]
    (tmp_path / "manifest.json").write_text(json.dumps({"records": recs}))
    got = real.load_manifest(tmp_path)
    assert [r["package"] for r in got] == ["some-music"]
    assert got[0]["group"] == "some-music" and got[0]["abs_path"].endswith("audio/genre/rock/a.ogg")
    md = real.docs_markdown(got)
    assert "| rock | 1 |" in md and "genre / classical: no files" in md


def _wav(path, seconds=0.5, sr=8000):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.zeros(int(seconds * sr), dtype=np.float32), sr)


def test_npm_style_root_evidence_check(tmp_path):
    root = tmp_path / "pkg"
    _wav(root / "C4.wav")
    (root / "package.json").write_text('{"description": "violin samples", "license": "MIT", "version": "2.0"}')
    (root / "README.md").write_text("Samples: CC-by 3.0\n")
    e = real.Entry(source="npm", package="fake-violin", version="2.0", pattern="*.wav", task="instruments",
                   label="violin", kind="note", evidence="{stem}: {match}",
                   checks=(real.Check("package.json", r'"description": "(violin samples)"'),),
                   licence_checks=(real.Check("README.md", r"Samples:\s*(CC-by 3\.0)"),))
    lic = real.npm_licence(root, e)
    assert lic.startswith("CC-BY-3.0")
    recs = real.records_for_entry(e, root, "2.0", lic, tmp_path / "out")
    assert len(recs) == 1 and recs[0]["evidence"] == "C4: violin samples"
    assert abs(recs[0]["duration_s"] - 0.5) < 1e-3
    assert (tmp_path / "out" / recs[0]["path"]).exists()
    # evidence missing -> entry skipped
    from dataclasses import replace
    bad = replace(e, checks=(real.Check("package.json", "cello"),))
    assert real.records_for_entry(bad, root, "2.0", lic, tmp_path / "out2") == []


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")
def test_build_from_local_deb(tmp_path, monkeypatch):
    src = tmp_path / "src"
    _wav(src / "usr/share/games/fake/music/violin_C4.wav")
    doc = src / "usr/share/doc/fake-music-data"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text("Format: x\n\nFiles: *\nCopyright: me\nLicense: GPL-2+\n\n"
                                   "Files: music/*\nCopyright: you\nLicense: CC-BY-SA-3.0\n")
    (src / "DEBIAN").mkdir()
    (src / "DEBIAN/control").write_text("Package: fake-music-data\nVersion: 1.2-3\nArchitecture: all\n"
                                        "Maintainer: t <t@example.org>\nDescription: test\n")
    out = tmp_path / "out"
    (out / "debs").mkdir(parents=True)
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(src),
                    str(out / "debs" / "fake-music-data_1.2-3_all.deb")], check=True, capture_output=True)
    monkeypatch.setattr(real, "_apt_candidate", lambda pkg: pytest.fail("must use the cached .deb"))
    entry = real.Entry(source="deb", package="fake-music-data", version=None, pattern="usr/share/games/fake/music/*",
                       task="instruments", label="violin", kind="note", evidence="file name {name}", group="fake")
    recs = real.build(out, entries=(entry,))
    assert len(recs) == 1
    r = recs[0]
    assert r["version"] == "1.2-3" and r["licence"] == "GPL-2+ (also: CC-BY-SA-3.0)"
    assert r["path_in_package"] == "/usr/share/games/fake/music/violin_C4.wav"
    assert real.load_manifest(out)[0]["evidence"] == "file name violin_C4.wav"
