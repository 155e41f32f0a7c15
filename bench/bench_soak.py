"""Soak: many clients share one app process; prints JSON (latency per endpoint, errors, memory, files).

    python bench/bench_soak.py [--clients 8] [--warmup 48] [--requests 200] [--write]

Starts ``app.py`` on a free port with its own temp folders, then, through gradio_client:

1. warm-up: ``--clients`` clients send ``--warmup`` mixed requests (every tab, long jobs included);
2. soak: the same clients send ``--requests`` further requests; resident memory (RSS), open file
   descriptors and the app's temp folders are sampled every 2 s;
3. flood: one client fires 20 captures at once while a second user asks for an analysis;
4. search sessions: 12 clients each load a 10-minute track and start a search, then leave.

Targets (issue 12, 2 CPU cores, 8 clients): zero errors; RSS at the end of the soak within +10 % of RSS after
warm-up; temp files bounded and released when sessions end; the second user's analysis within 5 s during
the flood; search-session memory given back when the sessions end. Bounded and self-stopping: every phase
has a fixed count and the whole run a deadline (``--deadline``, default 20 min).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import numpy as np
import soundfile as sf
from gradio_client import Client, handle_file

from bench.live_app import App

EX = ROOT / "assets" / "examples"
SONG = EX / "folk_tune_hildebrandslied.mp3"
GROOVE = EX / "house_groove_124bpm.ogg"
DRY, WET = EX / "effects" / "effects_capture_dry.flac", EX / "effects" / "effects_capture_wet.flac"
GUITAR = EX / "effects" / "effects_guitar_di.flac"
SEARCH = EX / "search" / "drum_and_bass_loops_and_samples.ogg"
OUT = ROOT / "docs" / "figures" / "soak.json"
#: Idle seconds before a memory reading at rest (the app's memory keeper runs every 10 s).
IDLE_S = 12.0
TARGETS = {"errors": 0, "rss_growth_pct": 10.0, "flood_short_request_s": 5.0}


class Recorder:
    def __init__(self):
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def call(self, client: Client, api_name: str, *args):
        t0 = time.perf_counter()
        try:
            out = client.predict(*args, api_name=api_name)
        except Exception as err:  # recorded, never fatal: the soak counts them
            with self.lock:
                self.errors.append(f"{api_name}: {type(err).__name__}: {str(err)[:200]}")
            return None
        with self.lock:
            self.latency[api_name].append(time.perf_counter() - t0)
        return out

    def summary(self) -> dict:
        return {name: {"n": len(v), "median_s": round(statistics.median(v), 2),
                       "p95_s": round(float(np.percentile(v, 95)), 2)} for name, v in sorted(self.latency.items())}


def _search(rec: Recorder, client: Client, track):
    """Load, start, and answer three proposals: one user's search."""
    if rec.call(client, "/search_load", track) is None:
        return
    out = rec.call(client, "/search_start", 3.4, 0.8, "sample", "mel", 5, None, 0.0)
    for k in range(3):
        if not out or out[2] is None:
            return
        out = rec.call(client, "/search_yes" if k % 2 == 0 else "/search_no", out[2])


def mix(files: dict):
    """The request mix: every tab, long jobs (capture, batch tagging, effects) included."""
    f = {k: handle_file(str(v)) for k, v in files.items()}
    return [
        lambda r, c: r.call(c, "/analyse", f["song"]),
        lambda r, c: r.call(c, "/genre", f["groove"], "musicnn", "mean"),
        lambda r, c: r.call(c, "/classify_instrument", f["song"], "musicnn"),
        lambda r, c: r.call(c, "/generate", "lstm", 20, 1.0, 3, 120, "Flute", "FluidR3_GM", None),
        lambda r, c: _search(r, c, f["search"]),
        lambda r, c: r.call(c, "/effects_apply", f["guitar"], "distortion", 20.0),
        lambda r, c: r.call(c, "/effects_capture", f["dry"], f["wet"], "fir", 100),
        lambda r, c: r.call(c, "/tag_instruments", [f["song"], f["groove"]], "cnn"),
        lambda r, c: r.call(c, "/genre", f["song"], "cnn", "max"),
    ]


def run_clients(app: App, rec: Recorder, n_clients: int, n_requests: int, files: dict, deadline: float):
    jobs = mix(files)
    counter = {"i": 0}
    lock = threading.Lock()

    def worker():
        client = Client(app.url, verbose=False)
        try:
            while time.time() < deadline:
                with lock:
                    i = counter["i"]
                    if i >= n_requests:
                        return
                    counter["i"] += 1
                jobs[i % len(jobs)](rec, client)
        finally:
            client.close()

    threads = [threading.Thread(target=worker) for _ in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def flood(app: App, files: dict) -> dict:
    """One client fires 20 long captures at once; a second user's analysis must still come back quickly."""
    a, b = Client(app.url, verbose=False), Client(app.url, verbose=False)
    accepted, refused = [], 0
    for _ in range(20):
        try:
            accepted.append(a.submit(handle_file(str(files["dry"])), handle_file(str(files["wet"])), "lstm", 3000,
                                     api_name="/effects_capture"))
        except Exception:
            refused += 1
    time.sleep(1.0)
    for job in list(accepted):  # a refusal may arrive as the job's result rather than at submit
        try:
            if job.done() and job.exception() is not None:
                accepted.remove(job)
                refused += 1
        except Exception:
            pass
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        b.predict(handle_file(str(files["song"])), api_name="/analyse")
        times.append(time.perf_counter() - t0)
    for job in accepted:
        job.cancel()
    a.close()
    b.close()
    return {"captures_sent": 20, "accepted": len(accepted), "refused": refused,
            "second_user_analyse_s": [round(t, 2) for t in times]}


def search_sessions(app: App, files: dict, n: int = 12) -> dict:
    """``n`` users each hold a search on a 10-minute track; memory before, while held, and after they leave."""
    before = app.sample()["rss_mb"]
    clients = [Client(app.url, verbose=False) for _ in range(n)]
    track = handle_file(str(files["long"]))
    for c in clients:
        c.predict(track, api_name="/search_load")
        c.predict(2.0, 1.0, "sample", "mel", 5, None, 0.0, api_name="/search_start")
    held = app.sample()["rss_mb"]
    for c in clients:
        c.close()
    time.sleep(8)  # the heartbeat notices the closed sessions; unload releases them
    after = app.sample()
    return {"sessions": n, "track_min": 10, "rss_before_mb": before, "rss_held_mb": held,
            "rss_after_leaving_mb": after["rss_mb"], "per_session_mb": round((held - before) / n, 1),
            "outputs_after_leaving_mb": after["outputs_mb"]}


def make_files(tmp: Path) -> dict:
    y, sr = sf.read(SEARCH, dtype="float32")
    reps = int(np.ceil(600 * sr / len(y)))
    long = tmp / "search_10min.flac"
    sf.write(long, np.tile(y, (reps, 1) if y.ndim == 2 else reps)[: 600 * sr], sr)
    return {"song": SONG, "groove": GROOVE, "dry": DRY, "wet": WET, "guitar": GUITAR, "search": SEARCH, "long": long}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--warmup", type=int, default=48)
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--deadline", type=float, default=1200.0, help="seconds for the whole run")
    p.add_argument("--write", action="store_true", help=f"also write {OUT.relative_to(ROOT)}")
    args = p.parse_args(argv)
    deadline = time.time() + args.deadline
    with tempfile.TemporaryDirectory(prefix="soak_") as d:
        tmp = Path(d)
        files = make_files(tmp)
        app = App(tmp)
        samples, stop = [], threading.Event()

        def monitor():
            t0 = time.time()
            while not stop.is_set():
                samples.append({"t_s": round(time.time() - t0, 1), **app.sample()})
                stop.wait(2.0)

        threading.Thread(target=monitor, daemon=True).start()
        try:
            started = app.sample()
            rec = Recorder()
            t0 = time.time()
            run_clients(app, rec, args.clients, args.warmup, files, deadline)
            time.sleep(IDLE_S)  # memory at rest: what is retained, not the buffers of requests in flight
            warm = app.sample()
            soak_rec = Recorder()
            run_clients(app, soak_rec, args.clients, args.requests, files, deadline)
            time.sleep(IDLE_S)
            end = app.sample()
            soak_s = time.time() - t0
            flooded = flood(app, files)
            searches = search_sessions(app, files)
            time.sleep(3)
            final = app.sample()
        finally:
            stop.set()
            app.stop()
    growth = round(100 * (end["rss_mb"] - warm["rss_mb"]) / warm["rss_mb"], 1)
    errors = rec.errors + soak_rec.errors
    result = {
        "machine": {"cpus": os.cpu_count(), "clients": args.clients},
        "requests": {"warmup": args.warmup, "soak": args.requests, "wall_s": round(soak_s, 1)},
        "latency": soak_rec.summary(),
        "errors": len(errors), "error_samples": errors[:10],
        "memory": {"rss_start_mb": started["rss_mb"], "rss_after_warmup_mb": warm["rss_mb"],
                   "rss_end_mb": end["rss_mb"],
                   "growth_pct": growth, "rss_peak_mb": max(s["rss_mb"] for s in samples)},
        "fds": {"after_warmup": warm["fds"], "end": end["fds"], "peak": max(s["fds"] for s in samples)},
        "temp": {"outputs_peak_mb": max(s["outputs_mb"] for s in samples), "outputs_final_mb": final["outputs_mb"],
                 "gradio_cache_final_mb": final["gradio_cache_mb"]},
        "flood": flooded,
        "search_sessions": searches,
        "targets": TARGETS,
        "met": {"errors": len(errors) == 0, "memory": growth <= TARGETS["rss_growth_pct"],
                "flood": max(flooded["second_user_analyse_s"]) <= TARGETS["flood_short_request_s"]},
        "samples": samples[:: max(1, len(samples) // 60)],
        "command": "python bench/bench_soak.py" + (f" --clients {args.clients}" if args.clients != 8 else ""),
    }
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=2))
    if args.write:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
