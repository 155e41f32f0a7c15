"""The Audio analysis capability: one signal in, every descriptor the studio plots out.

Tempo, beats and downbeats come from BeatNet (``core.beats``), the chords from crema (``core.chords``), both
networks trained on real recordings by their authors; the key from the chroma and those chords together
(``core.key.estimate_with_chords``). On a file, two lanes run side by side (``core.threads.side_by_side``): the
levels then the plotted features, the chords then the beats.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from core import features
from core import key as key_
from core import levels as levels_
from core import tempo as tempo_
from core.audio import AudioStats, audio_duration, audio_stats, check_min_seconds, cut_notice, load_audio, resample
from core.beats import beatnet
from core.capability import Capability, register
from core.chords import crema
from core.threads import side_by_side
from core.training import ASSETS, check_cancel

#: Analysis runs at the loop-search paper's rate; it keeps the mel plot's top at 11 kHz.
ANALYSIS_SR = 22_050
#: Shortest input analysed: two 1024-sample STFT frames. Under that there is no spectrum, pitch or beat to describe,
#: and a 1-sample file would come back with a key read from nothing.
MIN_SECONDS = 0.1


@dataclass
class Analysis:
    y: np.ndarray
    sr: int
    stats: AudioStats
    log_mel: np.ndarray  # (128, frames), dB
    chroma: np.ndarray  # (12, frames)
    zcr: np.ndarray  # (frames,)
    hop_length: int = features.HOP_LENGTH
    source_duration_s: float | None = None  # longer than stats.duration_s when the input was trimmed
    #: The file's own levels (its rate and channels, not the analysis copy's); None for a bare array.
    levels: levels_.Levels | None = None
    tempo: tempo_.Tempo | None = None  # None when no steady beat is found
    key: key_.Key | None = None  # None without pitch content
    notices: list[str] = field(default_factory=list)  # for the user: e.g. only the start of a long input was read
    downbeats: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (bars,) s: the first beat of each bar
    beats_per_bar: int | None = None  # 3 or 4, from the downbeats; None without them
    tempo_source: str = ""  # "BeatNet" or "periodicity" (core.tempo, for audio too short for BeatNet)
    chords: crema.Chords | None = None  # None when not asked for (tempo_and_key=False)

    def to_dict(self) -> dict:
        """JSON-ready: the file's levels, the tempo with its beat times, and the key (no per-frame arrays)."""

        def clean(v):  # -inf (silence) is not JSON
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, (list, tuple)):
                return [clean(x) for x in v]
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            return v

        lv = dataclasses.asdict(self.levels) if self.levels is not None else dataclasses.asdict(self.stats)
        t = self.tempo
        return clean({
            "levels": lv,
            "tempo": None if t is None else {"bpm": t.bpm, "confidence": round(t.confidence, 3),
                                             "source": self.tempo_source,
                                             "beats_s": [round(float(b), 4) for b in t.beats],
                                             "downbeats_s": [round(float(b), 4) for b in self.downbeats],
                                             "beats_per_bar": self.beats_per_bar,
                                             "candidates": [{"bpm": b, "score": s} for b, s in t.candidates]},
            "key": None if self.key is None else {**dataclasses.asdict(self.key), "name": self.key.name},
            "chords": None if self.chords is None else [
                {"start_s": round(c.start, 3), "end_s": round(c.end, 3), "label": c.label,
                 "confidence": round(c.confidence, 3)} for c in self.chords.segments],
            "analysis_sr": self.sr, "trimmed": self.trimmed, "notices": list(self.notices),
        })

    def summary_rows(self) -> list[tuple[str, str]]:
        """The levels table plus tempo and key (what the analysis tab shows)."""
        rows = list((self.levels or self.stats).as_rows())
        t = self.tempo
        if t is not None and self.tempo_source == "BeatNet":
            bars = f", {self.beats_per_bar} beats to the bar ({len(self.downbeats)} bars)" if self.beats_per_bar else ""
            rows.append(("Tempo", f"{t.bpm:.1f} BPM{bars}; {len(t.beats)} beats from {t.first_beat:.2f} s "
                                  f"(BeatNet, beat strength {t.confidence:.0%})"))
        elif t is not None:
            rows.append(("Tempo", f"{t.bpm:.1f} BPM ({len(t.beats)} beats from {t.first_beat:.2f} s; octave choice "
                                  f"{t.confidence:.0%})"))
        else:
            rows.append(("Tempo", "no steady beat found"))
        if self.key is not None:
            k = self.key
            sure = f"{k.confidence:.0%} sure, " if k.confidence is not None else ""
            rows.append(("Key", f"{k.name} ({sure}next {k.runner_up}; from {k.evidence})"))
        else:
            rows.append(("Key", "no pitch content"))
        if self.chords is not None:
            rows.append(("Chords", chord_summary(self.chords)))
        return rows

    def chord_spans(self) -> list[tuple[float, float, str]] | None:
        """(start s, end s, label) of every chord segment, as the waveform names them; None without chords."""
        return [(c.start, c.end, c.label) for c in self.chords.segments] if self.chords is not None else None

    @property
    def trimmed(self) -> bool:
        return self.source_duration_s is not None and self.source_duration_s > self.stats.duration_s + 0.05


#: chords the summary row names (the CSV and the MIDI have them all)
SUMMARY_CHORDS = 8


def chord_summary(chords: crema.Chords, n: int = SUMMARY_CHORDS) -> str:
    """The chord changes, the first ``n`` spelled out: "C:maj → F:maj → G:maj … (34 changes; crema)"."""
    labels = [c.label for c in chords.segments if c.label != "N"]
    if not labels:
        return "no chords heard"
    more = f" … ({len(labels)} chords)" if len(labels) > n else ""
    return " → ".join(labels[:n]) + more + " (crema)"


def beats_and_chords(y: np.ndarray, sr: int) -> tuple[beatnet.Beats, crema.Chords]:
    """BeatNet's beats and crema's chords of mono audio, side by side (each network on its own core)."""
    return tuple(side_by_side(lambda: beatnet.track(y, sr), lambda: crema.recognise(y, sr)))


def beat_positions(times: np.ndarray, tempo: tempo_.Tempo | None) -> np.ndarray:
    """Each time in beats (0 at the first beat, fractional between beats); NaN without a tempo."""
    if tempo is None or len(tempo.beats) < 2:
        return np.full(len(times), np.nan)
    beats = tempo.beats
    period = 60.0 / tempo.bpm
    inside = np.interp(times, beats, np.arange(len(beats)))
    before, after = times < beats[0], times > beats[-1]
    inside[before] = (times[before] - beats[0]) / period
    inside[after] = len(beats) - 1 + (times[after] - beats[-1]) / period
    return inside


def to_csv(result: Analysis, path) -> str:
    """Per-frame features as CSV: time, its position in beats, zero-crossing rate, the 12 chroma bins and the
    log-mel frame energy (the tempo and key are in :meth:`Analysis.summary_rows`)."""
    from core.plots import PITCH_CLASSES

    times = features.frame_times(result.log_mel.shape[1], result.sr, result.hop_length)
    header = ["time_s", "beat", "zcr", *[f"chroma_{p}" for p in PITCH_CLASSES], "mean_log_mel_db"]
    table = np.column_stack([times, beat_positions(times, result.tempo), result.zcr, result.chroma.T,
                             result.log_mel.mean(axis=0)])
    np.savetxt(str(path), table, delimiter=",", header=",".join(header), comments="", fmt="%.5g")
    return str(path)


def analyse(y: np.ndarray, sr: int, hop_length: int = features.HOP_LENGTH, tempo_and_key: bool = True) -> Analysis:
    """Compute the analysis tab's descriptors of a mono float signal (``tempo_and_key=False``: the plotted
    features only, for callers that draw them and nothing more, like the generation tab)."""
    result = _features(y, sr, hop_length)
    if not tempo_and_key:
        return result
    check_cancel()
    return _with_beats_and_chords(result, *beats_and_chords(y, sr))


def _features(y: np.ndarray, sr: int, hop_length: int = features.HOP_LENGTH, loudness: bool = True) -> Analysis:
    """The plotted features of mono ``y`` (``loudness=False``: no LUFS in ``stats``, for a caller that measures
    the file's own)."""
    # each stage takes up to ~1 s on 10 minutes: a cancelled request stops between them
    S = features.power_spectrogram(y, hop_length=hop_length)  # one STFT for the chroma and the log-mel
    chroma = features.chroma(None, sr, hop_length=hop_length, S=S)
    check_cancel()
    log_mel = features.log_mel(None, sr, hop_length=hop_length, S=S)
    del S
    check_cancel()
    return Analysis(y=y, sr=sr, stats=audio_stats(y, sr, loudness=loudness), log_mel=log_mel, chroma=chroma,
                    zcr=features.zcr(y, hop_length=hop_length), hop_length=hop_length)


def _with_beats_and_chords(result: Analysis, beats: beatnet.Beats, chords: crema.Chords) -> Analysis:
    """``result`` with the tempo, bars and chords, and the key read from its chroma and those chords."""
    result.chords = chords
    if beats.bpm is not None:
        result.tempo = tempo_.Tempo(beats.bpm, beats.beats, beats.extra.get("beat_strength", 0.0))
        result.downbeats, result.beats_per_bar, result.tempo_source = beats.downbeats, beats.beats_per_bar, "BeatNet"
    else:  # too short for BeatNet (under 2 s): the periodicity estimate may still find a steady pulse
        result.tempo = tempo_.estimate(result.y, result.sr)
        result.tempo_source = "periodicity" if result.tempo is not None else ""
    result.key = key_.estimate_with_chords(result.chroma, chords)
    return result


def analyse_file(source, sr: int = ANALYSIS_SR, max_seconds: float = 600.0) -> Analysis:
    """Load (path or Gradio tuple) and analyse; raises ``AudioError`` on bad input."""
    # One decode: the levels are read at the file's own rate and channels, the features on a mono copy.
    y_file, file_sr = load_audio(source, sr=None, mono=False, max_seconds=max_seconds, trim=True)
    check_min_seconds(y_file.shape[-1], file_sr, MIN_SECONDS, "analyse it")
    check_cancel()
    y = resample(y_file.mean(axis=0), file_sr, sr)
    fmt = None if isinstance(source, tuple) else levels_.file_format(source)
    stereo = [y_file]
    del y_file

    # Two lanes of about equal length on two cores (3 minutes: 0.7 s each, 1.2 s one after the other): the
    # measurements, then the networks. The file's own copy goes as soon as its levels are measured.
    def levels_then_features():
        levels = levels_.measure_array(stereo.pop(), file_sr, fmt)
        check_cancel()
        return levels, _features(y, sr, loudness=False)  # the file's loudness is in its levels

    def chords_then_beats():
        chords = crema.recognise(y, sr)
        check_cancel()
        return chords, beatnet.track(y, sr)

    (levels, result), (chords, beats) = side_by_side(levels_then_features, chords_then_beats)
    check_cancel()
    result = _with_beats_and_chords(result, beats, chords)
    result.source_duration_s = audio_duration(source)
    result.notices = cut_notice(source, max_seconds)  # an API client sees the cut, not only the tab's warning
    result.levels = levels
    result.stats = dataclasses.replace(result.stats, loudness_lufs=levels.integrated_lufs)  # the file's, once
    return result


def log_mel_file(source, sr: int = ANALYSIS_SR, max_seconds: float = 600.0) -> tuple[np.ndarray, int]:
    """Load (path or Gradio tuple) and compute the log-mel spectrogram tabs show beside their results."""
    y, sr = load_audio(source, sr=sr, max_seconds=max_seconds, trim=True)
    return features.log_mel(y, sr), sr


CAPABILITY = register(Capability(
    "analysis", run=analyse_file, result=Analysis,
    examples=(ASSETS / "examples" / "house_groove_124bpm.ogg", ASSETS / "examples" / "bach_chorale_bwv66_6.flac"),
    evaluate="python bench/bench_core.py --write; python -m core.tempo --evaluate-real .cache/modules --write "
             "(tempo); tests/test_levels.py (levels)"))
