"""Latency of every endpoint, click to result, through gradio_client on a 3-minute file; prints JSON.

    python bench/bench_latency.py [--repeats 5] [--write]

One client, an otherwise idle app (``python app.py`` in a subprocess), each endpoint called ``--repeats``
times after one warm-up call: median and p95 seconds. The target on 2 CPU cores is under 1 s for every
interactive step (each search answer, a genre or instrument verdict, a generation); the rest are long
jobs. Genre and instruments answer twice: a first look (6 excerpts spread over the song), then every
excerpt; both times are printed. Then, in this process on one torch thread as the app runs it, the genre and
instrument handlers are timed whole and their model call alone, so the model's share can be told from drawing and
encoding.
"""
from __future__ import annotations

import argparse
import functools
import json
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import numpy as np
import soundfile as sf
from gradio_client import Client, handle_file

from bench.live_app import App
from bench.timing import machine
from core.genre import api as genre_api
from core.instruments import api as inst_api

EX = ROOT / "assets" / "examples"
OUT = ROOT / "docs" / "figures" / "latency.json"
#: Steps a user waits on interactively (target < 1 s); the others are long jobs with progress.
INTERACTIVE = ("/genre: first look", "/classify_instrument: first look", "/generate", "/search_yes", "/search_no",
               "/search_undo", "/search_start", "/search_play_query", "/api_search_answer", "ABX trial (in-process)")
TARGET_S = 1.0
#: the targets on 2 CPU cores: a whole song through the JSON API, and the first look in the tab (issue 28); the
#: analysis's 1.5 s now holds its beats, bars, chords and key too (issue 31)
TARGETS = {"/genre: first look": 0.5, "/classify_instrument: first look": 0.5, "/api_genre": 2.5,
           "/api_instruments": 2.5, "/api_analysis": 1.5}


@functools.cache
def _groove_3min() -> np.ndarray:
    import librosa

    y, sr = sf.read(EX / "house_groove_124bpm.ogg", dtype="float32")
    y = librosa.resample(y, orig_sr=sr, target_sr=44_100)
    return np.tile(y, int(np.ceil(180 * 44_100 / len(y))))[: 180 * 44_100]


def three_minutes(tmp: Path, variant: int = 0) -> Path:
    """The house groove (16.4 s, rendered here) repeated to 3 minutes, at 44.1 kHz stereo like a real song.
    Each ``variant`` is 0.1 dB quieter than the one before: another upload, which no kept result answers."""
    y = _groove_3min() * 10 ** (-0.1 * variant / 20)
    path = tmp / f"song_3min_{variant}.flac"
    sf.write(path, np.stack([y, y], axis=1), 44_100, subtype="PCM_16")
    return path


class Uploads:
    """A new 3-minute upload per call (``next()``), so that no call is answered by what an earlier one kept."""

    def __init__(self, tmp: Path, n: int):
        self.paths = [str(three_minutes(tmp, k)) for k in range(n)]
        self.k = 0

    def next(self):
        if self.k >= len(self.paths):
            raise RuntimeError("more calls than uploads made: raise Uploads' count")
        path = self.paths[self.k]
        self.k += 1
        return handle_file(path)


def forget() -> None:
    from core.backbones.embed import forget as forget_embeddings

    forget_embeddings()


def timed(fn, repeats: int, fresh=None) -> list[float]:
    """Seconds of ``repeats`` calls after a warm-up; ``fresh()`` before each (not timed)."""
    fn()  # warm-up: models load, kernels compile
    out = []
    for _ in range(repeats):
        if fresh is not None:
            fresh()
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def first_and_last(c: Client, uploads: Uploads, *args, api_name: str, repeats: int) -> tuple[list[float], list[float]]:
    """Seconds to a generator endpoint's first output (what the user sees first) and to its last, each call on a
    new upload."""
    first, last = [], []
    for k in range(repeats + 1):  # the first call warms up
        song = uploads.next()
        t0 = time.perf_counter()
        job = c.submit(song, *args, api_name=api_name)
        while not job.outputs() and not job.done():
            time.sleep(0.005)
        t1 = time.perf_counter()
        job.result()
        if k:
            first.append(t1 - t0)
            last.append(time.perf_counter() - t0)
    return first, last


def abx_trial(repeats: int) -> list[float]:
    """A new ABX trial as the effects tab makes it (a copy of A, B or the model under a fresh name)."""
    from core.audio import write_wav
    from core.effects import abx
    from tabs import effects

    y = np.zeros(9 * 44_100, np.float32)
    with tempfile.TemporaryDirectory() as d:
        paths = [write_wav(Path(d) / f"{n}.wav", y, 44_100) for n in ("clean", "effect", "model")]
        session = {"effect": "reverb", "paths": paths}
        return timed(lambda: effects.abx_new(session, abx.ABXState()), repeats)


def profile(song: str, repeats: int) -> dict:
    """Seconds of the whole handler vs its core call, in-process (no HTTP), on one torch thread."""
    import torch

    torch.set_num_threads(1)
    from tabs import genre, instruments

    quiet = lambda *a, **k: None  # noqa: E731  (no progress bar outside Gradio)
    cases = {
        "genre": (lambda: list(genre.run(song, genre_api.DEFAULT_MODEL, "mean", progress=quiet)),
                  lambda: genre_api.predict_file(song, with_tags=True)),
        "instruments": (lambda: list(instruments.classify(song, inst_api.DEFAULT_MODEL, progress=quiet)),
                        lambda: inst_api.predict_file(song)),
    }
    out = {}
    for name, (handler, model) in cases.items():
        # a new upload each time: the embeddings kept per upload would otherwise answer the second call
        whole = statistics.median(timed(handler, repeats, fresh=forget))
        core = statistics.median(timed(model, repeats, fresh=forget))
        out[name] = {"handler_s": round(whole, 2), "model_s": round(core, 2), "model_share": round(core / whole, 2)}
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--write", action="store_true", help=f"also write {OUT.relative_to(ROOT)}")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="latency_") as d:
        tmp = Path(d)
        # every call that reads a song gets one no call read before: 7 endpoints, a warm-up and the repeats each
        uploads = Uploads(tmp, 7 * (args.repeats + 1) + 2)
        song = uploads.next()  # the search's steps: one track, loaded once
        app = App(tmp)
        try:
            c = Client(app.url, verbose=False)
            dry = handle_file(str(EX / "effects" / "effects_capture_dry.flac"))
            wet = handle_file(str(EX / "effects" / "effects_capture_wet.flac"))
            guitar = handle_file(str(EX / "effects" / "effects_guitar_di.flac"))
            calls = {
                "/api_genre": lambda: c.predict(uploads.next(), api_name="/api_genre"),
                "/api_instruments": lambda: c.predict(uploads.next(), api_name="/api_instruments"),
                "/api_analysis": lambda: c.predict(uploads.next(), api_name="/api_analysis"),
                "/analyse": lambda: c.predict(uploads.next(), api_name="/analyse"),
                "/tag_instruments": lambda: c.predict([uploads.next()], api_name="/tag_instruments"),
                "/generate": lambda: c.predict("lstm", 30, 1.0, 1, 120, "Flute", "FluidR3_GM", None,
                                               api_name="/generate"),
                "/effects_apply": lambda: c.predict(guitar, "distortion", 20.0, api_name="/effects_apply"),
                "/effects_capture": lambda: c.predict(dry, wet, "fir", 100, api_name="/effects_capture"),
                "/search_load": lambda: c.predict(song, api_name="/search_load"),
            }
            result = {}
            for name, args_ in (("/genre", (genre_api.DEFAULT_MODEL, "mean")),
                                ("/classify_instrument", (inst_api.DEFAULT_MODEL,))):
                first, last = first_and_last(c, uploads, *args_, api_name=name, repeats=args.repeats)
                result[f"{name}: first look"], result[f"{name}: every excerpt"] = first, last
                print(name, [round(x, 2) for x in first], [round(x, 2) for x in last], flush=True)
            for name, fn in calls.items():
                result[name] = timed(fn, args.repeats)
                print(name, [round(x, 2) for x in result[name]], flush=True)
            # the search's interactive steps, on the 3-minute track loaded last
            out = c.predict(20.0, 1.0, "sample", "mel", 50, None, 0.0, api_name="/search_start")
            shown = {"t": out[2]}

            def answer(api):
                out = c.predict(shown["t"], api_name=api)
                shown["t"] = out[2]

            result["/search_start"] = timed(lambda: c.predict(20.0, 1.0, "sample", "mel", 50, None, 0.0,
                                                              api_name="/search_start"), args.repeats)
            shown["t"] = c.predict(20.0, 1.0, "sample", "mel", 50, None, 0.0, api_name="/search_start")[2]
            result["/search_no"] = timed(lambda: answer("/search_no"), args.repeats)
            result["/search_yes"] = timed(lambda: answer("/search_yes"), args.repeats)
            result["/search_undo"] = timed(lambda: c.predict(api_name="/search_undo"), args.repeats)
            result["/search_play_query"] = timed(lambda: c.predict(20.0, 1.0, api_name="/search_play_query"),
                                                 args.repeats)
            # the same search as data, in the client's session
            state = {"d": c.predict(song, 20.0, 1.0, "sample", "mel", 50, None, api_name="/api_search_start")}

            def api_answer():
                state["d"] = c.predict(state["d"]["proposal"]["start_s"], False, api_name="/api_search_answer")

            result["/api_search_answer"] = timed(api_answer, args.repeats)
            c.close()
        finally:
            app.stop()
        prof = profile(uploads.paths[0], max(1, args.repeats // 2))
        result["ABX trial (in-process)"] = abx_trial(args.repeats)
    table = {name: {"median_s": round(statistics.median(v), 3), "p95_s": round(float(np.percentile(v, 95)), 3),
                    "interactive": name in INTERACTIVE,
                    "meets_1s": (statistics.median(v) < TARGET_S) if name in INTERACTIVE else None,
                    **({"target_s": TARGETS[name], "meets_target": statistics.median(v) <= TARGETS[name]}
                       if name in TARGETS else {})}
             for name, v in result.items()}
    doc = {"file": "3 min, 44.1 kHz stereo FLAC, a new upload per call", "repeats": args.repeats,
           "target_s": TARGET_S, "endpoints": table, "machine": machine(),
           "profile": prof, "command": "python bench/bench_latency.py"}
    print(json.dumps(doc, indent=2))
    if args.write:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
