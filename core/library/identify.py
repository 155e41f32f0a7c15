"""Sample identification: which library file sounds in a region of a song, measured where the truth is exact.

A tracker module carries its own samples and plays them from its pattern data, so it answers the question
exactly. For every module of the real tracker set (``core.data.modules``: Debian packages, none reserved):

- **the library**: each instrument (or sample, in formats without instruments) heard in the module's first
  ``SECONDS``, struck alone once at ``NOTE`` through libopenmpt's interactive interface (``play_note``, the
  song's own channels silenced): a one-shot per sound, as a producer's library holds them;
- **the truth**: the module rendered once per instrument with every other instrument muted (the stems add up
  to the mix within 1e-6), and for each instrument the ``REGION_S`` window of the mix where its stem carries
  the largest share of the energy;
- **the query**: that window of the full mix, as a user would mark it.

The library is every module's one-shots together (hundreds of files), indexed by ``core.library.index`` like any
folder: a right answer picks the one instrument out of all of them. Reported per embedding space: top-1 and
top-10, for all queries and split by how much of the window the sampled sound carries (dominant: at least half of
its energy).

    python -m core.library.identify [--write]     # builds .cache/identify; prints (and writes) the figures and
                                                  # the table in docs/library.md
"""
from __future__ import annotations

import argparse
import ctypes
import json
import re
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core.data import modules
from core.library.evaluate import write_block
from core.library.index import SPACES, default_db, embed_audio, index
from core.library.search import Catalog

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "identify"
FIGURE = ROOT / "docs" / "figures" / "sample_id_eval.json"
DOC = ROOT / "docs" / "library.md"
MARK = ("<!-- sample-id:start -->", "<!-- sample-id:end -->")
SR = 22_050
SECONDS = 30.0  # of each module: the stems and the queries
REGION_S = 3.0  # a query: one musicnn patch of the mix
NOTE = 48  # C-4 (libopenmpt counts from C-0 = 0): the one-shot's pitch
ONE_SHOT_S = 1.5  # under the index's 2 s for a tempo and key: a one-shot has neither
HEARD_RMS = 1e-3  # a stem quieter than this over the whole excerpt is an instrument the excerpt does not play
DOMINANT = 0.5  # share of the window's energy above which the sampled sound dominates the query
TOP = (1, 10)
OWN_TOP = (1, 3)  # among the song's own sounds (a handful): top-10 would be every one of them

# --- libopenmpt's interactive extension (libopenmpt_ext.h) through ctypes ---------------------------------------

_V = ctypes.c_void_p


class _Interactive(ctypes.Structure):
    """``openmpt_module_ext_interface_interactive``: 16 function pointers, in the header's order."""
    _fields_ = [(name, _V) for name in (
        "set_current_speed", "set_current_tempo", "set_tempo_factor", "get_tempo_factor", "set_pitch_factor",
        "get_pitch_factor", "set_global_volume", "get_global_volume", "set_channel_volume", "get_channel_volume",
        "set_channel_mute_status", "get_channel_mute_status", "set_instrument_mute_status",
        "get_instrument_mute_status", "play_note", "stop_note")]


_SET_VOLUME = ctypes.CFUNCTYPE(ctypes.c_int, _V, ctypes.c_int32, ctypes.c_double)
_SET_MUTE = ctypes.CFUNCTYPE(ctypes.c_int, _V, ctypes.c_int32, ctypes.c_int)
_PLAY_NOTE = ctypes.CFUNCTYPE(ctypes.c_int32, _V, ctypes.c_int32, ctypes.c_int32, ctypes.c_double, ctypes.c_double)


def _ext_lib():
    lib = modules.libopenmpt()
    if not getattr(lib, "_ext_ready", False):
        lib.openmpt_module_ext_create_from_memory.restype = _V
        lib.openmpt_module_ext_create_from_memory.argtypes = [_V, ctypes.c_size_t] + [_V] * 7
        lib.openmpt_module_ext_get_module.restype = _V
        lib.openmpt_module_ext_get_module.argtypes = [_V]
        lib.openmpt_module_ext_destroy.argtypes = [_V]
        lib.openmpt_module_ext_get_interface.restype = ctypes.c_int
        lib.openmpt_module_ext_get_interface.argtypes = [_V, ctypes.c_char_p, _V, ctypes.c_size_t]
        for what in ("instruments", "samples"):
            f = getattr(lib, f"openmpt_module_get_num_{what}")
            f.restype, f.argtypes = ctypes.c_int32, [_V]
            f = getattr(lib, f"openmpt_module_get_{what[:-1]}_name")
            f.restype, f.argtypes = _V, [_V, ctypes.c_int32]
        lib._ext_ready = True
    return lib


class Player:
    """One module opened with the interactive extension; closed by ``close()`` (or ``with``)."""

    def __init__(self, data: bytes):
        self.lib = _ext_lib()
        self._buf = ctypes.create_string_buffer(data, len(data))  # libopenmpt copies it, but keep it for safety
        self.ext = self.lib.openmpt_module_ext_create_from_memory(self._buf, len(data), *([None] * 7))
        if not self.ext:
            raise ValueError("libopenmpt could not read the module")
        self.mod = self.lib.openmpt_module_ext_get_module(self.ext)
        self.iface = _Interactive()
        if not self.lib.openmpt_module_ext_get_interface(self.ext, b"interactive", ctypes.byref(self.iface),
                                                         ctypes.sizeof(self.iface)):
            self.close()
            raise ValueError("this libopenmpt has no interactive interface")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        if self.ext:
            self.lib.openmpt_module_ext_destroy(self.ext)
            self.ext = None

    @property
    def sounds(self) -> int:
        """Instruments, or samples where the format has no instruments (what ``set_instrument_mute_status`` and
        ``play_note`` index, from 0)."""
        return int(self.lib.openmpt_module_get_num_instruments(self.mod)) or int(
            self.lib.openmpt_module_get_num_samples(self.mod))

    def name(self, i: int) -> str:
        has_instruments = self.lib.openmpt_module_get_num_instruments(self.mod) > 0
        f = self.lib.openmpt_module_get_instrument_name if has_instruments else self.lib.openmpt_module_get_sample_name
        p = f(self.mod, i)
        if not p:
            return ""
        try:
            return ctypes.string_at(p).decode("latin1").strip()
        finally:
            self.lib.openmpt_free_string(p)

    def solo(self, i: int) -> None:
        mute = _SET_MUTE(self.iface.set_instrument_mute_status)
        for j in range(self.sounds):
            mute(self.ext, j, int(j != i))

    def strike(self, i: int, note: int = NOTE) -> None:
        """Silence the song's own channels and strike sound ``i`` once on a free channel."""
        volume = _SET_VOLUME(self.iface.set_channel_volume)
        for c in range(int(self.lib.openmpt_module_get_num_channels(self.mod))):
            volume(self.ext, c, 0.0)
        _PLAY_NOTE(self.iface.play_note)(self.ext, i, note, 1.0, 0.0)

    def render(self, seconds: float, sr: int = SR) -> np.ndarray:
        out = np.zeros(int(seconds * sr), np.float32)
        n = self.lib.openmpt_module_read_float_mono(self.mod, sr, len(out),
                                                    out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
        return out[:n]


# --- pure parts: the region of a query, the rank of the truth ----------------------------------------------------

def window_energy(y: np.ndarray, sr: int, seconds: float = REGION_S, hop_s: float = 0.5) -> np.ndarray:
    """(windows,) energy of ``seconds`` windows every ``hop_s`` (the last full window is the last one)."""
    win, hop = int(seconds * sr), int(hop_s * sr)
    if len(y) < win:
        return np.zeros(0)
    c = np.concatenate([[0.0], np.cumsum(np.square(y, dtype=np.float64))])
    starts = np.arange(0, len(y) - win + 1, hop)
    return c[starts + win] - c[starts]


def best_region(stem: np.ndarray, mix: np.ndarray, sr: int, seconds: float = REGION_S,
                hop_s: float = 0.5) -> tuple[float, float] | None:
    """(start s, share) of the window where the stem carries the largest share of the mix's energy, among the
    windows where the stem is within 20 dB of its loudest; None when the stem is silent throughout."""
    es, em = window_energy(stem, sr, seconds, hop_s), window_energy(mix, sr, seconds, hop_s)
    if es.size == 0 or es.max() <= 0:
        return None
    share = es / np.maximum(em, 1e-12)
    share[es < es.max() / 100] = -1.0  # too quiet there to be what the user marks
    k = int(np.argmax(share))
    return k * hop_s, float(min(share[k], 1.0))


def rank_of(scores: np.ndarray, truth: int) -> int:
    """1-based rank of ``truth`` when ``scores`` are sorted best first (ties count against it)."""
    return int(np.sum(scores >= scores[truth]))


# --- building the set and measuring --------------------------------------------------------------------------

@dataclass
class Query:
    module: str
    sound: int
    name: str
    truth: str  # the one-shot's path inside the library
    start: float  # s, in the module's excerpt
    share: float  # of the window's energy carried by the truth's stem


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:24] or "untitled"


def module_bytes(m: dict, cache: Path = modules.CACHE) -> bytes:
    """A kept module's file, from its extracted package (``archive.dat:member`` for packed ones)."""
    path = m["path"]
    archive, _, member = path.partition(":")
    data = (cache / "pkg" / m["package"] / archive.lstrip("/")).read_bytes()
    return modules.dat_members(data)[member] if member else data


def build(out: Path = CACHE, module_cache: Path = modules.CACHE, seconds: float = SECONDS) -> dict:
    """One-shots (``out/library``), mix excerpts (``out/mixes``) and the queries (``out/queries.json``)."""
    import soundfile as sf

    manifest = json.loads((module_cache / "manifest.json").read_text())
    if out.exists():
        shutil.rmtree(out)
    (out / "library").mkdir(parents=True)
    (out / "mixes").mkdir()
    queries, skipped = [], []
    for m in manifest["modules"]:
        try:
            data = module_bytes(m, module_cache)
            with Player(data) as p:
                mix = p.render(seconds)
                n = p.sounds
        except (OSError, KeyError, ValueError) as e:
            skipped.append(f"{m['id']}: {e}")
            continue
        sf.write(out / "mixes" / f"{m['id']}.wav", mix, SR, subtype="PCM_16")
        for i in range(n):
            with Player(data) as p:
                p.solo(i)
                stem = p.render(seconds)
            if len(stem) == 0 or np.sqrt(np.mean(np.square(stem, dtype=np.float64))) < HEARD_RMS:
                continue
            region = best_region(stem, mix, SR)
            with Player(data) as p:
                name = p.name(i)
                p.strike(i)
                shot = p.render(ONE_SHOT_S)
            if region is None or not np.any(shot):
                continue
            rel = f"{m['id']}/{i:02d}_{_slug(name)}.wav"
            (out / "library" / rel).parent.mkdir(exist_ok=True)
            sf.write(out / "library" / rel, shot, SR, subtype="PCM_16")
            queries.append(Query(m["id"], i, name, rel, round(region[0], 2), round(region[1], 3)))
    doc = {"modules": len(manifest["modules"]), "skipped": skipped, "queries": [asdict(q) for q in queries]}
    (out / "queries.json").write_text(json.dumps(doc, indent=1))
    return doc


#: what the indexer computes, stage by stage: each adds to the one before
COST_STAGES = (("read_levels_rhythm", ()), ("plus_mel", ("mel",)), ("plus_musicnn", ("mel", "musicnn")),
               ("plus_aisfx_all", SPACES))


def indexing_cost(files: list[Path], n: int = 60) -> dict:
    """Milliseconds per one-shot of what the indexer does to a file, stage by stage (``COST_STAGES``: reading,
    levels and, for files of 2 s or more, tempo, key and chords; then each embedding space), on ``n`` files."""
    from core.library.index import analyse

    files = files[:n]
    analyse(files[0])  # warm: models loaded, kernels compiled
    out = {}
    for name, spaces in COST_STAGES:
        runs = []
        for _ in range(2):  # the faster of two passes: a shared machine's hiccups are not the indexer's cost
            t0 = time.perf_counter()
            for f in files:
                analyse(f, f.name, spaces)
            runs.append(time.perf_counter() - t0)
        out[f"{name}_ms"] = round(1000 * min(runs) / len(files), 1)
    out["files"] = len(files)
    out["files_per_s_one_process"] = round(1000 / out["plus_aisfx_all_ms"], 1)
    return out


def evaluate(out: Path = CACHE, spaces=SPACES) -> dict:
    import soundfile as sf

    doc = json.loads((out / "queries.json").read_text())
    default_db(out / "library").unlink(missing_ok=True)  # a fresh index: its speed is part of the figure
    t0 = time.perf_counter()
    index(out / "library")
    index_s = time.perf_counter() - t0
    cat = Catalog.load(out / "library")
    mixes: dict[str, np.ndarray] = {}
    ranks: dict[str, list[int]] = {s: [] for s in spaces}
    own_ranks: dict[str, list[int]] = {s: [] for s in spaces}  # among the song's own sounds only
    own_sizes, shares = [], []
    modules_of = np.array([p.split("/", 1)[0] for p in cat.paths])
    for q in doc["queries"]:
        if q["truth"] not in cat.index:
            continue
        mix = mixes.get(q["module"])
        if mix is None:
            mix = mixes[q["module"]] = sf.read(out / "mixes" / f"{q['module']}.wav", dtype="float32")[0]
        a = int(q["start"] * SR)
        region = mix[a:a + int(REGION_S * SR)]
        raw = embed_audio(region, SR, spaces)
        own = modules_of == q["module"]
        truth = cat.index[q["truth"]]
        for s in spaces:
            scores = cat.X[s] @ cat.project(raw[s], s)
            ranks[s].append(rank_of(scores, truth))
            own_ranks[s].append(rank_of(np.where(own, scores, -np.inf), truth))
        own_sizes.append(int(own.sum()))
        shares.append(q["share"])
    shares = np.asarray(shares)
    groups = {"all": np.ones(len(shares), bool), "dominant": shares >= DOMINANT, "in_the_mix": shares < DOMINANT}
    table = {}
    for s in spaces:
        r = np.asarray(ranks[s])
        table[s] = {g: {"n": int(mask.sum()), **{f"top{k}": round(float(np.mean(r[mask] <= k)), 3) if mask.any()
                                                 else None for k in TOP},
                        "median_rank": float(np.median(r[mask])) if mask.any() else None}
                    for g, mask in groups.items()}
        r = np.asarray(own_ranks[s])
        table[s]["own_module"] = {f"top{k}": round(float(np.mean(r <= k)), 3) for k in OWN_TOP}
    sizes = np.asarray(own_sizes)
    own_chance = {f"top{k}": round(float(np.mean(np.minimum(k, sizes) / sizes)), 3) for k in OWN_TOP}
    return {"own_module_sounds_mean": round(float(sizes.mean()), 1), "own_module_chance": own_chance,
            "library_files": len(cat), "queries": int(len(shares)), "modules": doc["modules"],
            "modules_used": len({q["module"] for q in doc["queries"]}), "region_s": REGION_S, "note": NOTE,
            "dominant_share": DOMINANT, "chance_top10": round(10 / max(len(cat), 1), 4), "spaces": table,
            "indexing": {"files": len(cat), "seconds": round(index_s, 1),
                         "files_per_s": round(len(cat) / index_s, 1) if index_s else None,
                         "cost": indexing_cost(sorted((out / "library").rglob("*.wav")))},
            "skipped": doc["skipped"],
            "command": "python -m core.library.identify --write"}


def table(res: dict) -> str:
    """The docs table: top-1 / top-10 per space, all queries and split by how much the sound carries."""
    groups = (("all", "all queries"), ("dominant", f"the sound carries ≥ {res['dominant_share']:.0%}"),
              ("in_the_mix", "the sound carries less"))
    lines = ["| space | " + " | ".join(f"{title}: top-1 / top-10 (n)" for _, title in groups) + " | median rank |",
             "|---|" + "---|" * (len(groups) + 1)]
    for space, r in res["spaces"].items():
        cells = [f"{r[g]['top1']:.3f} / {r[g]['top10']:.3f} ({r[g]['n']})" if r[g]["n"] else "—" for g, _ in groups]
        lines.append(f"| {space} | " + " | ".join(cells) + f" | {r['all']['median_rank']:.0f} |")
    if "own_module_chance" in res:
        ch = res["own_module_chance"]
        lines += ["", f"Among the song's own sounds only (the module's {res['own_module_sounds_mean']:.1f} instruments "
                  "on average, the library the issue names):", "",
                  "| space | top-1 | top-3 |", "|---|---|---|",
                  *[f"| {space} | {r['own_module']['top1']:.3f} | {r['own_module']['top3']:.3f} |"
                    for space, r in res["spaces"].items()],
                  f"| chance | {ch['top1']:.3f} | {ch['top3']:.3f} |"]
    ix = res["indexing"]
    c = ix["cost"]
    lines += ["", f"{res['queries']} queries ({res['region_s']:.0f} s of the mix each) from {res['modules_used']} "
              f"real tracker modules of {res['modules']}, against a library of their {res['library_files']} "
              f"instruments struck once each (chance top-10: {res['chance_top10']:.3f}); `{res['command']}`.",
              "", f"Indexing these one-shots: {ix['files_per_s']} files/s ({ix['files']} files in {ix['seconds']} s, "
              f"one process on 2 shared cores). Per file, each stage adding to the one before: reading and levels "
              f"{c['read_levels_rhythm_ms']} ms, the log-mel space {c['plus_mel_ms']} ms, the musicnn tags and space "
              f"{c['plus_musicnn_ms']} ms, the aiSFX space (everything) {c['plus_aisfx_all_ms']} ms: the two networks "
              "are the cost."]
    return "\n".join(lines)


def write_docs(res: dict) -> None:
    write_block(DOC, MARK, table(res))


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--write", action="store_true", help=f"write {FIGURE.relative_to(ROOT)}")
    p.add_argument("--reuse", action="store_true", help="measure on the set already built in .cache/identify")
    p.add_argument("--from-json", action="store_true", help="only rewrite the docs table from the figure JSON")
    args = p.parse_args(argv)
    if args.from_json:
        result = json.loads(FIGURE.read_text())
    else:
        if not (args.reuse and (CACHE / "queries.json").exists()):
            build()
        result = evaluate()
    print(table(result))
    if args.write:
        FIGURE.write_text(json.dumps(result, indent=1) + "\n")
        write_docs(result)
    return result


if __name__ == "__main__":
    main()
