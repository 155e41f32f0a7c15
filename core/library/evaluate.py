"""Measure the sample library on real CC0 one-shots and loops: Debian's ``sonic-pi-samples``.

    python -m core.library.evaluate [--write-docs]

- the library: the package's samples whose copyright entry says CC0 (freesound uploads; the rest of the package
  is MIT-licensed Sonic Pi material and is left out), copied to .cache/library/sonic-pi-cc0;
- category = the file name's prefix (bd_ and drum_bass_ → kick, sn_ and drum_snare_ → snare, drum_cymbal_ →
  cymbal, drum_tom_ → tom, elec_, perc_, tabla_, bass_, loop_, guit_, ambi_, misc_, vinyl_ ...);
- per embedding space: precision@10 and mAP of "query each file, relevant = same category, not itself", and the
  simulated user's recall within patience (Yes for a same-category result, the session ends at 5 No in a row),
  for each weight of the No answers (the Rocchio ``w``) and with/without centring the vectors;
- indexing speed on these files (a fresh index, one process);
- near-duplicates: variants of every sound (MP3 and OGG re-encodes, ±6 dB, 5 % trimmed) against the other sounds:
  threshold chosen for F1 on half the sounds, precision/recall reported on the other half.

Writes docs/figures/library_eval.json and (``--write-docs``) the table in docs/library.md.
"""
from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

from core.library import duplicates as dup
from core.library.index import DIMS, SPACES, default_db, index, mel_embedding
from core.library.search import Catalog, LibrarySearch

ROOT = Path(__file__).resolve().parents[2]
DEB = ROOT / ".cache" / "scout" / "sonic-pi-samples_3.2.2~repack-8_all.deb"
EXTRACTED = ROOT / ".cache" / "library" / "sonic-pi"
LIBRARY = ROOT / ".cache" / "library" / "sonic-pi-cc0"
FIGURE = ROOT / "docs" / "figures" / "library_eval.json"
DOC = ROOT / "docs" / "library.md"
COPYRIGHT = "usr/share/doc/sonic-pi-samples/copyright"
WEIGHTS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0)
PATIENCE = 5
MARK = ("<!-- library-eval:start -->", "<!-- library-eval:end -->")

_CATEGORY = [("bd_", "kick"), ("drum_bass_", "kick"), ("drum_heavy_kick", "kick"), ("sn_", "snare"),
             ("drum_snare_", "snare"), ("drum_cymbal_", "cymbal"), ("drum_splash_", "cymbal"), ("drum_tom_", "tom")]


#: the categories whose files are loops (the package's ``loop_`` files); every other category holds one-shots
LOOP_CATEGORIES = ("loop",)


def category(name: str) -> str:
    for prefix, cat in _CATEGORY:
        if name.startswith(prefix):
            return cat
    return name.split("_")[0]


def cc0_library() -> tuple[Path, dict]:
    """Extract the .deb (once) and copy its CC0 samples into ``LIBRARY``; the licence record."""
    samples = EXTRACTED / "usr/share/sonic-pi/samples"
    if not samples.exists():
        EXTRACTED.mkdir(parents=True, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", str(DEB), str(EXTRACTED)], check=True)
    text = (EXTRACTED / COPYRIGHT).read_text()
    cc0 = set()
    for block in text.split("\n\n"):
        m = re.search(r"^Files:\s*etc/samples/(\S+)", block, re.M)
        if m and re.search(r"^License:\s*CC0", block, re.M):
            cc0.add(m.group(1))
    LIBRARY.mkdir(parents=True, exist_ok=True)
    for f in sorted(samples.glob("*.flac")):
        if f.name in cc0 and not (LIBRARY / f.name).exists():
            shutil.copy2(f, LIBRARY / f.name)
    n_all = len(list(samples.glob("*.flac")))
    return LIBRARY, {"package": "sonic-pi-samples 3.2.2~repack-8 (Debian)", "files_in_package": n_all,
                     "cc0_files_used": len(cc0 & {f.name for f in samples.glob("*.flac")}),
                     "licence": "CC0 per file (freesound uploads, listed in debian/copyright); files without a "
                                "CC0 entry (MIT, the package default) are not used"}


# ----------------------------------------------------------------------------- retrieval

def average_precision(relevant: np.ndarray) -> float:
    """``relevant``: booleans in ranked order."""
    if not relevant.any():
        return 0.0
    hits = np.cumsum(relevant)
    return float((hits[relevant] / (np.nonzero(relevant)[0] + 1)).mean())


def retrieval(cat: Catalog, labels: list[str], space: str) -> dict:
    X = cat.X[space]
    lab = np.array(labels)
    counts = {c: int((lab == c).sum()) for c in set(labels)}
    p10, aps, loop = [], [], []
    for i in range(len(X)):
        if counts[lab[i]] < 2:
            continue
        s = X @ X[i]
        s[i] = -np.inf
        order = np.argsort(-s, kind="stable")[:-1]
        rel = lab[order] == lab[i]
        p10.append(rel[:10].mean())
        aps.append(average_precision(rel))
        loop.append(lab[i] in LOOP_CATEGORIES)
    p10, aps, loop = np.array(p10), np.array(aps), np.array(loop, bool)
    kinds = {kind: {"precision_at_10": round(float(p10[m].mean()), 4), "map": round(float(aps[m].mean()), 4),
                    "queries": int(m.sum())} for kind, m in (("one-shots", ~loop), ("loops", loop)) if m.any()}
    return {"precision_at_10": round(float(np.mean(p10)), 4), "map": round(float(np.mean(aps)), 4),
            "queries": len(p10), "by_kind": kinds}


def simulated_user(cat: Catalog, labels: list[str], space: str, w: float, patience: int = PATIENCE) -> dict:
    """Each file as the query; the user says Yes to same-category results; the session ends at ``patience``
    No answers in a row (or an empty library). Recall = found / (category size − 1)."""
    lab = np.array(labels)
    recalls, shown = [], []
    for i, rel in enumerate(cat.paths):
        n_rel = int((lab == lab[i]).sum()) - 1
        if n_rel < 1:
            continue
        s = LibrarySearch(cat, cat.full_path(rel), space, patience=patience, negative_weight=w)
        found = 0
        while not s.ended:
            r = s.next()
            if r is None:
                break
            yes = labels[cat.index[r.path]] == lab[i]
            found += yes
            s.answer(r.path, yes)
        recalls.append(found / n_rel)
        shown.append(len(s.history))
    return {"recall_within_patience": round(float(np.mean(recalls)), 4),
            "results_shown": round(float(np.mean(shown)), 2), "negative_weight": w}


# ----------------------------------------------------------------------------- near-duplicates

def variants(y: np.ndarray, sr: int) -> dict[str, np.ndarray]:
    import soundfile as sf
    from pedalboard import MP3Compressor

    out = {}
    x = y[None].astype(np.float32)
    out["mp3"] = MP3Compressor(vbr_quality=4)(x, sr)[0]
    buf = io.BytesIO()
    sf.write(buf, np.clip(y, -1, 1), sr, format="OGG", subtype="VORBIS")
    buf.seek(0)
    out["ogg"] = sf.read(buf, dtype="float32")[0]
    out["+6dB"] = y * 10 ** (6 / 20)
    out["-6dB"] = y * 10 ** (-6 / 20)
    out["trim5%"] = y[: int(len(y) * 0.95)]
    return out


def _f16(v: np.ndarray) -> np.ndarray:
    v = v.astype(np.float16).astype(np.float32)  # as the index stores it
    return v / max(float(np.linalg.norm(v)), 1e-12)


def duplicate_study(library: Path, max_seconds: float = 8.0) -> dict:
    import soundfile as sf

    sounds = []
    for f in sorted(library.glob("*.flac")):
        y, sr = sf.read(f, dtype="float32", always_2d=True)
        y = y.mean(1)
        if len(y) / sr > max_seconds or not np.any(y):
            continue
        fp = {"orig": (_f16(mel_embedding(y, sr)), len(y) / sr)}
        for k, v in variants(y, sr).items():
            fp[k] = (_f16(mel_embedding(v, sr)), len(v) / sr)
        sounds.append((f.name, fp))
    halves = {"tune": sounds[0::2], "test": sounds[1::2]}

    def pairs_of(group):
        sims, same, compat = [], [], []
        for a, (na, fa) in enumerate(group):
            va, da = fa["orig"]
            for k, (v, d) in fa.items():
                if k != "orig":
                    sims.append(float(va @ v)), same.append(True)
                    compat.append(abs(da - d) / max(da, d) <= dup.MAX_TRIM)
            for nb, fb in group[a + 1:]:
                for ka in ("orig", "mp3"):
                    v, d = fb["orig"]
                    u, du = fa[ka]
                    sims.append(float(u @ v)), same.append(False)
                    compat.append(abs(du - d) / max(du, d) <= dup.MAX_TRIM)
        return np.array(sims), np.array(same), np.array(compat)

    def prf(s, y, c, thr):
        pred = (s >= thr) & c
        tp, fp, fn = int((pred & y).sum()), int((pred & ~y).sum()), int((~pred & y).sum())
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 0.0
        return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r) if p + r else 0, 4),
                "tp": tp, "fp": fp, "fn": fn}

    s, y, c = pairs_of(halves["tune"])
    cands = np.unique(np.round(s[y], 5))
    best = max(cands, key=lambda t: (prf(s, y, c, t)["f1"], t))
    thr = float(best)
    st, yt, ct = pairs_of(halves["test"])
    sa, ya, ca = pairs_of(sounds)
    worst = {}
    for name, fp in sounds:
        for k, (v, _) in fp.items():
            if k != "orig":
                worst.setdefault(k, []).append(float(fp["orig"][0] @ v))
    false_pos = []
    for a, (na, fa) in enumerate(sounds):
        for nb, fb in sounds[a + 1:]:
            sim = float(fa["orig"][0] @ fb["orig"][0])
            da, db = fa["orig"][1], fb["orig"][1]
            if sim >= thr and abs(da - db) / max(da, db) <= dup.MAX_TRIM:
                false_pos.append([na, nb, round(sim, 5)])
    return {"sounds": len(sounds), "max_seconds": max_seconds, "variants": list(sounds[0][1])[1:] if sounds else [],
            "threshold": round(thr, 5), "max_trim": dup.MAX_TRIM,
            "tune": prf(s, y, c, thr), "test": prf(st, yt, ct, thr), "all": prf(sa, ya, ca, thr),
            "variant_similarity_min": {k: round(min(v), 5) for k, v in worst.items()},
            "different_sound_pairs_over_threshold": false_pos[:20],
            "pairs": {"positive": int(ya.sum()), "negative": int((~ya).sum())}}


# ----------------------------------------------------------------------------- the run

def run(fresh: bool = True) -> dict:
    library, licence = cc0_library()
    db = default_db(library)
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    t0 = time.perf_counter()
    rep = index(library)
    dt = time.perf_counter() - t0
    n = rep.added + rep.updated + rep.unchanged
    out = {"data": licence, "files": n,
           "indexing": {"files": rep.analysed, "seconds": round(dt, 2),
                        "files_per_s": round(rep.analysed / dt, 2) if rep.analysed else None,
                        "engine": "local (one process, 2 shared CPU cores)", "errors": rep.errors,
                        "note": "includes loading both musicnn taggers once (cold start)"},
           "spaces": {}, "rocchio": {}, "centering": {}}
    for center in (True, False):
        cat = Catalog.load(library, center=center)
        labels = [category(Path(p).name) for p in cat.paths]
        for space in SPACES:
            ret = retrieval(cat, labels, space)
            users = [simulated_user(cat, labels, space, w) for w in WEIGHTS]
            key = "centred" if center else "raw"
            out["centering"].setdefault(space, {})[key] = {**ret, "recall_within_patience_w0.5": next(
                u["recall_within_patience"] for u in users if u["negative_weight"] == 0.5)}
            if center:
                out["rocchio"][space] = users
                out["spaces"][space] = {**ret, "dims": DIMS[space]}
        if center:
            out["categories"] = {c: labels.count(c) for c in sorted(set(labels))}
    mean_recall = {w: np.mean([next(u["recall_within_patience"] for u in out["rocchio"][s] if u["negative_weight"] == w)
                               for s in SPACES]) for w in WEIGHTS}
    w_best = max(WEIGHTS, key=lambda w: (round(mean_recall[w], 4), -w))
    out["negative_weight_chosen"] = w_best
    for s in SPACES:
        u = next(u for u in out["rocchio"][s] if u["negative_weight"] == w_best)
        out["spaces"][s].update(recall_within_patience=u["recall_within_patience"], results_shown=u["results_shown"])
    out["duplicates"] = duplicate_study(library)
    return out


def table(res: dict) -> str:
    lines = ["| space | dims | precision@10 | mAP | one-shots P@10 / mAP | loops P@10 / mAP | "
             "recall within patience 5 (simulated user) | results shown |",
             "|---|---|---|---|---|---|---|---|"]
    for s, r in res["spaces"].items():
        kinds = r.get("by_kind", {})
        split = [f"{k['precision_at_10']:.3f} / {k['map']:.3f} (n={k['queries']})" if k else "—"
                 for k in (kinds.get("one-shots"), kinds.get("loops"))]
        lines.append(f"| {s} | {r['dims']} | {r['precision_at_10']:.3f} | {r['map']:.3f} | {split[0]} | {split[1]} | "
                     f"{r['recall_within_patience']:.3f} | {r['results_shown']:.1f} |")
    ix, d = res["indexing"], res["duplicates"]
    lines += ["", f"{res['files']} CC0 files of `sonic-pi-samples`, {len(res['categories'])} categories; "
              f"Rocchio No-weight w = {res['negative_weight_chosen']} (of {list(WEIGHTS)}, best mean recall). "
              f"Indexing: {ix['files_per_s']} files/s ({ix['files']} files in {ix['seconds']} s, {ix['engine']}).",
              "", f"Near-duplicates ({d['sounds']} sounds ≤ {d['max_seconds']:.0f} s × {len(d['variants'])} variants: "
              f"{', '.join(d['variants'])}): threshold {d['threshold']} (cosine, chosen for F1 on half the sounds); "
              f"held-out half: precision {d['test']['precision']:.3f}, recall {d['test']['recall']:.3f}, "
              f"F1 {d['test']['f1']:.3f}."]
    return "\n".join(lines)


def write_block(doc: Path, mark: tuple[str, str], body: str) -> None:
    """Replace what stands between the two ``mark`` comments of ``doc`` (a table written by code) with ``body``."""
    text = doc.read_text()
    a, b = text.index(mark[0]) + len(mark[0]), text.index(mark[1])
    doc.write_text(text[:a] + "\n" + body + "\n" + text[b:])


def write_docs(res: dict) -> None:
    write_block(DOC, MARK, table(res))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m core.library.evaluate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--write-docs", action="store_true", help="rewrite the table in docs/library.md")
    p.add_argument("--keep-index", action="store_true", help="reuse the index (indexing speed then meaningless)")
    p.add_argument("--from-json", action="store_true", help="only rewrite the docs table from the figure JSON")
    args = p.parse_args(argv)
    if args.from_json:
        res = json.loads(FIGURE.read_text())
    else:
        res = run(fresh=not args.keep_index)
        FIGURE.parent.mkdir(parents=True, exist_ok=True)
        FIGURE.write_text(json.dumps(res, indent=1, default=float))
    print(table(res))
    if args.write_docs:
        write_docs(res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
