"""Hum, whistle or play a primer: audio → notes with Spotify's basic-pitch network (Bittner et al., ICASSP 2022).

    t = transcribe("hum.wav")          # Transcription: notes (start, end, MIDI pitch, amplitude), the melody
    t.to_midi(tempo=120).write("primer.mid")

The network is basic-pitch's ONNX export, read out of its PyPI wheel (``scripts/extract_basic_pitch.py``,
Apache-2.0) and run on onnxruntime: 2 s windows (43,844 samples at 22,050 Hz) overlapping by 30 frames give a
note and an onset posteriorgram, 88 keys × 86 frames a second. The notes are decoded here: an onset peak above
``ONSET_THRESHOLD`` starts a note, which lasts while its key's frame activation stays above
``FRAME_THRESHOLD`` (a short dip is bridged), and notes shorter than ``MIN_NOTE_S`` are dropped.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core import registry
from core.audio import AudioError, cut_notice, load_audio
from core.training import MODELS_DIR

MODEL_FILE = MODELS_DIR / "transcription" / "basic-pitch" / "nmp.onnx"
SR = 22_050
HOP = 256
WINDOW = 43_844  # samples per network input (2 s less one hop)
OVERLAP_FRAMES = 30  # output frames shared by neighbouring windows; half is dropped from each side
FPS = SR / HOP  # 86.13 output frames a second
LOWEST_MIDI = 21  # the posteriorgram's first key, A0
ONSET_THRESHOLD = 0.5
FRAME_THRESHOLD = 0.3
MIN_NOTE_S = 0.128
BRIDGE_FRAMES = 3  # a dip in a held note's activation shorter than this does not end it
REPEAT_ONSET = 0.7  # an onset on a key already sounding starts a new note only when at least this strong
MAX_SECONDS = 30.0  # a primer is a few seconds; this bounds the work
CHORD_S = 0.05  # onsets this close are one chord (the melody keeps one of its notes)
QUIET_RATIO = 0.5  # a note below this share of the sounding one's activation does not cut it


@dataclass
class Transcription:
    """Notes heard in a recording, and what came out of the network (for the piano roll and the tests)."""

    notes: list  # (start s, end s, MIDI pitch, amplitude 0–1), by start time
    duration: float
    notices: list = field(default_factory=list)

    def melody(self) -> list:
        """The top line, one note at a time, as a monophonic synth plays: a new note cuts the one still sounding;
        notes starting within ``CHORD_S`` of each other are a chord, of which the louder (then higher) is kept; a
        note much quieter than the one it would cut (an overtone, a release) is dropped."""
        line = []
        for start, end, pitch, amp in sorted(self.notes, key=lambda n: (n[0], -n[3], -n[2])):
            if line and start < line[-1][1]:
                prev = line[-1]
                if start - prev[0] < CHORD_S or amp < QUIET_RATIO * prev[3]:
                    if start - prev[0] < CHORD_S and (amp, pitch) > (prev[3], prev[2]):
                        line[-1] = (start, end, pitch, amp)
                    continue
                line[-1] = (prev[0], start, prev[2], prev[3])
            line.append((start, end, pitch, amp))
        return line

    def to_midi(self, tempo: float = 120.0, program: int = 0, melody_only: bool = True):
        """A PrettyMIDI of the notes (or the melody only, which is what the models continue), with its tempo, a
        named track, the key its notes are in (by their durations) and a 4/4 time signature (the meter of a hummed
        line is not known; a file without one is read as 4/4 anyway)."""
        import pretty_midi

        from core.generation.api import melody_key, stamp

        pm = pretty_midi.PrettyMIDI(initial_tempo=float(tempo))
        inst = pretty_midi.Instrument(program=int(program), name="primer (transcribed)")
        notes = self.melody() if melody_only else self.notes
        for start, end, pitch, amp in notes:
            inst.notes.append(pretty_midi.Note(int(20 + 107 * amp), int(pitch), float(start), float(end)))
        pm.instruments.append(inst)
        return stamp(pm, None, melody_key([(p, e - s) for s, e, p, _ in notes]))

    def to_dict(self) -> dict:
        return {"duration_s": round(self.duration, 3), "notices": list(self.notices),
                "notes": [{"start_s": round(s, 4), "end_s": round(e, 4), "pitch": int(p),
                           "amplitude": round(float(a), 3)}
                          for s, e, p, a in self.notes],
                "melody": [{"start_s": round(s, 4), "end_s": round(e, 4), "pitch": int(p)}
                           for s, e, p, _ in self.melody()]}


def _session():
    def load():
        import onnxruntime as ort

        if not MODEL_FILE.exists():
            raise ValueError(f"The transcription model is missing ({MODEL_FILE}); "
                             "run python scripts/extract_basic_pitch.py.")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # two requests share two cores, as the app's other models do
        options.inter_op_num_threads = 1
        return ort.InferenceSession(str(MODEL_FILE), options, providers=["CPUExecutionProvider"])

    return registry.get("transcription:basic-pitch", load)


def posteriorgrams(y: np.ndarray, sr: int = SR) -> tuple[np.ndarray, np.ndarray]:
    """(note, onset) activations, each (frames, 88), for mono audio at 22,050 Hz."""
    if sr != SR:
        raise ValueError(f"basic-pitch reads {SR} Hz audio, got {sr} Hz.")
    overlap = OVERLAP_FRAMES * HOP
    hop = WINDOW - overlap
    padded = np.concatenate([np.zeros(overlap // 2, np.float32), np.asarray(y, np.float32)])
    starts = range(0, max(len(padded) - overlap // 2, 1), hop)
    windows = np.stack([np.pad(padded[s: s + WINDOW], (0, max(0, WINDOW - len(padded[s: s + WINDOW]))))
                        for s in starts])
    session = _session()
    names = ["StatefulPartitionedCall:1", "StatefulPartitionedCall:2"]  # note, onset (":0" is the pitch contour)
    note, onset = session.run(names, {session.get_inputs()[0].name: windows[:, :, None]})
    keep = slice(OVERLAP_FRAMES // 2, -(OVERLAP_FRAMES // 2))
    n_frames = int(np.floor(len(y) * FPS / SR))
    return (note[:, keep].reshape(-1, 88)[:n_frames], onset[:, keep].reshape(-1, 88)[:n_frames])


def decode(note: np.ndarray, onset: np.ndarray, onset_threshold: float = ONSET_THRESHOLD,
           frame_threshold: float = FRAME_THRESHOLD, min_note_s: float = MIN_NOTE_S) -> list:
    """Notes (start s, end s, MIDI pitch, amplitude) from the posteriorgrams: onset peaks, held while active."""
    n, keys = note.shape
    peaks = (onset >= onset_threshold)
    peaks[1:] &= onset[1:] >= onset[:-1]  # a local maximum in time
    peaks[:-1] &= onset[:-1] > onset[1:]
    min_frames = max(1, int(round(min_note_s * FPS)))
    notes = []
    for k in range(keys):
        t_onsets = [int(t) for t in np.flatnonzero(peaks[:, k])]
        i = 0
        while i < len(t_onsets):
            t0, t, below = t_onsets[i], t_onsets[i] + 1, 0
            j = i + 1
            while t < n and below < BRIDGE_FRAMES:
                if j < len(t_onsets) and t == t_onsets[j]:
                    # Another onset on a key still sounding: a new note only if it is a strong attack (a repeated
                    # note); a weak one is vibrato or a bow change within the same note.
                    if onset[t, k] >= REPEAT_ONSET:
                        break
                    j += 1
                below = below + 1 if note[t, k] < frame_threshold else 0
                t += 1
            end = t - below
            if end - t0 >= min_frames:
                notes.append((t0 / FPS, end / FPS, LOWEST_MIDI + k, float(note[t0:end, k].mean())))
            i = max(j, i + 1)
    return sorted(notes)


def transcribe(source, max_seconds: float = MAX_SECONDS) -> Transcription:
    """A recording (path or (sr, samples)) → :class:`Transcription`; AudioError for silence, too short or no notes."""
    y, sr = load_audio(source, sr=SR, max_seconds=max_seconds, trim=True, allow_silence=False)
    if len(y) < 0.5 * SR:
        raise AudioError(f"The recording is {len(y) / SR:.2f} s long: hum or play at least half a second.")
    notices = cut_notice(source, max_seconds, "The recording")  # a primer is short: say what was left out
    peak = float(np.max(np.abs(y)))
    if peak < 0.01:
        notices.append(f"The recording is very quiet (peak {20 * np.log10(peak):.0f} dBFS); "
                       "it was transcribed as it is.")
    note, onset = posteriorgrams(y, sr)
    notes = decode(note, onset)
    if not notes:
        raise AudioError("No notes were heard in the recording: hum, whistle or play a clear melody (a few notes).")
    t = Transcription(notes, len(y) / SR, notices)
    if len(t.melody()) < len(notes):
        notices.append(f"{len(notes)} notes were heard, some at once; the top line ({len(t.melody())} notes) "
                       "is the primer.")
    return t


# ---------------------------------------------------------------- measured on pieces where the truth is known
#: Instruments the primer is measured on (General MIDI programs through FluidR3_GM): fast and slow attacks.
EVAL_PROGRAMS = {"piano": 0, "violin": 40, "choir (a sung 'aah')": 52, "tenor sax": 66, "flute": 73, "whistle": 78}


def evaluate(n_tunes: int = 5, quarters: float = 24.0, tempo: float = 100.0, soundfont: str = "FluidR3_GM") -> dict:
    """Note precision/recall/F of the melody (mir_eval, onsets within 50 ms and within 150 ms, offsets ignored)
    on the held-out folk tunes rendered through the SoundFont, per instrument."""
    import time

    import mir_eval
    import pretty_midi

    from core.generation.api import _trim, events_to_midi, reference_tunes
    from core.render import render_midi

    tunes = reference_tunes()[:n_tunes]
    rows, seconds_of_audio, spent = {}, 0.0, 0.0
    for name, program in EVAL_PROGRAMS.items():
        scores = {50: [], 150: []}
        for tune in tunes:
            pm = events_to_midi(_trim([tuple(e) for e in tune["events"]], quarters), tempo=tempo, program=program)
            ref = [n for n in pm.instruments[0].notes]
            audio = render_midi(pm, sr=SR, soundfont=soundfont).audio
            t0 = time.perf_counter()
            melody = transcribe((SR, audio)).melody()
            spent += time.perf_counter() - t0
            seconds_of_audio += len(audio) / SR
            ref_iv = np.array([[n.start, n.end] for n in ref])
            ref_hz = pretty_midi.note_number_to_hz(np.array([n.pitch for n in ref]))
            est_iv = np.array([[s, e] for s, e, _, _ in melody]).reshape(-1, 2)
            est_hz = pretty_midi.note_number_to_hz(np.array([p for _, _, p, _ in melody]))
            for tol in scores:
                p, r, f, _ = mir_eval.transcription.precision_recall_f1_overlap(
                    ref_iv, ref_hz, est_iv, est_hz, onset_tolerance=tol / 1000, offset_ratio=None)
                scores[tol].append((p, r, f))
        rows[name] = {f"{tol}ms": {k: round(float(np.mean([s[i] for s in v])), 3)
                                   for i, k in enumerate(("precision", "recall", "f"))}
                      for tol, v in scores.items()}
    return {"tunes": len(tunes), "quarters": quarters, "tempo": tempo, "soundfont": soundfont, "instruments": rows,
            "mean_f_50ms": round(float(np.mean([r["50ms"]["f"] for r in rows.values()])), 3),
            "mean_f_150ms": round(float(np.mean([r["150ms"]["f"] for r in rows.values()])), 3),
            "seconds_per_10s_of_audio": round(10 * spent / seconds_of_audio, 3),
            "command": "python -m core.generation.transcribe --evaluate --write"}


def main(argv=None) -> None:
    import argparse
    import json

    p = argparse.ArgumentParser(description="Transcribe a recording (the primer), or measure the transcriber.")
    p.add_argument("audio", nargs="?", help="a recording to transcribe (prints its notes as JSON)")
    p.add_argument("--evaluate", action="store_true", help="note F-measure on held-out tunes rendered here")
    p.add_argument("--write", action="store_true", help="with --evaluate: write docs/figures/transcription_eval.json")
    args = p.parse_args(argv)
    if args.evaluate:
        result = evaluate()
        print(json.dumps(result, indent=2))
        if args.write:
            out = MODELS_DIR.parent.parent / "docs" / "figures" / "transcription_eval.json"
            out.write_text(json.dumps(result, indent=2) + "\n")
    elif args.audio:
        print(json.dumps(transcribe(args.audio).to_dict(), indent=2))
    else:
        p.error("give a recording, or --evaluate")


if __name__ == "__main__":
    main()
