"""Tempo and beats, one function for every tab: analysis (BPM, beat grid) and search (exports in beats).

librosa's tracker alone locks onto 1/2 or 2/3 of fast tempi: the search tab's drum & bass example
(174.45 BPM by construction) read as 117.5 BPM. Here the tempo is chosen among octave candidates of the
onset envelope's periodicity, each scored by measurement (how periodic the onsets are at that lag, and
at twice and half of it) and weighted by a prior over the tempo ranges of the genres the studio knows:

    score(T) = salience(T) * prior(T)

``python -m core.tempo --evaluate`` measures MIREX Acc1 (within 4 %) and Acc2 (also at ×2, ×3, ÷2, ÷3)
on generated tracks whose tempo is known by construction, and on the bundled examples.
"""
from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.training import check_cancel

HOP_LENGTH = 512
#: Tempi considered (BPM).
MIN_BPM, MAX_BPM = 50.0, 220.0
#: Tempo ranges (BPM) by genre as producers and DJs count them: the prior is their average.
GENRE_TEMPI = {
    "ballad": (60, 92), "hip-hop": (78, 102), "downtempo": (80, 100), "classical": (60, 140), "jazz": (84, 210),
    "rock": (96, 168), "house": (116, 130), "techno": (122, 148), "dubstep": (136, 144), "drum and bass": (160, 180),
}
#: Softness of a range's edges, in octaves.
PRIOR_EDGE = 0.06
#: MIREX tolerance for Acc1/Acc2.
TOLERANCE = 0.04


@dataclass
class Tempo:
    """The tempo of a recording, its beats, and what it was chosen from."""

    bpm: float
    beats: np.ndarray  # beat times (s)
    confidence: float  # the winner's share of the candidates' scores, 0–1
    candidates: list[tuple[float, float]] = field(default_factory=list)  # (bpm, score), best first
    given: bool = False  # True when the user typed it

    @property
    def first_beat(self) -> float:
        return float(self.beats[0]) if len(self.beats) else 0.0

    def scaled(self, factor: float) -> "Tempo":
        """The tempo ×2 or ÷2 (the beat grid doubled or every other beat), for the "×2 / ÷2" control."""
        if factor == 2:
            mids = (self.beats[:-1] + self.beats[1:]) / 2
            beats = np.sort(np.concatenate([self.beats, mids]))
        elif factor == 0.5:
            beats = self.beats[::2]
        else:
            raise ValueError("The tempo can be doubled (2) or halved (0.5).")
        return Tempo(self.bpm * factor, beats, self.confidence, self.candidates, self.given)

    def typed(self, bpm: float, duration: float) -> "Tempo":
        """The tempo the user typed, its grid from this one's first beat to ``duration`` (s): "type it"."""
        return given(bpm, self.first_beat, duration)


def prior(bpm) -> np.ndarray:
    """Prior weight of each tempo: the mean over genres of a box on its range with soft (log-scale) edges."""
    b = np.log2(np.asarray(bpm, dtype=float))
    total = np.zeros_like(b)
    for lo, hi in GENRE_TEMPI.values():
        rise = 1 / (1 + np.exp(-(b - math.log2(lo)) / (PRIOR_EDGE / 4)))
        fall = 1 / (1 + np.exp((b - math.log2(hi)) / (PRIOR_EDGE / 4)))
        total += rise * fall
    return total / len(GENRE_TEMPI)


def onset_envelope(y: np.ndarray, sr: int, hop_length: int = HOP_LENGTH) -> np.ndarray:
    import librosa

    # The median over mel bands keeps broadband hits (drums) and ignores one instrument's glides; a signal whose
    # onsets sit in a few bands only (a click, a solo bass) has a zero median: then the mean.
    oenv = librosa.onset.onset_strength(y=y, sr=sr, hop_length=hop_length, aggregate=np.median)
    if not np.any(oenv > 0):
        oenv = librosa.onset.onset_strength(y=y, sr=sr, hop_length=hop_length)
    return oenv


def periodicity(oenv: np.ndarray) -> np.ndarray:
    """Normalised autocorrelation of the onset envelope (its local mean removed), lag 0 = 1."""
    import librosa

    x = oenv - np.convolve(oenv, np.ones(16) / 16, mode="same")
    ac = librosa.autocorrelate(x)
    return ac / ac[0] if ac[0] > 0 else ac


def _at(ac: np.ndarray, lag: float) -> float:
    """``ac`` at a fractional lag (the max of the two neighbours: peaks fall between frames)."""
    i = int(lag)
    if i + 1 >= len(ac) or i < 1:
        return 0.0
    return float(max(ac[i], ac[i + 1]))


def salience(ac: np.ndarray, bpm: float, fps: float) -> float:
    """How strongly the onsets repeat at this tempo's beat, its bar-level multiples and its half-beat."""
    lag = 60.0 * fps / bpm
    return max(0.0, _at(ac, lag) + 0.5 * _at(ac, 2 * lag) + 0.25 * _at(ac, 4 * lag) + 0.25 * _at(ac, lag / 2))


#: Octave relatives of the periodicity's best tempo that the chooser weighs.
OCTAVES = (1.0, 2.0, 0.5)
CHOOSER_DIR = Path(__file__).resolve().parent.parent / "assets" / "models" / "tempo" / "octave"


def _measure(y: np.ndarray, sr: int, hop_length: int):
    """(onset envelope, periodicity, frames per second, onset density per second, high-band onset share)."""
    import librosa

    oenv = onset_envelope(y, sr, hop_length)
    fps = sr / hop_length
    ac = periodicity(oenv)
    peaks = librosa.util.peak_pick(oenv, pre_max=3, post_max=3, pre_avg=10, post_avg=10,
                                   delta=float(np.std(oenv)) * 0.5,
                                   wait=2) if len(oenv) > 24 else []
    density = len(peaks) / max(len(oenv) / fps, 1e-6)
    S = np.abs(librosa.stft(y, n_fft=1024, hop_length=hop_length))
    flux = np.maximum(0.0, np.diff(S, axis=1))
    high = float(flux[S.shape[0] // 4:].sum() / (flux.sum() + 1e-9))  # above sr/8 (2.8 kHz): hats, cymbals
    return oenv, ac, fps, density, high


def candidate_features(bpm: float, ac: np.ndarray, fps: float, density: float, high: float) -> np.ndarray:
    """What the octave chooser sees of one candidate tempo: where it sits, how periodic the onsets are at
    it and its neighbours, how dense and how bright the onsets are, and their interactions with the tempo."""
    lag = 60.0 * fps / bpm
    x = math.log2(bpm / 120.0)
    return np.array([x, x * x, math.log(prior(bpm) + 1e-3), _at(ac, lag), _at(ac, 2 * lag), _at(ac, lag / 2),
                     math.log2(density + 0.1) - x, high * x, salience(ac, bpm, fps)])


def load_chooser(path=CHOOSER_DIR) -> dict | None:
    """The octave chooser's logistic-regression weights (config.json), or None when none is trained."""
    from core import registry

    config = Path(path) / "config.json"
    if not config.exists():
        return None
    return registry.get(f"tempo:{config}", lambda: json.loads(config.read_text()))


def _choose(feats: list[np.ndarray], fallback: list[float], chooser: dict | None) -> list[float]:
    """Each candidate's weight: the chooser's probability that it is the tempo, or ``fallback`` without one."""
    if chooser is None:
        return fallback
    w, b = np.array(chooser["coef"]), float(chooser["intercept"])
    mu, sd = np.array(chooser["mean"]), np.array(chooser["scale"])
    return [float(1 / (1 + np.exp(-(((f - mu) / sd) @ w + b)))) for f in feats]


def estimate(y: np.ndarray, sr: int, hop_length: int = HOP_LENGTH,
             chooser: dict | None | str = "bundled") -> Tempo | None:
    """The tempo and beats of mono audio ``y``; None when no steady beat is found.

    The periodicity's best tempo under the prior is found on a grid; its double and half are then weighed
    by the octave chooser (a logistic regression on measured features, ``assets/models/tempo/octave``),
    or by periodicity x prior alone when ``chooser`` is None.
    """
    import librosa

    if len(y) < sr or not np.any(y):
        return None
    oenv, ac, fps, density, high = _measure(y, sr, hop_length)
    check_cancel()  # between the measure and the beat tracker (~0.3 s each on 10 minutes)
    if len(oenv) < 8 or not np.any(oenv > 0):
        return None
    grid = np.exp(np.linspace(math.log(MIN_BPM), math.log(MAX_BPM), 400))
    scores = np.array([salience(ac, b, fps) for b in grid]) * prior(grid)
    if scores.max() <= 0:
        return None
    best = float(grid[int(np.argmax(scores))])
    cands = [best * f for f in OCTAVES if MIN_BPM <= best * f <= MAX_BPM]
    fallback = [float(salience(ac, b, fps) * prior(b)) for b in cands]
    chooser = load_chooser() if chooser == "bundled" else chooser
    weights = _choose([candidate_features(b, ac, fps, density, high) for b in cands], fallback, chooser)
    order = np.argsort(weights)[::-1]
    chosen = fine_tune(ac, cands[order[0]], fps)
    check_cancel()
    _, beats = librosa.beat.beat_track(onset_envelope=oenv, sr=sr, hop_length=hop_length, bpm=chosen, units="time",
                                       tightness=400)
    if len(beats) < 4:
        return None
    bpm = chosen  # the fine-tuned periodicity: the tracker's frame-quantised beats drift (173.2 for 174.45)
    total = float(sum(weights)) or 1.0
    return Tempo(bpm=round(bpm, 2), beats=np.asarray(beats), confidence=float(weights[order[0]]) / total,
                 candidates=[(round(cands[i], 2), round(float(weights[i]), 4)) for i in order])


def fine_tune(ac: np.ndarray, bpm: float, fps: float, span: float = 0.03, beats: int = 16) -> float:
    """The tempo within ±``span`` of ``bpm`` whose first ``beats`` multiples of the beat lag line up best with
    the periodicity's peaks: far lags resolve the tempo finely (one frame at 16 beats is 0.4 % at 174 BPM,
    where one frame at one beat is 7 %)."""
    lags = np.arange(len(ac))
    best, best_score = bpm, -np.inf
    for b in bpm * np.linspace(1 - span, 1 + span, 121):
        lag = 60.0 * fps / b
        k = np.arange(1, beats + 1) * lag
        k = k[k < len(ac) - 1]
        if len(k) == 0:
            continue
        score = float(np.interp(k, lags, ac).sum())
        if score > best_score:
            best, best_score = float(b), score
    return best


def given(bpm: float, first_beat: float, duration: float) -> Tempo:
    """A tempo the user typed: a beat grid from ``first_beat`` at ``bpm``."""
    from core import validate

    bpm = validate.number(bpm, "The tempo", 20, 400)
    first_beat = validate.number(first_beat, "Beat 0 (s)", 0.0, max(duration, 0.0), default=0.0)
    return Tempo(bpm, np.arange(first_beat, duration, 60.0 / bpm), 1.0, [], given=True)


# --- evaluation: MIREX Acc1 / Acc2 on tracks whose tempo is known -------------------------------

def accuracy(estimate_bpm: float | None, truth: float) -> tuple[bool, bool]:
    """(Acc1, Acc2) hits: within 4 %; Acc2 also at 2, 3, 1/2 or 1/3 of the truth."""
    if estimate_bpm is None:
        return False, False
    ok = lambda f: abs(estimate_bpm - truth * f) <= TOLERANCE * truth * f  # noqa: E731
    return ok(1), any(ok(f) for f in (1, 2, 3, 1 / 2, 1 / 3))


def evaluation_tracks(per_genre: int = 5, seed: int = 5000, sr: int = 22_050, examples: bool = True):
    """(name, audio, true BPM): arranger pieces of every genre corpus genre (seeds unseen in training)
    rendered through FluidSynth, the search corpus's electronic tracks, and the bundled examples."""
    from core.audio import load_audio
    from core.data import arranger
    from core.render import render_midi

    for genre in arranger.TEMPO:
        for k in range(per_genre):
            piece = arranger.arrange(genre, seed + k, seconds=20.0)
            audio = render_midi(piece.midi, sr=sr).audio
            yield f"{genre}_{seed + k}", arranger.mix(audio, sr, seed + k), piece.tempo
    from core.search import dataset

    for genre in dataset.GENRES:
        for k in range(per_genre):
            track = dataset.make_track(genre, seed + k, "FluidR3_GM", seconds=40.0, sr=sr)
            yield f"{genre}_{seed + k}", track.y, track.tempo
    if not examples:
        return
    ex = Path(__file__).resolve().parent.parent / "assets" / "examples"
    truth = json.loads((ex / "search" / "drum_and_bass_loops_and_samples.json").read_text())
    dnb = load_audio(ex / "search" / "drum_and_bass_loops_and_samples.ogg", sr=sr)[0]
    yield "example:drum_and_bass", dnb, truth["tempo"]
    yield "example:house_groove", load_audio(ex / "house_groove_124bpm.ogg", sr=sr)[0], 124.0


def train_chooser(per_genre: int = 8, seed: int = 0, out: Path = CHOOSER_DIR) -> dict:
    """Fit the octave chooser on generated tracks (seeds from ``seed``; evaluation uses 5000 and up)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    X, labels, tracks = [], [], 0
    for name, y, truth in evaluation_tracks(per_genre, seed=seed, examples=False):
        oenv, ac, fps, density, high = _measure(y, 22_050, HOP_LENGTH)
        grid = np.exp(np.linspace(math.log(MIN_BPM), math.log(MAX_BPM), 400))
        best = float(grid[int(np.argmax([salience(ac, b, fps) * prior(b) for b in grid]))])
        for b in (best * f for f in OCTAVES):
            if MIN_BPM <= b <= MAX_BPM:
                X.append(candidate_features(b, ac, fps, density, high))
                labels.append(accuracy(b, truth)[0])
        tracks += 1
    X, labels = np.array(X), np.array(labels)
    scaler = StandardScaler().fit(X)
    clf = LogisticRegression(C=1.0, max_iter=1000).fit(scaler.transform(X), labels)
    config = {"kind": "logistic-octave-chooser", "features": ["log2(bpm/120)", "square", "log prior", "ac(lag)",
              "ac(2 lag)", "ac(lag/2)", "log2 density - log2(bpm/120)", "high share x log2(bpm/120)", "salience"],
              "coef": clf.coef_[0].tolist(), "intercept": float(clf.intercept_[0]),
              "mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist()}
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    card = {"name": "tempo octave chooser", "data": f"{tracks} generated tracks: arranger genres and search-corpus "
            f"electronic tracks, {per_genre} per genre, seeds {seed}–{seed + per_genre - 1} (FluidR3_GM)",
            "command": f"python -m core.tempo --train --per-genre {per_genre} --seed {seed}", "seed": seed,
            "candidates": int(len(labels)), "train_accuracy": round(float(clf.score(scaler.transform(X), labels)), 3)}
    (out / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    return card


def evaluate(per_genre: int = 5, out: Path | None = None) -> dict:
    import librosa

    rows = []
    for name, y, truth in evaluation_tracks(per_genre):
        t = estimate(y, 22_050)
        plain = estimate(y, 22_050, chooser=None)
        lib = float(np.atleast_1d(librosa.beat.beat_track(y=y, sr=22_050, hop_length=HOP_LENGTH)[0])[0])
        rows.append({"track": name, "truth": round(float(truth), 2), "ours": t.bpm if t else None,
                     "librosa": round(lib, 2),
                     "acc1": accuracy(t.bpm if t else None, truth)[0], "acc2": accuracy(t.bpm if t else None, truth)[1],
                     "librosa_acc1": accuracy(lib, truth)[0], "librosa_acc2": accuracy(lib, truth)[1],
                     "prior_only": plain.bpm if plain else None,
                     "prior_only_acc1": accuracy(plain.bpm if plain else None, truth)[0]})
        print(rows[-1], flush=True)
    result = {"tracks": len(rows), "command": f"python -m core.tempo --evaluate --per-genre {per_genre}"}
    for key in ("acc1", "acc2", "librosa_acc1", "librosa_acc2", "prior_only_acc1"):
        result[key] = round(float(np.mean([r[key] for r in rows])), 3)
    examples = [r for r in rows if r["track"].startswith("example:")]
    result["examples"] = examples
    result["rows"] = rows
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        if (CHOOSER_DIR / "card.json").exists():  # the chooser's card carries the figures this command measured
            from core.training import update_card

            update_card(CHOOSER_DIR, {k: result[k] for k in ("tracks", "acc1", "acc2", "librosa_acc1", "librosa_acc2",
                                                             "prior_only_acc1")}, result["command"])
    return result


# --- evaluation on real music: tracker modules from Debian packages (core.data.modules) ----------

def beat_f(reference: np.ndarray, estimated: np.ndarray) -> float:
    """mir_eval's beat F-measure (70 ms window; beats in the first 5 s ignored, as mir_eval trims them)."""
    import mir_eval

    ref = mir_eval.beat.trim_beats(np.asarray(reference, float))
    est = mir_eval.beat.trim_beats(np.asarray(estimated, float))
    if len(ref) == 0:
        return float("nan")
    return float(mir_eval.beat.f_measure(ref, est)) if len(est) else 0.0


def _octave_error(estimate_bpm: float | None, truth: float) -> str:
    """Where an estimate sits against the truth: "1", "2", "1/2", "3", "1/3", "3/2", "2/3", or "other"."""
    if estimate_bpm is None:
        return "none"
    for name, f in (("1", 1), ("2", 2), ("1/2", .5), ("3", 3), ("1/3", 1 / 3), ("3/2", 1.5), ("2/3", 2 / 3), ("4", 4),
                    ("1/4", .25)):
        if abs(estimate_bpm - truth * f) <= TOLERANCE * truth * f:
            return name
    return "other"


def real_methods(chooser: dict | None | str = "bundled"):
    """name -> f(y, sr) -> (bpm or None, beats): the methods the real-music evaluation compares.

    "beatnet" is core.beats.beatnet.track (the network, periodicity x prior, metrical level by the bar);
    "beatnet_librosa" is librosa's tracker on the same network's beat probability, for comparison."""
    import librosa

    def ours(y, sr):
        t = estimate(y, sr, chooser=chooser)
        return (t.bpm, t.beats) if t else (None, np.array([]))

    def prior_only(y, sr):
        t = estimate(y, sr, chooser=None)
        return (t.bpm, t.beats) if t else (None, np.array([]))

    def lib_track(y, sr):
        bpm, beats = librosa.beat.beat_track(y=y, sr=sr, hop_length=HOP_LENGTH, units="time")
        return float(np.atleast_1d(bpm)[0]), np.asarray(beats)

    def lib_tempo(y, sr):
        return float(np.atleast_1d(librosa.feature.tempo(y=y, sr=sr, hop_length=HOP_LENGTH))[0]), None

    last: dict = {}  # the BeatNet activations of the last recording: both BeatNet rows share one network pass

    def _beatnet_act(y, sr):
        from core.beats import beatnet

        if last.get("y") is not y:
            last.update(y=y, act=beatnet.activations(y, sr))
        return last["act"]

    def beatnet(y, sr):
        from core.beats import beatnet as bn

        b = bn.beats_from_activations(_beatnet_act(y, sr))
        return b.bpm, b.beats

    def beatnet_librosa(y, sr):
        from core.beats import beatnet as bn

        env = bn.beat_envelope(_beatnet_act(y, sr))
        bpm, beats = librosa.beat.beat_track(onset_envelope=env, sr=bn.SR, hop_length=bn.HOP, units="time")
        return float(np.atleast_1d(bpm)[0]), np.asarray(beats)

    return {"ours": ours, "prior_only": prior_only, "librosa_beat_track": lib_track, "librosa_feature_tempo": lib_tempo,
            "beatnet": beatnet, "beatnet_librosa": beatnet_librosa}


def evaluate_real(cache: Path, out: Path | None = None, methods: dict | None = None) -> dict:
    """MIREX Acc1/Acc2 and beat F-measure on the tracker modules built by ``python -m core.data.modules --build``.

    The label is ``bpm_folded``: 4 rows per beat (IT header where stored), doubled while above 200 BPM; Acc1 is
    also given against the plain 4-rows-per-beat BPM (``acc1_rpb4``). Beats: every rows-per-beat-th row."""
    from core.data import modules as mods

    methods = methods or real_methods()
    rows = []
    for m, y, ref_beats in mods.load(cache):
        row = {"id": m["id"], "package": m["package"], "format": m["format"], "speed": m["speed"], "tempo": m["tempo"],
               "rows_per_beat": m["rows_per_beat_folded"], "truth": m["bpm_folded"], "truth_rpb4": m["bpm"],
               "seconds": m["seconds"]}
        for name, f in methods.items():
            bpm, beats = f(y, mods.SR)
            a1, a2 = accuracy(bpm, m["bpm_folded"])
            row[name] = {"bpm": None if bpm is None else round(float(bpm), 2), "acc1": a1, "acc2": a2,
                         "acc1_rpb4": accuracy(bpm, m["bpm"])[0], "error": _octave_error(bpm, m["bpm_folded"])}
            if beats is not None:
                row[name]["beat_f"] = round(beat_f(ref_beats, beats), 4)
        rows.append(row)
        print(m["id"], m["bpm_folded"], {k: (v["bpm"], v["error"]) for k, v in row.items() if isinstance(v, dict)},
              flush=True)
    summary = {}
    for name in methods:
        s = {k: round(float(np.mean([r[name][k] for r in rows])), 3) for k in ("acc1", "acc2", "acc1_rpb4")}
        fs = [r[name]["beat_f"] for r in rows if "beat_f" in r[name] and not math.isnan(r[name]["beat_f"])]
        if fs:
            s["beat_f"] = round(float(np.mean(fs)), 3)
        errs: dict[str, int] = {}
        for r in rows:
            errs[r[name]["error"]] = errs.get(r[name]["error"], 0) + 1
        s["errors"] = errs
        summary[name] = s
    packages = sorted({r["package"] for r in rows})
    result = {"command": f"python -m core.tempo --evaluate-real {cache} --write", "modules": len(rows),
              "packages": packages, "per_package": {p: sum(r["package"] == p for r in rows) for p in packages},
              "label": "bpm = tempo*6/speed*4/rows_per_beat; rows_per_beat 4 (IT header where stored), doubled while "
                       "the beat is above 200 BPM; beats at every rows_per_beat-th row of each pattern (offset: the "
                       "first row of the kept part)",
              "tolerance": "Acc1 within 4 %; Acc2 also at x2, x1/2, x3, x1/3; beat F: mir_eval 70 ms, "
                           "first 5 s trimmed",
              "summary": summary, "rows": rows}
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
    return result


def measured_real() -> dict | None:
    """Ours, librosa's and BeatNet's (when measured) Acc1 / Acc2 / beat F on the real tracker modules
    (``--evaluate-real ... --write``)."""
    path = Path(__file__).resolve().parent.parent / "docs" / "figures" / "tempo_real.json"
    if not path.exists():
        return None
    d = json.loads(path.read_text())
    return {"modules": d["modules"], "packages": len(d["packages"]),
            **{k: d["summary"][k] for k in ("ours", "librosa_beat_track", "beatnet") if k in d["summary"]}}


def main(argv=None):
    p = argparse.ArgumentParser(description="Tempo estimation: evaluate Acc1/Acc2 on tracks of known tempo.")
    p.add_argument("--evaluate", action="store_true")
    p.add_argument("--evaluate-real", type=Path, metavar="CACHE",
                   help="Acc1/Acc2/beat F on tracker modules built by `python -m core.data.modules --build`")
    p.add_argument("--write", action="store_true", help="with --evaluate-real: write docs/figures/tempo_real.json")
    p.add_argument("--train", action="store_true", help="fit the octave chooser on generated tracks")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--per-genre", type=int, default=5)
    p.add_argument("--out", type=Path,
                   default=Path(__file__).resolve().parent.parent / "docs" / "figures" / "tempo_eval.json")
    args = p.parse_args(argv)
    if args.train:
        print(json.dumps(train_chooser(args.per_genre, args.seed), indent=2))
    if args.evaluate_real:
        out = Path(__file__).resolve().parent.parent / "docs" / "figures" / "tempo_real.json" if args.write else None
        r = evaluate_real(args.evaluate_real, out)
        print(json.dumps({k: v for k, v in r.items() if k != "rows"}, indent=2))
    if args.evaluate:
        r = evaluate(args.per_genre, args.out)
        print(json.dumps({k: v for k, v in r.items() if k != "rows"}, indent=2))


if __name__ == "__main__":
    main()
