"""Genre prediction for whole recordings: load a model by name, classify every 3 s excerpt, aggregate.

    from core.genre import load, predict_file
    model = load("cnn")                       # bundled name, a local folder, or "hub:<id>"
    result = model.predict(y, sr)             # GenrePrediction: whole-input and per-excerpt probabilities
    result.top, result.probs, result.starts, result.excerpt_probs

The paper aggregates by taking the maximum over the excerpts' classifications; the mean
of the probabilities is the default here because it is steadier on mixed recordings.
"""
from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core import features, registry
from core.audio import audio_duration, load_audio, read_excerpts
from core.backbones import tagging
from core.backbones.tagging import check_audio
from core.capability import Capability, register
from core.classify import report as head_report
from core.classify.engine import classify
from core.classify.heads import is_mapping, is_uncertain, load_head, pool_labels, verdict_notices
from core.classify.tasks import GENRE
from core.genre.features import EXCERPT_S, INPUTS, excerpt_starts, excerpts, pad_to
from core.genre.models import build
from core.training import MODELS_DIR, ModelReport, load_state, read_card

if TYPE_CHECKING:
    from core.backbones.tagging import TagPrediction

BUNDLED_DIR = MODELS_DIR / "genre"
#: the zero-shot tag mapping, corrected where real data earned it (core.classify.prior); the rest stay selectable
DEFAULT_MODEL = "prior"
AGGREGATES = ("mean", "max")
#: Hub checkpoint offered where the Hub is reachable (set the variable to enable it in the tab).
HUB_ENV = "MUSIC_STUDIO_GENRE_HUB"
HUB_EXAMPLE = "MIT/ast-finetuned-audioset-10-10-0.4593"
#: AudioSet labels that count as each of the tab's genres (AudioSet has no "ballad": its
#: tender/sad mood labels stand in for it).
AUDIOSET_GENRES = {
    "ballad": ("Ballad", "Tender music", "Sad music"),
    "classical": ("Classical music", "Opera", "Orchestra", "Chamber music"),
    "hiphop": ("Hip hop music", "Rap", "Trap music"),
    "house": ("House music", "Disco"),
    "jazz": ("Jazz", "Swing music", "Bebop", "Big band"),
    "rock": ("Rock music", "Heavy metal", "Punk rock", "Grunge", "Progressive rock", "Rock and roll",
             "Psychedelic rock", "Hard rock"),
    "techno": ("Techno", "Electronic dance music", "Trance music", "Drum and bass", "Dubstep"),
}


@dataclass
class GenrePrediction:
    labels: list[str]
    probs: np.ndarray  # (classes,) for the whole input
    starts: np.ndarray  # (excerpts,) start time of each 3 s excerpt, seconds
    excerpt_probs: np.ndarray  # (excerpts, classes)
    aggregate: str
    duration: float  # seconds analysed
    model: str
    notices: list[str] = field(default_factory=list)
    tags: "TagPrediction | None" = None  # the MTT/MSD tags, when the model reads the musicnn backbones
    first_look: bool = False  # only a few excerpts spread over the input were read (predict_file(first_look=))
    spectrogram: tuple | None = None  # (log-mel dB (n_mels, frames), sr) of the input, when asked for

    @property
    def top(self) -> str:
        return self.labels[int(np.argmax(self.probs))]

    def to_dict(self) -> dict:
        """JSON-ready: the whole-input distribution, one row per 3 s excerpt, and the tags when there are."""
        return {"genre": self.top, "confidence": round(float(np.max(self.probs)), 4), "model": self.model,
                "uncertain": self.uncertain,
                "aggregate": self.aggregate, "duration_s": round(self.duration, 3), "notices": list(self.notices),
                "first_look": self.first_look,
                "probabilities": {g: round(float(p), 4) for g, p in zip(self.labels, self.probs)},
                "excerpts": [{"start_s": round(float(t), 3),
                              **{g: round(float(p), 4) for g, p in zip(self.labels, row)}}
                             for t, row in zip(self.starts, self.excerpt_probs)],
                "tags": self.tags.to_dict() if self.tags is not None else None}

    @property
    def confidence(self) -> float:
        return float(np.max(self.probs))

    @property
    def uncertain(self) -> bool:
        """The top two genres are close (``core.classify.heads.UNCERTAIN_MARGIN``)."""
        return is_uncertain(self.probs)

    def segments(self) -> list[tuple[float, float, str]]:
        """(start, end, genre) per excerpt, neighbours with the same genre merged: the timeline strip."""
        out: list[tuple[float, float, str]] = []
        for s, p in zip(self.starts, self.excerpt_probs):
            label, end = self.labels[int(np.argmax(p))], min(float(s) + EXCERPT_S, max(self.duration, EXCERPT_S))
            if out and out[-1][2] == label and abs(out[-1][1] - float(s)) < 1e-3:
                out[-1] = (out[-1][0], end, label)
            else:
                out.append((float(s), end, label))
        return out

    def to_csv(self, path) -> str:
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["start_s", "end_s", "genre"] + list(self.labels))
            for s, p in zip(self.starts, self.excerpt_probs):
                w.writerow([f"{s:.1f}", f"{s + EXCERPT_S:.1f}",
                            self.labels[int(np.argmax(p))]] + [f"{v:.4f}" for v in p])
            w.writerow(["whole", "", self.top] + [f"{v:.4f}" for v in self.probs])
        return str(path)


def _mono(y: np.ndarray, aggregate: str) -> np.ndarray:
    """Mono float32, after checking the aggregation is one we know (before any work)."""
    if aggregate not in AGGREGATES:
        raise ValueError(f"Unknown aggregation {aggregate!r}; choose one of {', '.join(AGGREGATES)}.")
    y = np.asarray(y, dtype=np.float32)
    return y.mean(axis=0) if y.ndim > 1 else y


def aggregate_probs(excerpt_probs: np.ndarray, how: str = "mean") -> np.ndarray:
    """Whole-song distribution: mean of the excerpts' probabilities, or the paper's per-class maximum (renormalised)."""
    if how == "mean":
        p = excerpt_probs.mean(0)
    elif how == "max":
        p = excerpt_probs.max(0)
    else:
        raise ValueError(f"Unknown aggregation {how!r}; choose one of {', '.join(AGGREGATES)}.")
    return (p / p.sum()).astype(np.float32)


class GenreModel:
    """A loaded classifier: the network, its label set and the input it reads."""

    def __init__(self, name: str, net, labels: list[str], kind: str, card: dict | None = None, hub_map=None,
                 extractor=None):
        self.name, self.net, self.labels, self.kind = name, net, list(labels), kind
        self.card = card or {}
        self.hub_map = hub_map  # for Hub ASTs: genre -> AudioSet label indices
        self.extractor = extractor
        self.sr = {"hub": INPUTS["ast_mel"], "musicnn": 16_000}.get(kind) or INPUTS[kind]

    def excerpt_probs(self, X: np.ndarray, batch: int = 256) -> np.ndarray:
        import torch

        out = []
        with torch.inference_mode():
            for i in range(0, len(X), batch):
                x = torch.from_numpy(np.ascontiguousarray(X[i:i + batch])).to(next(self.net.parameters()).device)
                logits = self.net(x)
                if self.kind == "hub":  # AudioSet is multi-label: sigmoid, then pool the labels of each genre
                    s = torch.sigmoid(logits.logits if hasattr(logits, "logits") else logits).cpu().numpy()
                    out.append(pool_labels(s, self.hub_map))
                else:
                    out.append(torch.softmax(logits, 1).cpu().numpy())
        return np.concatenate(out).astype(np.float32)

    def features(self, y: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
        if self.kind == "hub":
            return hub_excerpts(y, sr, self.extractor)
        return excerpts(y, sr, self.kind)

    def _prepare(self, y: np.ndarray, sr: int, aggregate: str) -> tuple[np.ndarray, int, list[str]]:
        """Mono float32 at the model's rate; empty, silent or under 1 s refused (never a confident label)."""
        y = _mono(y, aggregate)
        notices = check_audio(y, sr, "its genre")
        if sr != self.sr:
            import librosa

            y, sr = librosa.resample(y, orig_sr=sr, target_sr=self.sr, res_type="soxr_hq"), self.sr
        return y, sr, notices

    def predict(self, y: np.ndarray, sr: int, aggregate: str = "mean") -> GenrePrediction:
        """Classify every 3 s excerpt of ``y`` and aggregate. Shorter input is zero-padded (see ``notices``)."""
        y, sr, _ = self._prepare(y, sr, aggregate)
        notices = []
        duration = len(y) / sr
        if duration < EXCERPT_S:
            notices.append(f"The clip is {duration:.1f} s long, shorter than the models' 3 s excerpts: "
                           "it was padded with silence, so the prediction is less reliable.")
        X, starts = self.features(y, sr)
        P = self.excerpt_probs(X)
        probs = aggregate_probs(P, aggregate)
        notices += verdict_notices(self.labels, probs)
        return GenrePrediction(self.labels, probs, starts, P, aggregate, duration, self.name, notices)


class BackboneGenreModel(GenreModel):
    """A ``TagHead`` on the frozen musicnn backbones: every 3 s patch's embeddings → genre, plus the tags."""

    def __init__(self, name: str, head, card: dict | None = None):
        super().__init__(name, head, head.labels, "musicnn", card)

    def predict(self, y: np.ndarray, sr: int, aggregate: str = "mean") -> GenrePrediction:
        run = classify(_mono(y, aggregate), sr, self.net, what="its genre")  # core.classify.engine: both tabs
        probs = aggregate_probs(run.probs, aggregate)
        notices = run.notices + verdict_notices(self.labels, probs, self.net)
        return GenrePrediction(self.labels, probs, run.starts, run.probs, aggregate, run.duration, self.name, notices,
                               run.tags)


def hub_excerpts(y: np.ndarray, sr: int, extractor) -> tuple[np.ndarray, np.ndarray]:
    """3 s excerpts, each through the checkpoint's own extractor (padded to its ``max_length``)."""
    y = pad_to(y, int(EXCERPT_S * sr))
    starts = excerpt_starts(len(y), sr)
    clips = [y[int(s * sr):int(s * sr) + int(EXCERPT_S * sr)] for s in starts]
    X = extractor(clips, sampling_rate=sr, return_tensors="np")["input_values"]
    return X.astype(np.float32), starts


def bundled_models() -> list[str]:
    """Names of the bundled models (folders under assets/models/genre with weights), CNN first."""
    if not BUNDLED_DIR.is_dir():
        return []
    names = [p.name for p in BUNDLED_DIR.iterdir()
             if ((p / "model.safetensors").exists() and (p / "config.json").exists()) or is_mapping(p)]
    order = ["prior", "tags", "musicnn", "cnn", "crnn", "rnn", "dense", "ast"]
    return sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))


def hub_model() -> str | None:
    """The Hub checkpoint to offer, or None offline / when not configured."""
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        return None
    hub_id = os.environ.get(HUB_ENV, "").strip()
    return f"hub:{hub_id}" if hub_id else None


def _load_ours(name: str, folder: Path) -> GenreModel:
    config = json.loads((folder / "config.json").read_text())
    net = build(config["arch"], len(config["labels"]), **config.get("model", {}))  # the trained sizes, not defaults
    net.load_state_dict(load_state(folder))
    net.eval().to(registry.device())  # --device cuda reaches genre too
    return GenreModel(name, net, config["labels"], config["input"], read_card(folder))


def _load_head(name: str, folder: Path) -> GenreModel:
    return BackboneGenreModel(name, load_head(folder), read_card(folder))


def _load_transformers_ast(name: str, source: str) -> GenreModel:
    """An ``ASTForAudioClassification`` checkpoint (Hub id or local folder) mapped onto the tab's genres."""
    import warnings

    from transformers import ASTFeatureExtractor, ASTForAudioClassification

    try:
        net = ASTForAudioClassification.from_pretrained(source)
    except Exception as err:
        raise ValueError(f"Could not load the AST checkpoint {source!r} ({type(err).__name__}): "
                         "the Hugging Face Hub may be unreachable from here. Use a bundled model instead.") from None
    net.eval().to(registry.device())
    id2label = {int(k): v for k, v in net.config.id2label.items()}
    lower = {v.lower(): k for k, v in id2label.items()}
    genres = list(AUDIOSET_GENRES)
    hub_map = [[lower[a.lower()] for a in AUDIOSET_GENRES[g] if a.lower() in lower] for g in genres]
    if not any(hub_map):
        raise ValueError(f"The checkpoint {source!r} has none of the AudioSet genre labels, "
                         "so it cannot be mapped onto genres.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the extractor must pad to the model's own input length, or the forward pass fails on shapes
        extractor = ASTFeatureExtractor(max_length=net.config.max_length, num_mel_bins=net.config.num_mel_bins)
    card = {"name": name, "architecture": "ASTForAudioClassification (pretrained)", "source": source,
            "notes": "AudioSet labels pooled per genre: " + json.dumps(AUDIOSET_GENRES)}
    return GenreModel(name, net, genres, "hub", card, hub_map=hub_map, extractor=extractor)


def _loader(name: str):
    if name.startswith("hub:"):
        return lambda: _load_transformers_ast(name, name[4:])
    bundled = BUNDLED_DIR / name
    path = bundled if (bundled / "config.json").exists() else Path(name)
    if path.is_dir() and (path / "config.json").exists():
        config = json.loads((path / "config.json").read_text())
        if "arch" in config:
            return lambda: _load_ours(name, path)
        if "feature" in config and "backbones" in config:  # a TagHead on the musicnn backbones
            return lambda: _load_head(name, path)
        if config.get("model_type") == "audio-spectrogram-transformer":
            return lambda: _load_transformers_ast(name, str(path))
    known = ", ".join(bundled_models()) or "none bundled"
    raise ValueError(f"Unknown genre model {name!r}: use a bundled name ({known}), a trained model's folder, "
                     "or hub:<id>.")


def load(name: str = DEFAULT_MODEL) -> GenreModel:
    """A model by bundled name, folder, or ``hub:<id>``; loaded once per process and shared."""
    loader = _loader(name)
    return registry.get(f"genre:{name}", loader)


#: Excerpts read for a first look at a long song (``predict_file(first_look=...)``): about 0.5 s on one core.
FIRST_LOOK_EXCERPTS = 6


def report(name: str) -> "ModelReport":
    """The genre tab's model report for a bundled model (or a trained model's folder): figures on real recordings
    first, then on the generated corpus, per class, and the data of the curves and the test confusion matrix."""
    folder = BUNDLED_DIR / name if (BUNDLED_DIR / name).is_dir() else Path(name)
    if head_report.is_head(folder):
        return ModelReport(head_report.head_report(folder))
    if not (folder / "card.json").exists():
        return ModelReport(f"`{name}` has no bundled report (a Hub checkpoint or a local folder).")
    card = read_card(folder)
    labels = json.loads((folder / "config.json").read_text())["labels"]
    lines = [f"**{card.get('name', name)}** — {card.get('architecture', '')}", "", card.get("notes", "")]
    metrics = card.get("metrics", {})
    if head_report.real_dev_line(metrics):  # real recordings first
        lines += ["", head_report.real_dev_line(metrics)]
    sets = {k: v for k, v in metrics.items() if isinstance(v, dict) and "excerpt_accuracy" in v}
    if sets:
        lines += ["", "**On generated music** (the corpus rendered here from MIDI with SoundFonts, "
                      "not real recordings):",
                  "", "| Test set | Excerpt acc. | Track acc. (mean) | Track acc. (max) | Tracks |",
                  "|---|---|---|---|---|"]
        lines += [f"| {k} | {v['excerpt_accuracy']:.1%} | {v['track_accuracy_mean']:.1%} | "
                  f"{v['track_accuracy_max']:.1%} | {v['tracks']} |" for k, v in sets.items()]
    if card.get("command"):
        lines += ["", f"Trained with `{card['command']}`"]
    history = confusion = None
    if (folder / "report.json").exists():
        r = json.loads((folder / "report.json").read_text())
        history, confusion = r["history"], r["metrics"]["test"]["confusion"]
        lines += ["", "Per genre on the generated test tracks:", "", "| Genre | Precision | Recall | F1 |",
                  "|---|---|---|---|"]
        lines += [f"| {g} | {v['precision']:.2f} | {v['recall']:.2f} | {v['f1']:.2f} |"
                  for g, v in r["metrics"]["test"]["per_class"].items()]
    return ModelReport("\n".join(lines), labels=labels, confusion=confusion, history=history)


def predict_file(source, model: str = DEFAULT_MODEL, aggregate: str = "mean", max_seconds: float = 600.0,
                 with_tags: bool = False, first_look: int | None = None,
                 with_spectrogram: bool = False) -> GenrePrediction:
    """Load a file or (sr, samples) tuple at the model's rate (capped at ``max_seconds``) and predict.

    ``with_tags``: attach the MTT/MSD tags even when the model does not read the backbones (paper networks).
    ``first_look``: read only that many 3 s excerpts spread over the input (a quick answer to show while
    the whole input is read); ignored for inputs under twice that length. The result says so in its notices.
    ``with_spectrogram``: attach the input's log-mel spectrogram (from the audio already decoded, not a second
    read; not on a first look).
    """
    m = load(model)
    total = audio_duration(source)
    spread = read_excerpts(source, m.sr, first_look, EXCERPT_S, max_seconds) if first_look else None
    if spread is not None:
        (y, starts, full_duration), sr = spread, m.sr
    else:
        y, sr = load_audio(source, sr=m.sr, max_seconds=max_seconds, trim=True)
    result = m.predict(y, sr, aggregate)
    if with_tags and result.tags is None:
        y16, sr16 = load_audio((sr, y), sr=16_000, max_seconds=None)
        result.tags = tagging.tag(y16, sr16)
    if with_spectrogram and spread is None:  # a first look's audio is excerpts joined, not the input
        result.spectrogram = (features.log_mel(y, sr), sr)
    if spread is not None:
        result.first_look = True
        for part in (result, result.tags):  # times on the song, not on the excerpts joined
            if part is not None and len(part.starts) == len(starts):
                part.starts, part.duration = starts, full_duration
        result.notices.insert(0, f"First look: {len(starts)} excerpts of {EXCERPT_S:.0f} s spread over the "
                                 f"{full_duration:.0f} s; every excerpt is being read.")
    if total > max_seconds + 0.5:
        result.notices.insert(0, f"The recording is {total:.0f} s long; only the first {max_seconds:.0f} s were "
                                 "classified.")
    return result


CAPABILITY = register(Capability(
    "genre", run=predict_file, result=GenrePrediction, load=load, models_dir=BUNDLED_DIR, default_model=DEFAULT_MODEL,
    bundled=bundled_models, labels=GENRE.labels,
    examples=tuple(sorted((MODELS_DIR.parent / "examples" / "genre").glob("*.ogg"))),
    evaluate="python -m core.classify.prior --task genre --generated .cache/genre/corpus --real .cache/real "
             "--out assets/models/genre/prior; python -m core.classify.evaluate --task genre ...; "
             "python -m core.genre.evaluate (paper networks)"))
