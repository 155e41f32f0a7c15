"""Which instrument plays, and where: sliding-window predictions over a whole recording.

    from core.instruments import predict
    result = predict(y, sr)                  # default: the head on the musicnn backbones ("cnn", "ast": the paper's)
"""
from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from core import registry
from core.audio import AudioError, load_audio, read_excerpts
from core.backbones import musicnn
from core.backbones.tagging import check_audio
from core.capability import Capability, register
from core.classify import report as head_report
from core.classify.engine import classify
from core.classify.heads import is_uncertain, load_head, pool_labels, verdict_notices
from core.classify.tasks import INSTRUMENTS
from core.features import AST_SR, ast_log_mel
from core.instruments.models import ASTClassifier, ASTSize, CNNConfig, InstrumentCNN
from core.training import MODELS_DIR, ModelReport, check_cancel, load_state, read_card

if TYPE_CHECKING:
    from core.backbones.tagging import TagPrediction

MODEL_DIR = MODELS_DIR / "instruments"
BUNDLED = ("prior", "tags", "musicnn", "cnn", "ast")
PAPER_MODELS = ("cnn", "ast")  # the paper's networks, trained on rendered clips only
#: the zero-shot tag mapping, corrected where real data earned it (core.classify.prior)
DEFAULT_MODEL = "prior"
MAX_BATCH_FILES = 50  # per "Tag a folder" request: one request never holds a worker for minutes
#: back-to-back 3 s patches, as genre and the tags read them and as the heads were chosen on real passages: one
#: pass of the backbones per upload serves all three (half-overlapping ones cost twice as much for a finer timeline)
BACKBONE_HOP_SECONDS = musicnn.PATCH_SECONDS
HUB_ENV = "MUSIC_STUDIO_INSTRUMENTS_HUB"  # names a pretrained AudioSet AST to offer in the tab
HUB_EXAMPLE = "MIT/ast-finetuned-audioset-10-10-0.4593"
WINDOW_SECONDS = 2.0  # the paper's 2 s crops
HOP_SECONDS = 1.0
#: AudioSet label names (as in AST checkpoints fine-tuned on AudioSet) that map onto each class.
AUDIOSET_MAP = {
    "clarinet": ("Clarinet",),
    "distorted electric guitar": ("Electric guitar", "Distortion"),
    "female singer": ("Female singing", "Singing"),
    "flute": ("Flute",),
    "piano": ("Piano", "Electric piano", "Keyboard (musical)"),
    "tenor saxophone": ("Saxophone",),
    "trumpet": ("Trumpet",),
    "violin": ("Violin, fiddle",),
}


@dataclass
class Classifier:
    name: str
    model: torch.nn.Module
    labels: list[str]
    frames: int  # input length in 10 ms frames
    card: dict
    label_map: np.ndarray | None = None  # (hub labels, classes) for a pretrained AudioSet AST

    @torch.inference_mode()
    def probabilities(self, X: np.ndarray, batch: int | None = None) -> np.ndarray:
        """(n, frames, 128) log-mels → (n, classes) probabilities."""
        # Small CNN batches keep the 32-channel feature maps in cache: 3-min timeline 0.40 s at 4 vs 1.16 s at 64.
        batch = batch or (4 if isinstance(self.model, InstrumentCNN) else 16)
        out = []
        for i in range(0, len(X), batch):
            x = torch.from_numpy(X[i:i + batch]).to(registry.device())
            if self.label_map is None:
                out.append(self.model(x).exp().cpu().numpy())
            else:  # multi-label AudioSet logits → the eight classes
                scores = torch.sigmoid(self.model(input_values=x).logits).cpu().numpy()
                out.append(pool_labels(scores, [np.flatnonzero(col) for col in self.label_map.T]))
        return np.concatenate(out) if out else np.zeros((0, len(self.labels)), dtype=np.float32)

    def predict(self, y: np.ndarray, sr: int, hop_seconds: float | None = None) -> "InstrumentResult":
        """Every window of mono audio ``y`` classified: :func:`predict` with this model."""
        return predict(y, sr, self, hop_seconds)


@dataclass
class BackboneClassifier:
    """A ``TagHead`` on the frozen musicnn backbones (the real-music default)."""

    name: str
    head: torch.nn.Module
    labels: list[str]
    card: dict

    def predict(self, y: np.ndarray, sr: int, hop_seconds: float | None = None) -> "InstrumentResult":
        """Every 3 s patch of mono audio ``y`` classified, with the tags: :func:`predict` with this model."""
        return predict(y, sr, self, hop_seconds)


def _load_local(directory: Path) -> Classifier | BackboneClassifier:
    config = json.loads((directory / "config.json").read_text())
    if "feature" in config and "backbones" in config:
        head = load_head(directory)
        return BackboneClassifier(directory.name, head, head.labels, read_card(directory))
    kind, labels = config.pop("kind"), config.pop("labels")
    if kind == "cnn":
        config["channels"] = tuple(config["channels"])
        model = InstrumentCNN(CNNConfig(**config))
        model.load_state_dict(load_state(directory))
        model = model.to(memory_format=torch.channels_last)  # ~2× faster convolutions on CPU, same numbers
        return Classifier(directory.name, model.eval().to(registry.device()), labels, config["frames"],
                          read_card(directory))
    else:
        model = ASTClassifier(ASTSize(**config), labels)
    model.load_state_dict(load_state(directory))
    return Classifier(directory.name, model.eval().to(registry.device()), labels, config["frames"],
                      read_card(directory))


def hub_label_map(id2label: dict, labels=tuple(AUDIOSET_MAP)) -> np.ndarray:
    """(hub labels, classes) 0/1 matrix from AudioSet label names onto the eight classes."""
    m = np.zeros((len(id2label), len(labels)), dtype=np.float32)
    for i, name in id2label.items():
        for j, cls in enumerate(labels):
            if name in AUDIOSET_MAP[cls]:
                m[int(i), j] = 1.0
    if not m.any():
        raise ValueError("This checkpoint has none of the AudioSet instrument labels the tab maps onto its classes.")
    return m


def _load_hub(name_or_path: str) -> Classifier:
    """A pretrained AST (e.g. MIT/ast-finetuned-audioset-10-10-0.4593) from the Hub or a local folder.

    Set MUSIC_STUDIO_OFFLINE=1 (or HF_HUB_OFFLINE=1) where the Hub cannot be reached: only local
    folders and already-cached checkpoints load then.
    """
    from transformers import ASTForAudioClassification

    offline = os.environ.get("MUSIC_STUDIO_OFFLINE") == "1" or os.environ.get("HF_HUB_OFFLINE") == "1"
    try:
        model = ASTForAudioClassification.from_pretrained(name_or_path, local_files_only=offline)
    except Exception as err:
        raise ValueError(f"Could not load the checkpoint {name_or_path!r} ({type(err).__name__}); "
                         "without internet only local folders work.") from None
    labels = list(AUDIOSET_MAP)
    return Classifier(Path(name_or_path).name, model.eval().to(registry.device()), labels,
                      int(model.config.max_length), {}, hub_label_map(model.config.id2label, labels))


#: How a model name asks for a Hugging Face Hub checkpoint (as in core.genre).
HUB_PREFIX = "hub:"


def hub_model() -> str | None:
    """``hub:<id>`` for the Hub AST named by MUSIC_STUDIO_INSTRUMENTS_HUB, unless the Hub is switched off."""
    if os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("MUSIC_STUDIO_OFFLINE") == "1":
        return None
    hub_id = os.environ.get(HUB_ENV, "").strip()
    return f"{HUB_PREFIX}{hub_id}" if hub_id else None


def load(name: str = DEFAULT_MODEL) -> Classifier | BackboneClassifier:
    """A bundled model (musicnn, tags, cnn, ast), a folder saved by a train script, or a Hugging Face AST id/folder;
    cached. "tags" is the zero-shot mapping of the taggers' tags (``core.classify.heads.TagMapping``)."""
    if not isinstance(name, (str, Path)) or not str(name).strip():
        raise ValueError(f"Choose an instrument model: one of {', '.join(BUNDLED)}, or a trained model's folder.")
    if name in BUNDLED:
        directory = MODEL_DIR / name
        if not (directory / "model.safetensors").exists() and not (directory / "config.json").exists():
            raise ValueError(f"The bundled {name} weights are missing; "
                             "train them with python -m core.instruments.train.")
        return registry.get(f"instruments:{name}", lambda: _load_local(directory))
    name = str(name)
    if name.startswith(HUB_PREFIX):  # only an explicit hub: name reaches for the Hub, never a typo
        hub_id = name[len(HUB_PREFIX):].strip()
        return registry.get(f"instruments:hub:{hub_id}", lambda: _load_hub(hub_id))
    path = Path(name)
    if (path / "model.safetensors").exists() and (path / "config.json").exists() and \
            {"kind", "feature"} & set(json.loads((path / "config.json").read_text())):  # saved by our train scripts
        return registry.get(f"instruments:{path.resolve()}", lambda: _load_local(path))
    if (path / "config.json").exists():  # a Hugging Face AST checkpoint saved to a folder
        return registry.get(f"instruments:{path.resolve()}", lambda: _load_hub(str(path)))
    raise ValueError(f"Unknown instrument model {name!r}: use a bundled name ({', '.join(BUNDLED)}), "
                     f"a trained model's folder, or {HUB_PREFIX}<id>.")


def report(name: str) -> ModelReport:
    """The instrument tab's report for a bundled model or a trained folder, from its card (the weights are not
    loaded): the head's real-music report, or the paper's Tables 1–3 (per-class rows and the confusion matrix)."""
    if not isinstance(name, (str, Path)) or not str(name).strip():
        return ModelReport(f"Choose an instrument model: one of {', '.join(BUNDLED)}.")
    folder = MODEL_DIR / name if name in BUNDLED else Path(name)
    if head_report.is_head(folder):
        return ModelReport(head_report.head_report(folder))
    if not (folder / "card.json").exists():
        return ModelReport(f"`{name}` has no card to report (a Hub checkpoint, or not a trained model's folder).")
    card = read_card(folder)
    metrics = card.get("metrics", {})
    key = next((k for k in metrics if k.startswith("test_")), next(iter(metrics), None))
    if key is None or "report" not in metrics[key]:
        return ModelReport("This model's card has no metrics.")
    m = metrics[key]
    rows = [[label, round(v["precision"], 3), round(v["recall"], 3), round(v["f1-score"], 3), int(v["support"])]
            for label, v in m["report"].items() if isinstance(v, dict)]
    note = (f"**{key.replace('_', ' ')}** — accuracy {m['accuracy']:.1%}, macro-F1 {m['macro_f1']:.1%}. "
            f"Trained with `{card.get('command', '?')}`.")
    if head_report.real_dev_line(metrics):
        note += "\n\n" + head_report.real_dev_line(metrics)
    labels = json.loads((folder / "config.json").read_text())["labels"]
    return ModelReport(note, labels=labels, rows=rows, confusion=m["confusion"])


@dataclass
class InstrumentResult:
    labels: list[str]
    probabilities: np.ndarray  # (classes,) overall, mean over the windows with sound
    times: np.ndarray  # (windows,) window centres in seconds
    window_probabilities: np.ndarray  # (windows, classes)
    window_seconds: float
    duration: float
    padded: bool  # the input was shorter than one window
    truncated_from: float | None = None  # original length in seconds when only the start was classified
    notices: list[str] = field(default_factory=list)
    tags: "TagPrediction | None" = None  # MTT/MSD tags, when the model reads the musicnn backbones
    first_look: bool = False  # only a few windows spread over the input were read (predict_file(first_look=))
    heard: list[tuple[str, float]] = field(default_factory=list)  # full mix: instruments heard in it (heard_in_mix)

    @property
    def is_full_mix(self) -> bool:
        """The taggers hear a band or a beat: a solo-instrument answer is not to be trusted."""
        return bool(self.tags is not None and self.tags.is_full_mix)

    @property
    def uncertain(self) -> bool:
        """The top two classes are close (``core.classify.heads.UNCERTAIN_MARGIN``)."""
        return is_uncertain(self.probabilities)

    def ranking(self) -> list[tuple[str, float]]:
        order = np.argsort(-self.probabilities)
        return [(self.labels[i], float(self.probabilities[i])) for i in order]

    def to_dict(self) -> dict:
        """JSON-ready: the ranking, one row per window, the full-mix flag and the tags when there are."""
        top, p = self.ranking()[0]
        return {"instrument": top, "probability": round(p, 4), "uncertain": self.uncertain,
                "full_mix": self.is_full_mix,
                "heard_in_mix": [{"instrument": c, "score": round(v, 4)} for c, v in self.heard],
                "duration_s": round(self.duration, 3), "window_s": self.window_seconds, "padded": self.padded,
                "truncated_from_s": self.truncated_from, "notices": list(self.notices), "first_look": self.first_look,
                "ranking": [{"instrument": i, "probability": round(q, 4)} for i, q in self.ranking()],
                "windows": [{"center_s": round(float(t), 3),
                             **{c: round(float(q), 4) for c, q in zip(self.labels, row)}}
                            for t, row in zip(self.times, self.window_probabilities)],
                "tags": self.tags.to_dict() if self.tags is not None else None}

    def to_csv(self, path) -> str:
        """One row per window: start, end, top instrument, its probability, then every class's."""
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["start_s", "end_s", "instrument", "probability", *self.labels])
            for t, p in zip(self.times, self.window_probabilities):
                k = int(np.argmax(p))
                start, end = max(t - self.window_seconds / 2, 0.0), t + self.window_seconds / 2
                writer.writerow([f"{start:.2f}", f"{end:.2f}", self.labels[k], f"{p[k]:.4f}", *(f"{q:.4f}" for q in p)])
        return str(path)

    def segments(self) -> list[tuple[float, float, str]]:
        """(start, end, top instrument) covering the whole recording: each window owns the time closest
        to its centre; neighbours with the same top instrument are merged."""
        t = self.times
        bounds = np.concatenate([[0.0], (t[1:] + t[:-1]) / 2, [self.duration]])
        out: list[list] = []
        for k, p in enumerate(self.window_probabilities):
            label = self.labels[int(np.argmax(p))]
            if out and out[-1][2] == label:
                out[-1][1] = float(bounds[k + 1])
            else:
                out.append([float(bounds[k]), float(bounds[k + 1]), label])
        return [tuple(s) for s in out]


def loud_windows(y: np.ndarray, starts: list[int], length: int, floor: float = 0.05) -> np.ndarray:
    """Windows whose peak reaches ``floor`` × the loudest window's: near-silence says nothing about the
    instrument, so it is left out of the overall ranking (``starts`` and ``length`` in samples)."""
    peaks = np.array([float(np.abs(y[a:a + length]).max()) if len(y[a:a + length]) else 0.0 for a in starts])
    return peaks >= floor * max(float(peaks.max(initial=0.0)), 1e-9)


FULL_MIX_NOTICE = ("This sounds like a full mix (a band or a beat), not one instrument: the classifier knows solo "
                   "instruments only, so read the tags instead of the ranking.")
#: In a full mix, an instrument counts as heard when its best mapped tag, averaged over the recording, reaches
#: this: the best micro-F1 on rendered mixes with known instruments
#: (``python -m core.classify.mixes --instruments .cache/genre --write``, docs/figures/mix_instruments.json).
HEARD_THRESHOLD = 0.25


def mix_labels() -> tuple[list[str], list[str]]:
    """(every class, the classes a tag speaks for): only those can be heard in a mix."""
    mapping = load("tags").head
    return list(mapping.labels), [c for c in mapping.labels if c not in mapping.unmapped]


def mapped_tag_scores(tags: "TagPrediction") -> np.ndarray:
    """(classes,) each class's best mapped tag (the "tags" model's mapping), averaged over the recording."""
    return load("tags").head.scores(np.concatenate([tags.mtt, tags.msd], 1)).mean(0)


def heard_in_mix(tags: "TagPrediction", threshold: float = HEARD_THRESHOLD) -> list[tuple[str, float]]:
    """The instruments heard in a full mix, strongest first: (class, score) at or above ``threshold``."""
    labels, _ = mix_labels()
    s = mapped_tag_scores(tags)
    return sorted(((c, float(v)) for c, v in zip(labels, s) if v >= threshold), key=lambda cv: -cv[1])


def predict_backbone(y: np.ndarray, sr: int, clf: BackboneClassifier,
                     hop_seconds: float = BACKBONE_HOP_SECONDS) -> InstrumentResult:
    """Every 3 s patch (``hop_seconds`` apart) through the backbones and the head; the tags come along."""
    run = classify(y, sr, clf.head, hop_seconds, what="the instrument")  # core.classify.engine: both tabs
    y, sr, probs, starts, tags, notices = run.y, musicnn.SR, run.probs, run.starts, run.tags, run.notices
    loud = loud_windows(y, [int(s * sr) for s in starts], int(musicnn.PATCH_SECONDS * sr))
    heard = heard_in_mix(tags) if tags.is_full_mix else []
    if tags.is_full_mix:
        notices.append(FULL_MIX_NOTICE + (" Heard in it: " + ", ".join(f"{c} ({v:.2f})" for c, v in heard) + "."
                                          if heard else " None of the instruments is clearly heard in it."))
    if getattr(clf.head, "unmapped", None):  # the tag mapping: say what it can never answer, not just score it 0
        notices.append(f"The {clf.name} model cannot name {', '.join(clf.head.unmapped)}: no tag of the taggers "
                       "speaks for them. Choose the default model to judge those.")
    overall = probs[loud].mean(axis=0)
    if not tags.is_full_mix:  # a mix already says to read the tags instead
        notices += verdict_notices(clf.labels, overall, clf.head)
    return InstrumentResult(clf.labels, overall, starts + musicnn.PATCH_SECONDS / 2, probs,
                            musicnn.PATCH_SECONDS, len(y) / sr, run.padded, notices=notices, tags=tags,
                            heard=heard)


def window_seconds(clf: Classifier | BackboneClassifier) -> float:
    """How much audio one window of ``clf`` reads."""
    return musicnn.PATCH_SECONDS if isinstance(clf, BackboneClassifier) else clf.frames * 0.01


def predict(y: np.ndarray, sr: int, model: str | Classifier | BackboneClassifier = DEFAULT_MODEL,
            hop_seconds: float | None = None) -> InstrumentResult:
    """Classify every window of a mono signal (2 s, hop 1 s; back-to-back 3 s for musicnn); AudioError for silence."""
    clf = model if isinstance(model, (Classifier, BackboneClassifier)) else load(model)
    if isinstance(clf, BackboneClassifier):
        return predict_backbone(y, sr, clf, hop_seconds or BACKBONE_HOP_SECONDS)
    hop_seconds = hop_seconds or HOP_SECONDS
    if sr != AST_SR:
        y, sr = load_audio((sr, y), sr=AST_SR, max_seconds=None)
    check_audio(y, sr, "the instrument")  # silence and clips under 1 s are refused for every model
    window = int(round(clf.frames * 0.01 * sr)) + 240  # samples giving exactly `frames` Kaldi frames
    padded = len(y) < window
    # Once for the whole signal; windows are slices of it. A clip shorter than a window is padded as the
    # training clips were (core.instruments.data.features): the same front end serves and trains.
    fb = ast_log_mel(y, sr, max_length=max(clf.frames, 1 + (len(y) - 400) // 160))
    hop = max(1, int(round(hop_seconds / 0.01)))
    starts = list(range(0, max(1, fb.shape[0] - clf.frames + 1), hop))
    if starts[-1] + clf.frames < fb.shape[0]:  # one more window, flush with the end, so the tail is heard
        starts.append(fb.shape[0] - clf.frames)
    X = np.stack([fb[s:s + clf.frames] for s in starts]).astype(np.float32)
    probs = clf.probabilities(X)
    loud = loud_windows(y, [int(s * 0.01 * sr) for s in starts], window)
    overall = probs[loud].mean(axis=0)
    times = np.array([(s + clf.frames / 2) * 0.01 for s in starts])
    return InstrumentResult(clf.labels, overall, times, probs, clf.frames * 0.01, len(y) / sr, padded,
                            notices=verdict_notices(clf.labels, overall))


def _duration(source) -> float | None:
    if isinstance(source, tuple):
        return len(source[1]) / source[0]
    try:
        import soundfile as sf

        return float(sf.info(str(source)).duration)
    except Exception:  # formats libsndfile cannot read: the loader decides
        return None


#: Windows read for a first look at a long recording (``predict_file(first_look=...)``).
FIRST_LOOK_WINDOWS = 6


def predict_file(source, model: str = DEFAULT_MODEL, max_seconds: float = 600.0,
                 first_look: int | None = None) -> InstrumentResult:
    """Load (capped at ``max_seconds``: longer recordings are cut, and the result says so) and predict.

    ``first_look``: read only that many windows spread over the input, side by side (a quick answer to show
    while the whole input is read); ignored for inputs under twice that length. The notices say so.
    """
    clf = load(model)
    spread = read_excerpts(source, AST_SR, first_look, window_seconds(clf), max_seconds) if first_look else None
    if spread is None:
        y, sr = load_audio(source, sr=AST_SR, max_seconds=max_seconds, trim=True, allow_silence=False)
        result = predict(y, sr, clf)
    else:
        (y, starts, full_duration), sr = spread, AST_SR
        result = predict(y, sr, clf, hop_seconds=window_seconds(clf))  # one window per excerpt, none straddling two
        result.first_look = True
        if len(result.times) == len(starts):  # times on the recording, not on the excerpts joined
            result.times, result.duration = starts + result.window_seconds / 2, full_duration
            if result.tags is not None and len(result.tags.starts) == len(starts):
                result.tags.starts, result.tags.duration = starts, full_duration
        result.notices.insert(0, f"First look: {len(starts)} windows of {result.window_seconds:.0f} s spread over the "
                                 f"{full_duration:.0f} s; every window is being read.")
    total = _duration(source)
    if total is not None and total > max_seconds + 0.5:  # said as genre says it, and kept as a number for the API
        result.truncated_from = total
        result.notices.insert(0, f"The recording is {total:.0f} s long; only the first {max_seconds:.0f} s were "
                                 "classified.")
    return result


#: How much of each file "Tag a folder" reads: a library is tagged by its first two minutes.
BATCH_SECONDS = 120.0


def tag_files(paths, model: str = DEFAULT_MODEL, csv_path=None, progress=None, max_seconds: float = BATCH_SECONDS,
              cancel=None):
    """Tag many files (the archive use case). Unreadable files are skipped and listed, the rest still tagged.

    ``progress(fraction, message)`` is told before each file; ``cancel()`` is checked between files.

    Returns (rows, skipped): rows are dicts with file, top instrument, its probability and every class's;
    with the musicnn model also ``full_mix``, the top tags and every MTT/MSD tag's mean (a sample library's index).
    skipped: (file name, reason) pairs. The CSV has a row per file in the order given, the skipped ones with their
    reason in its last column, ``skipped``: an index of a library must not lose files without saying so.
    """
    rows, skipped, in_order = [], [], []
    clf = load(model)
    for k, path in enumerate(paths):
        check_cancel(cancel)
        if progress:
            progress(k / len(paths), f"tagging {k + 1}/{len(paths)}: {Path(path).name}")
        try:
            result = predict_file(path, model, max_seconds=max_seconds)
        except (AudioError, ValueError) as err:
            skipped.append((Path(path).name, str(err)))
            in_order.append({"file": Path(path).name, "skipped": str(err)})
            continue
        top, p = result.ranking()[0]
        row = {"file": Path(path).name, "instrument": top, "probability": round(p, 4), "uncertain": result.uncertain,
               **{label: round(float(q), 4) for label, q in zip(clf.labels, result.probabilities)}}
        if result.tags is not None:
            row = {**row, "full_mix": result.is_full_mix, **result.tags.summary_row()}
        rows.append(row)
        in_order.append(row)
    if csv_path is not None:
        fields = list(rows[0]) if rows else ["file", "instrument", "probability", "uncertain", *clf.labels]
        _write_batch_csv(csv_path, in_order, fields)
    return rows, skipped


def _write_batch_csv(path, rows: list[dict], fields: list[str]) -> None:
    """Every file's row; a skipped file's has only its name and, under ``skipped``, why (empty for tagged files)."""
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[*fields, "skipped"], restval="")
        writer.writeheader()
        writer.writerows(rows)


CAPABILITY = register(Capability(
    "instruments", run=predict_file, result=InstrumentResult, load=load, models_dir=MODEL_DIR,
    default_model=DEFAULT_MODEL, bundled=lambda: [n for n in BUNDLED if (MODEL_DIR / n / "config.json").exists()],
    labels=INSTRUMENTS.labels, examples=tuple(sorted((MODELS_DIR.parent / "examples" / "instruments").glob("*.flac"))),
    evaluate="python -m core.classify.prior --task instruments --generated .cache/instruments --real .cache/real "
             "--sampled .cache/sampled --out assets/models/instruments/prior; python -m core.instruments.evaluate "
             "(paper networks)"))
