"""Find every occurrence of a marked sound with yes/no feedback: the paper's Algorithm 1.

    from core.search import prepare, SearchSession
    track = prepare(y, sr, features="mfcc")          # features of the whole track, once
    s = SearchSession(track, t0=12.3, d=0.8)          # P = {t0}, N = {}
    while (t := s.propose()) is not None:             # the best window not answered yet
        s.feedback(t, is_positive=ask_user(t))        # P ∪ {t} or N ∪ {t}; ends when |N| = patience
    s.positives, s.to_csv("found.csv")

Windows are compared by their block means: a window of L frames is cut into
``blocks`` equal parts and each part's mean feature vector is compared with the
same part of the other window (squared Euclidean distance, averaged). That keeps
the order of events inside a loop while tolerating a frame or two of jitter,
and one distance profile over every window of a 7.5-minute track costs a few
matrix-vector products in torch.
"""
from __future__ import annotations

import csv
import json
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from core import validate
from core.audio import SILENCE_PEAK, AudioError
from core.capability import Capability, register
from core.search import spaces
from core.training import check_cancel

PATIENCE = 5
MAX_PATIENCE = 50
#: Tempi a user may type for the export in beats.
MIN_BPM, MAX_BPM = 20.0, 400.0
MIN_DURATION = 0.1
#: Temporal resolution of the window comparison by the user's hint (chosen on a development set).
BLOCKS = {"sample": 8, "loop": 8}
#: Weight of the distance to the nearest negative in the score (chosen on a development set).
NEGATIVE_WEIGHT = 0.3


def to_pcm16(y: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] as int16 PCM: half the memory, and inaudibly different for playing clips."""
    return np.round(np.clip(y, -1.0, 1.0) * 32767.0).astype(np.int16)


@dataclass
class Track:
    """A track ready to search: its audio (for playing clips) and its features in one space.

    The audio is kept as int16 PCM (``pcm``; ``y`` gives float32 on demand): a 10-minute track is 26 MB
    instead of 53, and the features are computed from the float audio before it is stored.
    """

    pcm: np.ndarray  # (samples,) int16
    sr: int
    features: str
    X: torch.Tensor  # (frames, dims)
    name: str = ""
    _tempo: tuple | None = field(default=None, repr=False)  # the detected (bpm, first beat), once

    @property
    def y(self) -> np.ndarray:
        return self.pcm.astype(np.float32) / 32767.0

    @property
    def duration(self) -> float:
        return len(self.pcm) / self.sr

    @property
    def frame_rate(self) -> float:
        return self.sr / spaces.HOP_LENGTH

    def clip(self, t: float, d: float) -> np.ndarray:
        """The audio of the window [t, t + d)."""
        a = max(0, int(round(t * self.sr)))
        return self.pcm[a: a + int(round(d * self.sr))].astype(np.float32) / 32767.0

    def tempo(self, bpm: float | None = None, first_beat: float = 0.0) -> tuple[float, float] | None:
        """(BPM, time of beat 0 in seconds) for the export in beats; None when no steady beat is found.

        With ``bpm`` None, ``core.tempo.estimate`` finds both (once per track; it chooses between octave
        candidates, where librosa's tracker alone read the drum & bass example's 174.45 BPM as 117.5). A
        tempo the user gives is taken as it is, with beat 0 at ``first_beat`` (the start of the file by
        default), which is what a game engine or DAW counts from.
        """
        if bpm is not None:
            bpm = validate.number(bpm, "The tempo (leave it empty or 0 to detect it)", MIN_BPM, MAX_BPM)
            first_beat = validate.number(first_beat, "Beat 0 (s)", default=0.0)
            if not 0 <= first_beat < self.duration:
                raise ValueError(f"Beat 0 at {first_beat:g} s lies outside the track (0–{self.duration:.2f} s).")
            return bpm, first_beat
        if self._tempo is None:
            from core import tempo as tempo_

            check_cancel()  # the estimate takes ~0.7 s on 10 minutes
            est = tempo_.estimate(self.y, self.sr)
            self._tempo = (est.bpm, est.first_beat) if est is not None else ()
        return self._tempo or None


def prepare(y: np.ndarray, sr: int, features: str = "mfcc", name: str = "", encoder=None) -> Track:
    """Check the audio and compute its features once; every search on the track reuses them."""
    if sr != spaces.SR:
        raise ValueError(f"The search works at {spaces.SR} Hz; load with core.audio.load_audio(..., sr={spaces.SR}).")
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise AudioError("The search needs mono audio.")
    if len(y) < 0.5 * sr:
        raise AudioError("The track is shorter than half a second: there is nothing to search.")
    if float(np.max(np.abs(y))) < SILENCE_PEAK:
        raise AudioError("The track is silent: there is nothing to search.")
    X = spaces.extract(y, sr, features, encoder=encoder)
    check_cancel()
    return Track(pcm=to_pcm16(y), sr=sr, features=features, X=X, name=name)


# --- nearest-neighbour search over windows -------------------------------------------------

def block_layout(L: int, n_frames: int, blocks: int) -> tuple[int, list[int], int]:
    """(block length l, block offsets inside a window, number of windows W) for windows of L frames."""
    blocks = max(1, min(blocks, L))
    length = max(1, L // blocks)
    offsets = [int(round(k * L / blocks)) for k in range(blocks)]
    offsets = [min(o, L - length) for o in offsets]
    return length, offsets, n_frames - L + 1


def block_means(X: torch.Tensor, length: int) -> torch.Tensor:
    """Moving average of ``length`` frames: row t is the mean of X[t : t + length] (cumulative sums, O(frames))."""
    c = torch.cumsum(torch.cat([X.new_zeros(1, X.shape[1]), X.double()]), dim=0)
    return ((c[length:] - c[:-length]) / length).float()


class WindowIndex:
    """Every window of L frames of a track, and the distance from any one of them to all others."""

    def __init__(self, X: torch.Tensor, L: int, blocks: int = 4):
        if L > X.shape[0]:
            raise ValueError("The window is longer than the track.")
        self.L = L
        self.l, self.offsets, self.W = block_layout(L, X.shape[0], blocks)
        self.M = block_means(X, self.l)
        self.sq = self.M.pow(2).sum(1)
        self.dims = X.shape[1]

    def profile(self, start: int) -> torch.Tensor:
        """Mean squared distance per dimension between window ``start`` and every window: (W,)."""
        out = torch.zeros(self.W, dtype=self.M.dtype, device=self.M.device)
        for o in self.offsets:
            q = self.M[start + o]
            # ‖a − q‖² = ‖a‖² − 2 a·q + ‖q‖²: one matrix-vector product per block, no (W, dims) temporary
            out += self.sq[o: o + self.W] - 2.0 * (self.M[o: o + self.W] @ q) + self.sq[start + o]
        return out.clamp_(min=0) / (len(self.offsets) * self.dims)


def score(d_pos: torch.Tensor, d_neg: torch.Tensor | None, negative_weight: float = NEGATIVE_WEIGHT) -> torch.Tensor:
    """Lower is better: the mean distance to the positives, minus a share of the distance to the nearest negative.

    ``d_pos`` is (|P|, W) and ``d_neg`` (|N|, W) distance profiles. The mean over P
    rewards what every accepted occurrence shares (the sound, not its changing
    background); the nearest negative pushes the search away from each rejected
    kind of sound. With P = {t0} and no N this is plain nearest-neighbour search.
    On the development set the mean beat the nearest positive, and 0.3 beat a
    ratio d_P / (d_P + d_N) and weights 0 and 1.
    """
    s = d_pos.mean(0)
    if d_neg is not None and len(d_neg):
        s = s - negative_weight * d_neg.amin(0)
    return s


def available(W: int, L: int, answered, device=None) -> torch.Tensor:
    """Mask of the windows that overlap none of the ``answered`` ones (starts in frames)."""
    mask = torch.ones(W, dtype=torch.bool, device=device)
    for a in answered:
        mask[max(0, a - L + 1): max(0, min(W, a + L))] = False
    return mask


def get_best_samples(X: torch.Tensor, P, N, d: int, k: int = 1, blocks: int = 4) -> list[int]:
    """The paper's GetBestSamples: the ``k`` best new windows given positives P and negatives N.

    ``X`` is (frames, dims), ``P``/``N`` start frames, ``d`` the window length in frames.
    A window that overlaps an answered one (in P or N) is never returned.
    """
    index = WindowIndex(X, d, blocks)
    d_pos = torch.stack([index.profile(p) for p in P])
    d_neg = torch.stack([index.profile(n) for n in N]) if N else None
    s = score(d_pos, d_neg).masked_fill(~available(index.W, d, list(P) + list(N), X.device), math.inf)
    k = min(k, int(torch.isfinite(s).sum()))
    return torch.topk(s, k, largest=False).indices.tolist() if k > 0 else []


# --- Algorithm 1 as a session a user (or a simulated one) drives -----------------------------

def check_query(duration: float, t0, d) -> tuple[float, float]:
    """(t0, d) as floats, or a ValueError saying what is wrong with the query for a track of ``duration`` s."""
    for name, v in (("start time", t0), ("duration", d)):
        try:
            ok = v is not None and math.isfinite(float(v))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"The query's {name} must be a number.")
    t0, d = float(t0), float(d)
    if d < MIN_DURATION:
        raise ValueError(f"The query is {d:.2f} s long; it must last at least {MIN_DURATION} s.")
    if d > duration / 3:
        raise ValueError(
            f"The query is {d:.1f} s long, more than a third of the {duration:.1f} s track: "
            "a sound that long cannot occur twice more. Mark a shorter part."
        )
    if t0 < 0 or t0 + d > duration + 1e-3:
        raise ValueError(f"The query {t0:.2f}–{t0 + d:.2f} s lies outside the track (0–{duration:.2f} s).")
    return t0, d


class SearchEnded(ValueError):
    """An answer arrived after the search had ended."""


class SearchSession:
    """One search: the query, the answers so far, the proposal awaiting an answer.

    ``learn=False`` gives the paper's naive baseline: proposals ranked by distance
    to the query alone; answers only remove windows from the candidates.
    """

    def __init__(self, track: Track, t0: float, d: float, patience: int = PATIENCE, kind: str = "sample",
                 blocks: int | None = None, learn: bool = True, bpm: float | None = None, first_beat: float = 0.0):
        t0, d = check_query(track.duration, t0, d)
        if bpm is not None and not (isinstance(bpm, (int, float)) and bpm == 0):  # 0: detect, as the tab says
            bpm, first_beat = track.tempo(bpm, first_beat)  # an out-of-range tempo fails here, before any answer
        else:
            bpm, first_beat = None, 0.0
        patience = validate.number(patience, "Patience", 1, MAX_PATIENCE, integer=True, default=PATIENCE)
        if kind not in BLOCKS:
            raise ValueError(f"The hint must be one of {', '.join(BLOCKS)}.")
        self.track, self.t0, self.d, self.patience, self.kind, self.learn = track, t0, d, patience, kind, learn
        self.bpm, self.first_beat = bpm, first_beat
        self.L = max(1, int(round(d * track.frame_rate)))
        check_cancel()
        self.index = WindowIndex(track.X, self.L, blocks or BLOCKS[kind])
        self.q = min(self.to_frame(t0), self.index.W - 1)
        self.answers: list[tuple[int, bool]] = []  # (start frame, is_positive), in order: the undo history
        self.pending: int | None = None
        self.stopped = False
        self.exhausted = False  # no window left that overlaps none of the answered ones
        self._profiles: dict[int, torch.Tensor] = {}
        self._lock = threading.Lock()  # two clicks on one session may arrive on two worker threads

    # times ↔ frames
    def set_tempo(self, bpm: float | None, first_beat: float = 0.0) -> None:
        """Use a tempo from now on (the exports in beats follow): a typed or ×2 / ÷2 value; None: detect."""
        if bpm is None:
            self.bpm, self.first_beat = None, 0.0
        else:
            self.bpm, self.first_beat = self.track.tempo(bpm, first_beat)

    def scale_tempo(self, factor: float) -> float:
        """The current tempo (typed or detected) ×2 or ÷2, beat 0 kept; returns the new BPM."""
        if factor not in (2.0, 0.5):
            raise ValueError("The tempo can be doubled (2) or halved (0.5).")
        current = self.track.tempo(self.bpm, self.first_beat)
        if not current:
            raise ValueError("No steady beat was found: type the tempo instead.")
        self.set_tempo(current[0] * factor, current[1])
        return self.bpm

    # times ↔ frames
    def to_frame(self, t: float) -> int:
        return int(round(t * self.track.frame_rate))

    def to_time(self, f: int) -> float:
        return round(f / self.track.frame_rate, 3)

    def _profile(self, f: int) -> torch.Tensor:
        if f not in self._profiles:
            self._profiles[f] = self.index.profile(f)
        return self._profiles[f]

    @property
    def positives(self) -> list[float]:
        """Start times of P: the query and every window answered yes."""
        return [self.t0] + [self.to_time(f) for f, yes in self.answers if yes]

    @property
    def negatives(self) -> list[float]:
        return [self.to_time(f) for f, yes in self.answers if not yes]

    @property
    def ended(self) -> bool:
        return self.stopped or len(self.negatives) >= self.patience

    def propose(self) -> float | None:
        """Start time of the best window not answered yet (the same one until it is answered); None once ended."""
        with self._lock:
            if self.ended:
                return None
            if self.pending is None:
                self.pending = self._best()
            return None if self.pending is None else self.to_time(self.pending)

    def _best(self) -> int | None:
        pos = [self.q] + [f for f, yes in self.answers if yes and self.learn]
        neg = [f for f, yes in self.answers if not yes and self.learn]
        d_pos = torch.stack([self._profile(f) for f in pos])
        d_neg = torch.stack([self._profile(f) for f in neg]) if neg else None
        mask = available(self.index.W, self.L, [self.q] + [f for f, _ in self.answers], d_pos.device)
        s = score(d_pos, d_neg).masked_fill(~mask, math.inf)
        best = int(torch.argmin(s))
        if not math.isfinite(float(s[best])):
            self.stopped = self.exhausted = True  # every window has been answered or overlaps one
            return None
        return best

    def feedback(self, t: float, is_positive: bool) -> bool:
        """Record the user's answer about the window starting at ``t``.

        Returns False (and changes nothing) for a window already answered, e.g. a
        second click on the same proposal. Raises :class:`SearchEnded` once the
        patience is used up or the search was stopped.
        """
        with self._lock:
            if self.ended:
                raise SearchEnded(
                    f"The search has ended ({len(self.negatives)} of {self.patience} misses used"
                    f"{', stopped' if self.stopped else ''}); undo the last answer or start a new search."
                )
            t = float(t)
            if not 0 <= t <= self.track.duration:
                raise ValueError(f"{t:.2f} s is outside the track (0–{self.track.duration:.2f} s).")
            f = min(self.to_frame(t), self.index.W - 1)
            if f == self.q or any(f == a for a, _ in self.answers):
                return False
            self.answers.append((f, bool(is_positive)))
            self.pending = None
            return True

    def undo(self) -> float | None:
        """Take back the last answer; its window becomes the pending proposal again. Returns its time."""
        with self._lock:
            if not self.answers:
                return None
            f, _ = self.answers.pop()
            self.pending, self.stopped, self.exhausted = f, False, False
            return self.to_time(f)

    def stop(self) -> None:
        """End the search now (the user has found enough)."""
        with self._lock:
            self.stopped, self.pending = True, None

    # results
    def occurrences(self) -> list[dict]:
        """Every occurrence found, in time order: the query and the windows answered yes."""
        tempo = self.track.tempo(self.bpm, self.first_beat)
        rows = []
        for t in sorted(self.positives):
            row = {"start_s": round(t, 3), "end_s": round(t + self.d, 3),
                   "source": "query" if t == self.t0 else "found"}
            if tempo:
                bpm, first = tempo
                row["start_beat"] = round((t - first) * bpm / 60, 2)
                row["end_beat"] = round((t + self.d - first) * bpm / 60, 2)
            rows.append(row)
        return rows

    def to_dict(self) -> dict:
        tempo = self.track.tempo(self.bpm, self.first_beat)
        return {
            "track": self.track.name,
            "duration_s": round(self.track.duration, 3),
            "features": self.track.features,
            "kind": self.kind,
            "query": {"start_s": round(self.t0, 3), "duration_s": round(self.d, 3)},
            "patience": self.patience,
            "tempo_bpm": round(tempo[0], 2) if tempo else None,
            "first_beat_s": round(tempo[1], 3) if tempo else None,
            "ended": self.ended,
            "occurrences": self.occurrences(),
            "rejected_s": sorted(self.negatives),
        }

    def to_json(self, path) -> str:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2))
        return str(path)

    def to_csv(self, path) -> str:
        rows = self.occurrences()
        cols = ["start_s", "end_s", "start_beat", "end_beat", "source"] if rows and "start_beat" in rows[0] else [
            "start_s", "end_s", "source"]
        with open(path, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=cols)
            w.writeheader()
            w.writerows(rows)
        return str(path)


def session(y: np.ndarray, sr: int, t0: float, d: float, features: str = "mfcc", **kwargs) -> SearchSession:
    """A search on raw audio in one call: ``prepare`` then :class:`SearchSession`."""
    return SearchSession(prepare(y, sr, features), t0, d, **kwargs)


class Workspace:
    """What one user of the search tab holds: a track's audio once (int16 at the search rate), its features
    per space (computed on first use, sharing that audio), the search under way and the last overview.

    This is the per-session state, so it is kept small: a 10-minute track is 26 MB of audio plus 13 MB per
    feature space used, and the window index of the search under way.
    """

    def __init__(self, path, y: np.ndarray, sr: int, source_duration: float | None = None):
        self.path, self.sr = str(path), sr
        self.pcm = to_pcm16(np.asarray(y, np.float32))
        self.source_duration = source_duration if source_duration is not None else len(self.pcm) / sr
        self.tracks: dict[str, Track] = {}
        self.session: SearchSession | None = None
        self.overview = None  # the last core.search.view.Overview drawn, for clicks on it
        self._envelope = None

    @classmethod
    def open(cls, path, max_seconds: float = 600.0) -> "Workspace":
        """Load ``path`` for searching (mono, the search rate, silence trimmed, at most ``max_seconds``)."""
        from core.audio import audio_duration, load_audio

        y, sr = load_audio(path, sr=spaces.SR, max_seconds=max_seconds, trim=True, allow_silence=False)
        if len(y) < 0.5 * sr:
            raise AudioError(f"The track is {len(y) / sr:.2f} s long: too short to search; "
                             "upload at least half a second.")
        return cls(path, y, sr, source_duration=audio_duration(path))

    @property
    def duration(self) -> float:
        return len(self.pcm) / self.sr

    @property
    def truncated(self) -> bool:
        """True when the file is longer than what was loaded (found times stop at the cut)."""
        return self.source_duration > self.duration + 0.5

    @property
    def y(self) -> np.ndarray:
        return self.pcm.astype(np.float32) / 32767.0

    @property
    def envelope(self):
        """The waveform as drawn (``core.plots.Envelope``), computed once: every answer redraws the overview."""
        if self._envelope is None:
            from core import plots

            self._envelope = plots.envelope(self.y, self.sr)
        return self._envelope

    def clip(self, t0: float, d: float) -> np.ndarray:
        t0, d = check_query(self.duration, t0, d)
        a = int(t0 * self.sr)
        return self.pcm[a: a + int(d * self.sr)].astype(np.float32) / 32767.0

    def track(self, space: str, encoder=None) -> Track:
        """The track in feature ``space``, prepared once."""
        validate.choice(space, "feature space", spaces.SPACES)
        if space not in self.tracks:
            t = prepare(self.y, self.sr, space, name=Path(self.path).name, encoder=encoder)
            t.pcm = self.pcm  # one copy of the audio for every space
            self.tracks[space] = t
        return self.tracks[space]

    def start(self, t0: float, d: float, space: str = "mel", **kwargs) -> SearchSession:
        """Begin a search for the query [t0, t0 + d) in ``space``; the previous one is dropped."""
        check_query(self.duration, t0, d)  # before the slow part
        self.session = None  # free the old window index first
        self.session = SearchSession(self.track(space), t0, d, **kwargs)
        return self.session


CAPABILITY = register(Capability(
    "search", run=session, result=SearchSession, load=spaces.load, models_dir=spaces.MODEL_DIR,
    default_model=spaces.DEFAULT_MODEL,
    bundled=lambda: sorted(p.name for p in spaces.MODEL_DIR.iterdir() if (p / "model.safetensors").exists()),
    examples=(spaces.MODEL_DIR.parents[1] / "examples" / "search" / "drum_and_bass_loops_and_samples.ogg",),
    evaluate="python -m core.search.evaluate --data .cache/search/eval --out docs/figures/search_eval.json"))
