"""Write the measured tables into README.md between their markers, from the JSON the evaluate commands wrote.

    python scripts/update_readme_tables.py

Blocks: ``<!-- BEGIN real-summary -->`` (real recordings first, both tasks), ``<!-- BEGIN backbone-genre -->``,
``<!-- BEGIN backbone-instruments -->`` (the full tables from ``docs/figures/<task>_backbone_eval.md``),
``<!-- BEGIN real-dev-set -->`` (counts per class, from ``docs/real_dev_set.md``) and ``<!-- BEGIN backbone-bench -->``
(``docs/figures/backbone_bench.json``, written by ``python bench/bench_backbones.py --write``).
No figure in these blocks is typed by hand.
"""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIG = ROOT / "docs" / "figures"


def _best_paper(real: dict) -> tuple[str, float]:
    papers = {k: v["macro_accuracy"] for k, v in real.items()
              if k.startswith("paper ") and v["macro_accuracy"] is not None}
    if not papers:
        return "paper —", float("nan")
    name = max(papers, key=papers.get)
    return name, papers[name]


def _prior(task: str) -> dict | None:
    path = FIG / f"{task}_prior.json"
    return json.loads(path.read_text()) if path.exists() else None


def real_summary() -> str:
    """Per task, on real passages (grouped cross-validation): the default, the bare mapping and the free head;
    then the single real notes and the renders of real samples, each a column of its own."""
    rows = ["| task | default (tag prior) | zero-shot tags | free musicnn head | real passages (n per class) | "
            "single real notes: default / tags / head | renders of real samples: default / tags / head |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for task in ("genre", "instruments"):
        r = _prior(task)
        if not r:
            continue
        c = r["candidates"]
        head = next(k for k in c if k.startswith("free head"))

        def acc(name, part="passages"):
            s = c[name].get(part) if part == "sampled_renders" else c[name]["real"].get(part)
            return "—" if not s or s.get("accuracy") is None else f"{s['accuracy']:.2f}"

        three = lambda part: " / ".join(acc(n, part) for n in (r["chosen"], "zero-shot tags", head))  # noqa: E731
        per = c[r["chosen"]]["real"]["passages"]["per_class"]
        rows.append(f"| {task} | **{acc(r['chosen'])}** | {acc('zero-shot tags')} | {acc(head)} | "
                    + ", ".join(f"{k} {v['n']}" for k, v in per.items())
                    + f" | {three('notes')} | {three('sampled_renders')} |")
    return "\n".join(rows)


def from_figure(name: str, missing: str):
    """A block written from ``docs/figures/<name>``: the function gets its JSON; without the file, ``missing``."""
    def deco(fn):
        @functools.wraps(fn)
        def block() -> str:
            path = FIG / name
            return fn(json.loads(path.read_text())) if path.exists() else missing
        return block
    return deco


@from_figure("backbone_bench.json", "(run `python bench/bench_backbones.py --write`)")
def bench(b: dict) -> str:
    """Both backbones on every runtime, and musicnn's TensorFlow original timed in the same run."""
    if "onnxruntime" not in b:  # the older single-runtime layout
        return (f"both backbones, 3-min song: {b['both_3min_embedding_fp32_s']:.2f} s (float32); "
                f"3 s clip: {b['both_3s_clip_fp32_ms']:.0f} ms (run `python bench/bench_backbones.py --write`)")
    tf = b.get("original_tensorflow") or {}
    measured = tf.get("measured")
    fp32, bf16, ort = b["torch_fp32"], b["torch_bf16"], b["onnxruntime"]
    rows = ["| both backbones (2 CPU threads, median of 3 after a warm-up) | torch float32 | torch bfloat16 "
            "| ONNX Runtime (the default) | musicnn's TensorFlow original | target |",
            "| --- | --- | --- | --- | --- | --- |",
            f"| 3-minute song, networks | {fp32['both_3min_s']:.2f} s | {bf16['both_3min_s']:.2f} s "
            f"| {ort['both_3min_s']:.2f} s | "
            + (f"{tf['both_3min_warm_s']:.2f} s (its extractor, file to tags: {tf['both_3min_extractor_s']:.2f} s)"
               if measured else "not measured") + " | 1.5 s, 3× the original |",
            f"| 3 s clip | {fp32['both_3s_clip_ms']:.0f} ms | {bf16['both_3s_clip_ms']:.0f} ms "
            f"| {ort['both_3s_clip_ms']:.0f} ms | "
            + (f"{tf['both_3s_clip_warm_ms']:.0f} ms" if measured else "not measured") + " | 30 ms |"]
    extra = (f"The app's own path (`core.backbones.embed`, log-mel included): {ort['both_3min_app_embed_s']:.2f} s "
             f"for 3 minutes, {ort['both_3s_clip_app_embed_ms']:.0f} ms for a clip.")
    if measured:
        sp = b["speedup_vs_original"]
        extra += (" Against the original in the same run (the app's path and the original each in its own process, "
                  f"their runs alternating): {sp['both_3min_warm']:.2f}× (networks, warm), "
                  f"{sp['both_3min_extractor']:.2f}× (its extractor, file to tags), {sp['both_3s_clip_warm']:.2f}× "
                  f"for a clip; tags within {tf['mtt_tags_max_abs_diff_vs_port']:.1e} of the port.")
    return "\n".join(rows) + "\n\n" + extra


@from_figure("runtime_real_dev.json", "(run `python scripts/runtime_real_dev.py --write`)")
def runtime_real_dev(d: dict) -> str:
    """ONNX Runtime against PyTorch float32 on the real dev set: the same answers?"""
    rows = ["| real dev set | recordings | shipped head: answers that differ | zero-shot tags: answers that differ "
            "| largest tag difference |", "|---|---|---|---|---|"]
    for task in ("genre", "instruments"):
        r = d[task]
        rows.append(f"| {task} | {r['recordings']} | {r['head']['answers_that_differ']} "
                    f"(accuracy {r['head']['torch']['accuracy']:.2f} → {r['head']['onnxruntime']['accuracy']:.2f}) "
                    f"| {r['zero_shot']['answers_that_differ']} (accuracy {r['zero_shot']['torch']['accuracy']:.2f} → "
                    f"{r['zero_shot']['onnxruntime']['accuracy']:.2f}) | {r['max_abs_tag_diff']:.1e} |")
    return "\n".join(rows + ["", f"`{d['command']}`: PyTorch float32 → ONNX Runtime (the default), every recording "
                              "through both backbones as the app runs them. The shipped heads were fitted with these "
                              "recordings, so their accuracy here checks agreement, not skill (the held-out figures "
                              "are in the genre and instruments write-ups). Also in both backbone cards."])


@from_figure("search_dev_musicnn.json", "(run the search evaluate command above)")
def search_musicnn(d: dict) -> str:
    """The musicnn frame features as a search space vs today's default, on the development tracks."""

    from core.search.evaluate import markdown

    return markdown(d["table"]) + f"\n\n{d['tracks']} development tracks (`{d['data']}`), patience {d['patience']}."


@from_figure("memory.json", "(run `python bench/bench_memory.py --write`)")
def memory(m: dict) -> str:
    return (f"With **every** bundled model of every tab loaded ({len(m['models_loaded'])} models, the two musicnn "
            f"backbones included), the process holds **{m['total_mb']:.0f} MB** resident "
            f"(`python bench/bench_memory.py --write`; budget {m['budget_mb'] / 1024:.1f} GB).")


@from_figure("soak.json", "(run `python bench/bench_soak.py --write`)")
def soak(d: dict) -> str:
    m, t, f, s, met = d["memory"], d["temp"], d["flood"], d["search_sessions"], d["met"]
    ok = lambda good: "met" if good else "**not met**"  # noqa: E731
    rows = [
        "| endpoint | requests | median (s) | p95 (s) |", "|---|---|---|---|",
        *[f"| `{name}` | {v['n']} | {v['median_s']:.2f} | {v['p95_s']:.2f} |" for name, v in d["latency"].items()],
    ]
    lines = [
        f"`{d['command']} --write`: {d['machine']['clients']} concurrent clients on {d['machine']['cpus']} CPU cores, "
        f"{d['requests']['warmup']} warm-up requests then {d['requests']['soak']} more "
        f"({d['requests']['wall_s']:.0f} s), every tab, long jobs included:",
        "",
        *rows,
        "",
        f"- **Errors**: {d['errors']} (target 0: {ok(met['errors'])}).",
        f"- **Memory at rest**: {m['rss_after_warmup_mb']:.0f} MB after warm-up, {m['rss_end_mb']:.0f} MB after the "
        f"{d['requests']['soak']} further requests: {m['growth_pct']:+.1f} % (target ≤ "
        f"+{d['targets']['rss_growth_pct']:.0f} %: {ok(met['memory'])}); peak while busy {m['rss_peak_mb']:.0f} MB.",
        f"- **Open files**: {d['fds']['after_warmup']} after warm-up, "
        f"{d['fds']['end']} at the end (peak {d['fds']['peak']}).",
        f"- **Temp files**: handed-back files peaked at {t['outputs_peak_mb']:.0f} MB and were "
        f"{t['outputs_final_mb']:.1f} MB once the clients left; "
        f"Gradio's cache held {t['gradio_cache_final_mb']:.0f} MB (cleaned by age).",
        f"- **Flood**: one client sent {f['captures_sent']} captures at once: {f['accepted']} queued, {f['refused']} "
        "refused with the one-long-job message; meanwhile a second user's analyses took "
        f"{', '.join(f'{x:.1f}' for x in f['second_user_analyse_s'])} s (target ≤ "
        f"{d['targets']['flood_short_request_s']:.0f} s: {ok(met['flood'])}).",
        f"- **Search sessions**: {s['sessions']} users each searching a {s['track_min']}-minute track held "
        f"{s['per_session_mb']:.0f} MB each ({s['rss_before_mb']:.0f} → {s['rss_held_mb']:.0f} MB); when they left, "
        f"memory went back to {s['rss_after_leaving_mb']:.0f} MB.",
    ]
    return "\n".join(lines)


@from_figure("tempo_eval.json", "(run `python -m core.tempo --evaluate`)")
def tempo(d: dict) -> str:
    ex = ", ".join(f"{r['track'].split(':')[1].replace('_', ' ')} {r['truth']:g} BPM → {r['ours']:g} "
                   f"(librosa {r['librosa']:g})"
                   for r in d["examples"])
    return "\n".join([
        "| method | Acc1 | Acc2 |", "|---|---|---|",
        f"| ours (prior + octave chooser + fine tuning) | **{d['acc1']:.3f}** | {d['acc2']:.3f} |",
        f"| prior × periodicity only (no chooser) | {d['prior_only_acc1']:.3f} | |",
        f"| librosa `beat_track` default | {d['librosa_acc1']:.3f} | {d['librosa_acc2']:.3f} |",
        "",
        f"{d['tracks']} tracks (`{d['command']}`): the genre corpus's seven genres and the search corpus's four "
        "electronic genres, 5 each, seeds 5000–5004, rendered with FluidR3_GM; and the bundled examples: " + ex + ".",
        "These are generated tracks: no labelled real recording with a known tempo is in the real dev set yet.",
    ])


#: the real-tracker tempo methods, in the order the table shows them, and what each is
TEMPO_METHODS = (("beatnet", "**BeatNet** (the tab's default: `core.beats.beatnet.track`)"),
                 ("beatnet_librosa", "BeatNet's beat probability into librosa's `beat_track`"),
                 ("ours", "periodicity chooser (`core.tempo.estimate`, trained on generated tracks)"),
                 ("prior_only", "periodicity × genre prior only"),
                 ("librosa_beat_track", "librosa `beat_track` default"),
                 ("librosa_feature_tempo", "librosa `feature.tempo` default"))


@from_figure("tempo_real.json", "(run `python -m core.tempo --evaluate-real .cache/modules --write`)")
def tempo_real(d: dict) -> str:
    """Every tempo method on the real tracker modules, one run."""
    rows = ["| method | Acc1 | Acc2 | beat F | wrong tempi, read at (× truth) |", "|---|---|---|---|---|"]
    order = {"2": 0, "1/2": 1, "3": 2, "1/3": 3, "2/3": 4, "3/2": 5, "other": 6}
    for key, name in TEMPO_METHODS:
        m = d["summary"].get(key)
        if m is None:
            continue
        errors = sorted(((k, n) for k, n in m.get("errors", {}).items() if k != "1" and n),
                        key=lambda kv: order.get(kv[0], 9))
        misses = ", ".join(f"{n} at {k}" for k, n in errors)
        beat_f = f"{m['beat_f']:.3f}" if m.get("beat_f") is not None else "–"
        rows.append(f"| {name} | {m['acc1']:.3f} | {m['acc2']:.3f} | {beat_f} | {misses or '–'} |")
    packages = ", ".join(f"{p} {n}" for p, n in sorted(d["per_package"].items(), key=lambda kv: -kv[1]))
    return "\n".join(rows + ["", f"{d['modules']} real tracker modules ({packages}), all methods in one run "
                              f"(`{d['command']}`). {d['tolerance']}. Label: {d['label']}."])


@from_figure("key_eval.json", "(run `python -m core.key --evaluate 60 --write`)")
def key_chords(d: dict) -> str:
    """Key (chroma alone, with crema's chords, with the score's chords) and chord accuracy on rendered chorales."""
    rows = ["| key from | accuracy | MIREX | fifth / relative / parallel errors | mean confidence |",
            "|---|---|---|---|---|",
            f"| chroma only (Krumhansl–Kessler) | {d['accuracy']:.2f} | {d['mirex_weighted']:.2f} | "
            f"{d['fifth_relative_parallel_errors']} | {d['mean_confidence']:.2f} |"]
    for key, name in (("with_chords", "**chroma + crema's chords** (the tab's default)"),
                      ("with_truth_chords", "chroma + the score's own chords")):
        w = d.get(key)
        if w:
            rows.append(f"| {name} | {w['accuracy']:.2f} | {w['mirex_weighted']:.2f} | "
                        f"{w['fifth_relative_parallel_errors']} | {w['mean_confidence']:.2f} |")
    c = d.get("chords")
    if c:
        rows += ["", "| chords | majmin | root |", "|---|---|---|"]
        for key, name in (("crema", "crema, its own Viterbi decoding (the tab's)"),
                          ("crema_argmax", "crema, per-frame argmax"),
                          ("template", "chroma-template baseline (`core/chords/template.py`)")):
            if key in c:
                rows.append(f"| {name} | {c[key]['majmin']:.2f} | {c[key]['root']:.2f} |")
        pub = c.get("published_crema")
        if pub:
            rows.append(f"| *crema's authors, {pub['tracks']} real tracks of their test split (published in its "
                        f"`test_scores.json`, not measured here)* | *{pub['majmin']:.2f}* | *{pub['root']:.2f}* |")
        rows += ["", f"Chord truth: {c['truth']}."]
    return "\n".join(rows + ["", f"{d['pieces']} pieces: {d['data']} (`{d['command']}`)."])


@from_figure("analysis_speed.json", "(run `python bench/bench_analysis.py --write`)")
def analysis_speed(d: dict) -> str:
    """The analysis of a 3-minute song, stage by stage."""
    names = {"decode_s": "decode the file", "levels_s": "levels (true peak, loudness, LRA)",
             "spectrogram_chroma_mel_s": "spectrogram, chroma, log-mel, ZCR",
             "beats_beatnet_s": "beats and bars (BeatNet) alone", "chords_crema_s": "chords (crema) alone",
             "key_from_chroma_and_chords_s": "key from chroma and chords",
             "beats_chords_side_by_side_s": "beats and chords side by side",
             "whole_analysis_in_process_s": "**the whole analysis, in-process** (two lanes side by side: levels "
                                            "then features, chords then beats)",
             "plots_s": "the tab's four plots, drawn for the page", "features_csv_s": "the per-frame CSV"}
    rows = ["| stage | seconds |", "|---|---|", *[f"| {names.get(k, k)} | {v:.2f} |" for k, v in d["stages"].items()]]
    verdict = "met" if d["meets_target"] else "**not met**"
    return "\n".join(rows + ["", f"{d['file']}, median of {d['repeats']} after a warm-up, one torch thread, "
                              f"2 CPU cores (`{d['command']}`). Beats, chords and key: {d['beats_chords_key_s']:.2f} s "
                              f"(target {d['target_s']:.0f} s: {verdict})."])


@from_figure("latency.json", "(run `python bench/bench_latency.py --write`)")
def speed(d: dict) -> str:
    """The README's speed table: issue 28's targets, measured by the latency, backbone and memory benches."""
    rows = ["| what (3-minute song, 2 CPU cores) | measured | target |", "|---|---|---|"]
    for name, v in d["endpoints"].items():
        if "target_s" in v:
            ok = "✓" if v["meets_target"] else "✗"
            rows.append(f"| `{name}` | {v['median_s']:.2f} s | ≤ {v['target_s']:g} s {ok} |")
    b = json.loads((FIG / "backbone_bench.json").read_text()) if (FIG / "backbone_bench.json").exists() else None
    if b and "onnxruntime" in b:
        o, sp = b["onnxruntime"], b.get("speedup_vs_original") or {}
        mark = lambda ok: "✓" if ok else "✗"  # noqa: E731
        app = o.get("both_3min_app_embed_s", o["both_3min_s"])
        clip = o.get("both_3s_clip_app_embed_ms", o["both_3s_clip_ms"])
        t = b["targets"]
        ratio = sp.get("both_3min_extractor") if sp else None
        rows.append(f"| both musicnn backbones over 3 minutes (the app's path) | {app:.2f} s"
                    + (f"; the port {ratio:.1f}× as fast as musicnn's own extractor in alternating runs" if ratio
                       else "") + f" | ≤ {t['both_3min_s']:g} s {mark(app <= t['both_3min_s'])}"
                    + (f", ≥ {t['speedup_vs_original']:g}× {mark(ratio >= t['speedup_vs_original'])}" if ratio
                       else "") + " |")
        rows.append(f"| both backbones, one 3 s clip (the app's path) | {clip:.0f} ms | "
                    f"≤ {t['both_3s_clip_ms']:g} ms {mark(clip <= t['both_3s_clip_ms'])} |")
    m = json.loads((FIG / "memory.json").read_text()) if (FIG / "memory.json").exists() else None
    if m and "peak_mb" in m:
        rows.append(f"| resident memory, every model loaded, after a song through every tab | {m['total_mb']:.0f} MB "
                    f"(peak {m['peak_mb']:.0f} MB while the song is read) | < {m['budget_mb']} MB "
                    f"{'✓' if m['within_budget'] else '✗'}{'' if m.get('peak_within_budget') else ' (peak ✗)'} |")
    return "\n".join(rows + ["", "`python bench/bench_latency.py --write`, `python bench/bench_backbones.py --write`, "
                              "`python bench/bench_memory.py --write`; per endpoint and per stage in "
                              "[docs/server.md](docs/server.md) and [docs/backbone.md](docs/backbone.md)."])


@from_figure("latency.json", "(run `python bench/bench_latency.py --write`)")
def latency(d: dict) -> str:
    rows = ["| endpoint | median (s) | p95 (s) | interactive: under 1 s? |", "|---|---|---|---|"]
    for name, v in d["endpoints"].items():
        verdict = (("yes" if v["meets_1s"] else "**no**") if v["interactive"] else
                   "refines the first look (progress shown)" if name.endswith("every excerpt")
                   else "long job (progress shown)")
        rows.append(f"| `{name}` | {v['median_s']:.2f} | {v['p95_s']:.2f} | {verdict} |")
    prof = d.get("profile", {})
    notes = [f"- {name}: the whole handler (first look, every excerpt, figures) takes {v['handler_s']:.1f} s "
             "in-process; the model call over every excerpt alone (both musicnn backbones on every patch, and the "
             f"head) {v['model_s']:.1f} s ({v['model_share']:.0%})."
             for name, v in prof.items()]
    return "\n".join([f"`{d['command']} --write`: one client, {d['file']}, median of {d['repeats']} calls after a "
                      "warm-up, 2 CPU cores.", "", *rows, "",
                      "Where the time goes (same command, in-process, one torch thread):",
                      "", *notes])


#: What each paper reports (quoted from ../shared/papers/, not measured here).
PAPER_SAYS = {"genre": "paper: 89 % CNN, 90 % CRNN on real songs", "instruments": "paper: 93 % CNN, 96 % AST",
              "search": "paper, real tracks: naive 0.30 / 0.51"}
GENERATION_METRICS = ("pitch_class_histogram", "pitch_range", "scale_consistency", "note_length", "repetition")


@from_figure("mix_threshold.json", "(run `python -m core.classify.mixes --real .cache/real --write`)")
def mix_threshold(d: dict) -> str:
    return (f"The full-mix notice now reads the rhythm-section tags only ({', '.join(d['tags'])}) at "
            f"{d['threshold']:.2f}, the lowest threshold that none of the {d['solo']['n']} real solo recordings "
            f"crosses (notes and phrases; highest score {d['solo']['max_score']:.2f}); it flags "
            f"{d['mixes']['flagged']} of the {d['mixes']['n']} real full mixes (`{d['command']}`). The line above "
            "was measured with the earlier tags and threshold.")


@from_figure("mix_instruments.json", "(run `python -m core.classify.mixes --instruments .cache/genre --write`)")
def mix_instruments(d: dict) -> str:
    """The instruments-heard-in-a-mix threshold and what it gives per class."""
    fmt = lambda v: "—" if v is None else f"{v:.2f}"  # noqa: E731
    rows = ["| class | mixes with it | precision | recall |", "| --- | ---: | ---: | ---: |"]
    rows += [f"| {c} | {v['n_in']} | {fmt(v['precision'])} | {fmt(v['recall'])} |" for c, v in d["per_class"].items()]
    return "\n".join(rows + ["", f"Threshold {d['threshold']:.2f} (micro-F1 {d['micro_f1']:.2f} over {d['n_mixes']} "
                              f"mixes): {d['data']}. Not heard in mixes, having no tag: {', '.join(d['unmapped'])}. "
                              f"`{d['command']}`"])


@from_figure("fairness.json", "(run `python bench/bench_fairness.py --write`)")
def fairness(d: dict) -> str:
    names = {"genre_70_posts": "one client, 70 POSTs to `/api_genre` at once",
             "captures_30_sessions_one_client": "one client, 30 sessions each starting a capture",
             "captures_30_clients": "30 clients, one capture each"}
    rows = ["`python bench/bench_fairness.py --write`: a fresh app per flood, 2 CPU cores; the victim is another "
            "client asking for `/api_analysis` of a 23 s clip three times while the flood is queued.", "",
            "| flood | admitted | refused at the door | victim's analysis (s) | under "
            f"{next(iter(d['floods'].values()))['target_s']:.0f} s? |", "|---|---|---|---|---|"]
    for key, f in d["floods"].items():
        rows.append(f"| {names.get(key, key)} | {f['admitted']} | {f['refused_429']} | "
                    f"{', '.join(f'{x:.2f}' for x in f['victim_analysis_s'])} | {'yes' if f['ok'] else '**no**'} |")
    c = d["cancel"]
    stops = ", ".join(f"`{k}` {v:.2f} s" if isinstance(v, float) else f"`{k}` {v}"
                      for k, v in c["stopped_after_s"].items())
    rows += ["", f"- **Cancel** (10 minutes of audio, 60 s for the effect; cancelled a second after it started), "
                 f"work stopped after: {stops}. Worst {c['worst_s']:.2f} s (target under {c['target_s']:.0f} s: "
                 f"{'met' if c['ok'] else '**not met**'})."]
    return "\n".join(rows)


def _card(*parts) -> dict:
    path = ROOT.joinpath("assets", "models", *parts, "card.json")
    return json.loads(path.read_text()) if path.exists() else {}


def effects_real_cell() -> str:
    """The bundled effect models on real recordings (docs/figures/effects_real.json), at their default knobs."""
    path = FIG / "effects_real.json"
    if not path.exists():
        return "(run `python -m core.effects.evaluate --real --write`)"

    from core.effects import fx
    from core.effects.metrics import closer

    d = json.loads(path.read_text())
    bundled = {k: v for k, v in d["models"].items() if k in fx.NAMES}
    ok = {k for k, sets in bundled.items() if all(closer(rows[0]) for rows in sets.values())}
    return (f"**{len(ok)} of {len(bundled)}** effects closer to the real effect than clean (ESR and MR-STFT) on all "
            f"{len(d['seconds'])} sets of real recordings (piano and string chords, a wind trio, mixes, solo notes)"
            + (", the polyphonic pitch shifter included" if "pitch" in ok else "; not the pitch shifter"))


def tempo_real_cell() -> str:
    """Tempo on real tracker music (exact tempo from the module's rows): the tab's BeatNet against the rest."""
    path = FIG / "tempo_real.json"
    if not path.exists():
        return "tempo on real music: not measured (`python -m core.tempo --evaluate-real .cache/modules --write`)"
    d = json.loads(path.read_text())
    sm = d["summary"]
    o, lb = sm["ours"], sm["librosa_beat_track"]
    b = sm.get("beatnet")
    lead = (f"BeatNet Acc1 {b['acc1']:.2f} / **Acc2 {b['acc2']:.2f}**, beat F {b['beat_f']:.2f}; periodicity chooser "
            f"{o['acc1']:.2f} / {o['acc2']:.2f}, {o['beat_f']:.2f}" if b else
            f"Acc1 {o['acc1']:.2f} / Acc2 {o['acc2']:.2f}, beat F {o['beat_f']:.2f}")
    return (f"tempo on {d['modules']} real tracker modules ({len(d['packages'])} Debian packages): {lead} "
            f"(librosa {lb['acc1']:.2f} / {lb['acc2']:.2f}, {lb['beat_f']:.2f})")


def key_cell() -> str:
    """The key and chords on rendered chorales (generated audio of real scores), or nothing before measured."""
    path = FIG / "key_eval.json"
    if not path.exists():
        return ""
    d = json.loads(path.read_text())
    w, c = d.get("with_chords"), d.get("chords", {})
    key = (f"key accuracy {w['accuracy']:.2f} with chords (chroma alone {d['accuracy']:.2f})" if w else
           f"key accuracy {d['accuracy']:.2f} (MIREX {d['mirex_weighted']:.2f})")
    chords = f", chords majmin {c['crema']['majmin']:.2f}" if "crema" in c else ""
    return f"{key}{chords} on {d['pieces']} Bach chorales rendered with {d['soundfont']}; "


def library_cell() -> str:
    """The sample library on real CC0 one-shots and loops: retrieval per embedding space (the default first),
    duplicates, sample identification."""
    from core.library.index import DEFAULT_SPACE

    path = FIG / "library_eval.json"
    if not path.exists():
        return "— (`python -m core.library.evaluate --write-docs`)"
    d = json.loads(path.read_text())
    spaces = d["spaces"]
    lead = DEFAULT_SPACE if DEFAULT_SPACE in spaces else next(iter(spaces))
    m = spaces[lead]
    kinds = m.get("by_kind", {})
    split = (f" (one-shots {kinds['one-shots']['precision_at_10']:.2f} / {kinds['one-shots']['map']:.2f}, "
             f"loops {kinds['loops']['precision_at_10']:.2f} / {kinds['loops']['map']:.2f})"
             if {"one-shots", "loops"} <= set(kinds) else "")
    others = "; ".join(f"{s} {r['precision_at_10']:.2f} / {r['map']:.2f} / {r['recall_within_patience']:.2f}"
                       for s, r in spaces.items() if s != lead)
    dup = d.get("duplicates", {})
    held = dup.get("test") or {}
    dup_text = (f"; near-duplicates P {held['precision']:.2f} / R {held['recall']:.2f} on made variants"
                if {"precision", "recall"} <= set(held) else "")
    sid_path = FIG / "sample_id_eval.json"
    sid = ""
    if sid_path.exists():
        e = json.loads(sid_path.read_text())
        best = e["spaces"].get(lead) or next(iter(e["spaces"].values()))
        a = best["all"]
        sid = (f"; sample identification in real tracker mixes: top-10 {a['top10']:.2f} over {e['library_files']} "
               f"one-shots (chance {e['chance_top10']:.2f}: an open problem)")
    return (f"**{lead} P@10 {m['precision_at_10']:.2f}, mAP {m['map']:.2f}**{split}, recall within patience 5 "
            f"{m['recall_within_patience']:.2f} on {d['files']} real CC0 samples ({others})" + dup_text + sid)


def overview() -> str:
    """The README's first table: per tab, the figures on real recordings first, then on generated data."""
    real = {t: json.loads((FIG / f"{t}_backbone_eval.json").read_text()) for t in ("genre", "instruments")
            if (FIG / f"{t}_backbone_eval.json").exists()}

    def real_cell(task: str) -> str:
        r = _prior(task)
        if not r:
            return "—"
        c = r["candidates"]
        chosen = c[r["chosen"]]["real"]["passages"]
        head = next(v for k, v in c.items() if k.startswith("free head"))["real"]["passages"]
        older = ""
        if task in real:
            papers = ", ".join(f"{k[6:]} {v['macro_accuracy']:.2f}" for k, v in real[task]["real_dev"].items()
                               if k.startswith("paper ") and v["macro_accuracy"] is not None)
            older = f"; paper networks, macro accuracy on the older dev set: {papers}"
        per_class = ", ".join(f"{k} {v['correct']}/{v['n']}" for k, v in chosen["per_class"].items())
        return (f"**default {chosen['accuracy']:.2f}** accuracy on {chosen['n']} real passages "
                f"({per_class}); "
                f"zero-shot tags {c['zero-shot tags']['real']['passages']['accuracy']:.2f}, free head "
                f"{head['accuracy']:.2f}" + older)

    g = _card("genre", "cnn").get("metrics", {}).get("test", {})
    i = next((v for k, v in _card("instruments", "cnn").get("metrics", {}).items()
              if k.startswith("test_held_out_soundfont")), {})
    search = json.loads((FIG / "search_eval.json").read_text())["table"] if (FIG / "search_eval.json").exists() else {}
    recall = lambda system: f"{search[system + '/sample']['all']:.2f} / {search[system + '/loop']['all']:.2f}"  # noqa: E731
    effects = [c["metrics"] for c in (json.loads(p.read_text())
                                      for p in sorted((ROOT / "assets/models/effects").glob("*/card.json")))
               if "esr_model" in c.get("metrics", {})]
    closer = sum(m["esr_model"] < m["esr_clean"] and m["mrstft_model"] < m["mrstft_clean"] for m in effects)
    tempo = json.loads((FIG / "tempo_eval.json").read_text()) if (FIG / "tempo_eval.json").exists() else {}
    latency = json.loads((FIG / "latency.json").read_text())["endpoints"] if (FIG / "latency.json").exists() else {}

    transcription_f = (json.loads((FIG / "transcription_eval.json").read_text())
                       if (FIG / "transcription_eval.json").exists() else None)

    def beats(model: str) -> str:
        m = _card("generation", model).get("metrics", {})
        mine, base = m.get("distance_to_held_out", {}), m.get("baselines", {})
        n = lambda other: sum(mine[k] < base[other][k]  # noqa: E731
                              for k in GENERATION_METRICS if k in mine and k in base.get(other, {}))
        return (f"{model.upper()} beats random notes on {n('random')} and the Markov chain on {n('markov')} "
                f"of {len(GENERATION_METRICS)}")

    rows = [
        ("Audio analysis", "— (the generation paper's analysis settings)",
         "levels at the file's own rate (true peak, LUFS, LRA), tempo, beats and bars (BeatNet), chords (crema) "
         "as CSV and MIDI, key with confidence, log-mel, chroma, ZCR, per-frame CSV",
         "levels match pyloudnorm and the EBU 3341/3342 test signals (`tests/test_levels.py`); " + tempo_real_cell(),
         key_cell() +
         (f"periodicity chooser's tempo Acc1 {tempo['acc1']:.2f} / Acc2 {tempo['acc2']:.2f} on {tempo['tracks']} "
          f"generated tracks (librosa "
          f"{tempo['librosa_acc1']:.2f} / {tempo['librosa_acc2']:.2f})" if tempo else "—")
         + (f"; {latency['/api_analysis']['median_s']:.1f} s for a 3-minute song through the API"
            if "/api_analysis" in latency else "")),
        ("Genre detection", "`genre-detection.txt`",
         "whole-song genre, genre over time, 100 tags, close calls marked uncertain; tag prior (default), "
         "musicnn head, the paper's four networks, AST",
         real_cell("genre"), f"paper CNN {g.get('excerpt_accuracy', float('nan')):.1%} per 3 s excerpt, "
                             f"{g.get('track_accuracy_mean', float('nan')):.1%} per piece ({PAPER_SAYS['genre']})"),
        ("Instrument classification", "`instrument-classification.txt`",
         "ranking, timeline, per-class curves, tags, the instruments heard in a full mix, batch tagging; "
         "tag prior (default), musicnn head, CNN, AST",
         real_cell("instruments"),
         f"paper CNN {i.get('accuracy', float('nan')):.1%} accuracy / {i.get('macro_f1', float('nan')):.3f} "
                                   f"macro-F1 on a SoundFont never trained on ({PAPER_SAYS['instruments']})"),
        ("Loop & sample search", "`loop-sample-search.txt`",
         "mark a sound once, answer yes/no, every occurrence exported (CSV/JSON, seconds and beats)",
         "— (no labelled real loops yet)",
         (f"recall within patience 5, samples / loops, on the held-out generated tracks: naive {recall('naive')} "
          f"({PAPER_SAYS['search']}), MFCC {recall('mfcc')}, learned {recall('learned')}, "
          f"whitened log-mel {recall('mel')}")
         if search else "—"),
        ("Sample library", "`loop-sample-search.txt` (Algorithm 1, from one track to a library)",
         "index a folder (incremental, resumable, Dask for many machines), search it by example with Yes/No, "
         "filters, CSV/JSON/zip export, near-duplicates",
         library_cell(), "—"),
        ("Effect emulation", "`effect-emulation.txt`",
         "ten effects with a slider per knob, neural vs real (pedalboard), "
         "polyphonic pitch shift, ABX test, capture your own gear and export a NAM `.nam`",
         effects_real_cell(),
         f"{closer} of {len(effects)} bundled models closer to the effect than the clean input by ESR and MR-STFT"),
        ("MIDI generation", "`midi-generation.txt`",
         "LSTM / GAN melodies, alone or arranged (chords, bass, drums in five "
         "styles), a hummed or played primer, audio, MIDI, piano roll, log-mel/chroma/ZCR vs a real tune",
         "compared with held-out real tunes (music21's Essen corpus)",
         "; ".join(beats(m) for m in ("lstm", "gan")) + " distance-to-real metrics"
         + (f"; primer transcription note F {transcription_f['mean_f_150ms']:.2f} (onsets ±150 ms) on held-out tunes "
            "rendered here" if transcription_f else "")),
    ]
    lines = ["| tab | paper | what you get | on real recordings | on generated data |",
             "| --- | --- | --- | --- | --- |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


SEARCH_ROWS = (("naive", "Naive nearest neighbour, MFCC, no feedback (the paper's baseline)"),
               ("mfcc", "MFCC, with feedback"), ("learned", "**Learned encoder (bundled), with feedback**"),
               ("representative", "Learned encoder trained on the evaluation tracks' audio, no labels (the paper's "
                                  "\"representative\" protocol)"),
               ("mel", "**Whitened log-mel (ours; the tab's default), with feedback**"),
               ("naive-learned", "Learned encoder, no feedback"))
SEARCH_PAIRS = {"mfcc-naive": "MFCC with feedback − naive", "learned-naive": "learned with feedback − naive",
                "learned-mfcc": "learned − MFCC", "mel-mfcc": "whitened log-mel − MFCC",
                "mel-learned": "whitened log-mel − learned"}


@from_figure("search_eval.json",
             "(run `python -m core.search.evaluate --data .cache/search/eval --out docs/figures/search_eval.json`)")
def search_recall(d: dict) -> str:
    """The search tab's results per genre (samples, then loops), from the evaluate command's JSON."""
    table = dict(d["table"])
    rep = FIG / "search_eval_representative.json"
    if rep.exists():  # the encoder trained the paper's "representative" way, evaluated by the same command
        r = json.loads(rep.read_text())["table"]
        table.update({f"representative/{kind}": r[f"learned/{kind}"] for kind in ("sample", "loop")
                      if f"learned/{kind}" in r})
    genres = [g for g in next(iter(table.values())) if g not in ("all", "n")]
    out = []
    for kind, title in (("sample", "samples"), ("loop", "loops")):
        n = table[f"naive/{kind}"]["n"]
        out += [f"| {title} ({n} sounds) | " + " | ".join(g.replace("_", " ") for g in genres) + " | all |",
                ("| --- | " + "---: | " * (len(genres) + 1)).rstrip()]
        out += [f"| {label} | " + " | ".join(f"{table[f'{key}/{kind}'][g]:.3f}" for g in genres + ["all"]) + " |"
                for key, label in SEARCH_ROWS if f"{key}/{kind}" in table]
        out.append("")
    return "\n".join(out[:-1]) + f"\n\n{d['tracks']} tracks (`{d['data']}`), patience {d['patience']}."


@from_figure("search_eval.json", "(run the search evaluate command above)")
def search_paired(d: dict) -> str:
    """Paired differences with their 95 % bootstrap intervals, from the same JSON."""
    def cell(c):
        return f"{c['mean']:+.3f} ({c['ci95'][0]:+.3f} to {c['ci95'][1]:+.3f})".replace("-", "−")

    rows = ["| difference in recall | samples | loops |", "| --- | --- | --- |"]
    for key, label in SEARCH_PAIRS.items():
        a, b = key.split("-", 1)
        pair = {kind: d["paired"].get(f"{a} - {b} / {kind}") for kind in ("sample", "loop")}
        if all(pair.values()):
            rows.append(f"| {label} | {cell(pair['sample'])} | {cell(pair['loop'])} |")
    return "\n".join(rows)


def effects_results() -> str:
    """The effect models' held-out figures, from their cards (``python -m core.effects.evaluate --markdown``)."""

    from core.effects.evaluate import markdown_table

    return markdown_table()


def effects_knob_grid() -> str:
    """Each conditioned effect model's held-out ESR across its knob grid, from the cards."""

    from core.effects.evaluate import knob_grid_table

    return knob_grid_table()


@from_figure("effects_real.json", "(run `python -m core.effects.evaluate --real --write`)")
def effects_real(d: dict) -> str:
    """Every bundled effect model on real recordings (core.effects.real)."""

    from core.effects.evaluate import real_table

    return real_table(d)


@from_figure("pitch_choice.json", "(run `python -m core.effects.evaluate --pitch-choice --write`)")
def pitch_choice(d: dict) -> str:
    """The pitch-shifter candidates against Rubber Band on real recordings."""

    from core.effects.evaluate import pitch_table

    return pitch_table(d)


@from_figure("nam_compare.json", "(run `python bench/bench_nam_compare.py --write`)")
def nam_compare(d: dict) -> str:
    """NAM's own trainer against ours on the same pairs (held-out ESR, training wall time)."""
    systems = list(next(iter(d["pairs"].values()))["systems"])
    rows = ["| pair | clean ESR | " + " | ".join(f"{s} ESR / train s" for s in systems) + " |",
            "|---|---:|" + "---:|" * len(systems)]
    for name, pair in d["pairs"].items():
        cells = []
        for s in systems:
            r = pair["systems"].get(s)
            cells.append("–" if r is None else f"{r['esr']:.4g} / {r['train_s']:.0f}")
        rows.append(f"| {name} | {pair.get('esr_clean_vs_effect', float('nan')):.4g} | " + " | ".join(cells) + " |")
    first = next(iter(d["pairs"].values()))["systems"]
    budget = "; ".join(f"{s}: {r.get('epochs') or r.get('steps')} {'epochs' if r.get('epochs') else 'steps'}, "
                       f"{r['params']} parameters" for s, r in first.items())
    return "\n".join(rows + ["", f"`{d['command']}` ({d['total_s']:.0f} s; one CPU thread each, 1-minute load average "
                               f"{d['load_avg_1min']} on 2 cores). Held-out = the last 20% of each aligned pair; ESR "
                               f"of the last epoch/step's model. {budget}."])


@from_figure("effects_speed.json", "(run `python bench/bench_effects.py --write`)")
def effects_speed(d: dict) -> str:
    """Every effect model's speed on one CPU thread, and whether it meets 10x real time."""
    rows = ["| model | structure | params | weights | xRT wall | xRT CPU time | ≥ 10× real time |",
            "|---|---|---:|---:|---:|---:|:---:|"]
    for name, m in d["models"].items():
        size = f"{m['size_kb']:.1f} KB" if m.get("size_kb") is not None else "—"
        rows.append(f"| {name} | {m['kind']} | {m['params']} | {size} | {m['xRT_wall']:.1f} | {m['xRT_cpu']:.1f} | "
                    f"{'yes' if min(m['xRT_wall'], m['xRT_cpu']) >= 10 else '**no**'} |")
    gpu = any("gpu" in m for m in d["models"].values())
    return "\n".join(rows + ["", f"`{d['command']}`: {d['audio_seconds']:g} s of audio at {d['sample_rate']} Hz, one "
                               f"CPU thread, best of the repeats; 1-minute load average {d['load_avg_1min']} on 2 cores"
                               + ("." if gpu else "; no GPU in that session.")])


@from_figure("transcription_eval.json", "(run `python -m core.generation.transcribe --evaluate --write`)")
def transcription(d: dict) -> str:
    """The primer transcriber's note F-measure per instrument, on held-out tunes rendered here."""
    rows = ["| instrument | F (onset ±50 ms) | P / R (±50 ms) | F (onset ±150 ms) |", "|---|---:|---:|---:|"]
    for name, v in d["instruments"].items():
        a, b = v["50ms"], v["150ms"]
        rows.append(f"| {name} | {a['f']:.2f} | {a['precision']:.2f} / {a['recall']:.2f} | {b['f']:.2f} |")
    rows.append(f"| **mean** | **{d['mean_f_50ms']:.2f}** | | **{d['mean_f_150ms']:.2f}** |")
    return "\n".join(rows + ["", f"`{d['command']}`: the melody (one line) against the notes played, mir_eval "
                              f"`precision_recall_f1_overlap` with offsets ignored; {d['tunes']} held-out Essen tunes, "
                              f"first {d['quarters']:g} beats at {d['tempo']:g} BPM, through {d['soundfont']}. "
                              f"Transcribing 10 s of audio takes {d['seconds_per_10s_of_audio']:.2f} s on one core."])


@from_figure("generation_speed.json", "(run `python bench/bench_generation.py --write`)")
def generation_speed(d: dict) -> str:
    """Generating (and arranging) and rendering 30 s of music per model, one torch thread as the app serves."""
    rows = ["| 30 s of music, one torch thread (median of 5) | generate | generate + render through FluidSynth |",
            "|---|---:|---:|"]
    for name, label in (("lstm", "LSTM"), ("gan", "GAN"), ("markov", "Markov chain"), ("random", "random notes")):
        rows.append(f"| {label} | {d[f'{name}_generate_s']:.2f} s | {d[f'{name}_generate_and_render_s']:.2f} s |")
    rows.append(f"| LSTM, arranged for a folk band (melody, chords, bass, drums) | – | "
                f"{d['lstm_generate_arrange_render_s']:.2f} s |")
    return "\n".join(rows + ["",
                             f"`{d['command']}` on {d['cpu_count']} CPU cores at load average {d['load_average']:g} "
                               f"(target: under 1 s). The analysis and the four plots take "
                               f"{d['analysis_and_plots_s']:.2f} s more; the tab's whole request (piece, real tune, "
                               f"both analyses) {d['compose_lstm_30s_end_to_end_s']:.2f} s before drawing."])


GEN_SYSTEMS = (("lstm", "LSTM"), ("gan", "GAN (LSTM trained adversarially)"), ("markov", "Markov chain (baseline)"),
               ("random", "Random notes (baseline)"),
               ("real_training_tunes", "real tunes (training set, each in its held-out tune's meter)"),
               ("held_out_tunes", "held-out real tunes (reference)"))
GEN_DISTANCES = (("pitch_class_histogram", "pitch-class histogram (L1)"), ("pitch_range", "pitch range (semitones)"),
                 ("scale_consistency", "scale consistency"), ("note_length", "note-length histogram (L1)"),
                 ("repetition", "repetition"))
GEN_MUSPY = (("pitch_class_entropy", "pitch-class entropy"), ("scale_consistency", "scale consistency"),
             ("empty_beat_rate", "empty-beat rate"), ("groove_consistency", "groove consistency"),
             ("polyphony", "polyphony"))


@from_figure("generation_eval.json", "(run `python -m core.generation.evaluate --pieces 752 --write-cards --write`)")
def generation_metrics(d: dict) -> str:
    """Distances to the held-out tunes (lower is better; the best network bold where it beats the Markov chain),
    the copy check, and muspy's metrics beside the real tunes' own values."""
    head = "| system | " + " | ".join(label for _, label in GEN_DISTANCES) + " | longest n-gram shared with training |"
    rows = [head, "|---|" + "---:|" * (len(GEN_DISTANCES) + 1)]
    for key, label in GEN_SYSTEMS:
        row = d.get(key, {})
        cells = []
        for m, _ in GEN_DISTANCES:
            v = row.get(m)
            beats = key in ("lstm", "gan") and v is not None and v < d["markov"][m]
            sd = row.get("spread", {}).get(m)
            text = ("–" if v is None
                    else (f"**{v:.3f}**" if beats else f"{v:.3f}") + (f" ±{sd:.3f}" if sd is not None else ""))
            cells.append(text)
        copy = row.get("copy_longest_ngram")
        rows.append(f"| {label} | " + " | ".join(cells) + f" | {'–' if copy is None else f'{copy:.1f}'} |")
    mus = d.get("muspy", {})
    rows += ["", "| system (muspy) | " + " | ".join(label for _, label in GEN_MUSPY) + " |",
             "|---|" + "---:|" * len(GEN_MUSPY)]
    for key, label in GEN_SYSTEMS:
        if key in mus:
            rows.append(f"| {label} | " + " | ".join("–" if mus[key].get(m) is None else f"{mus[key][m]:.3f}"
                                                    for m, _ in GEN_MUSPY) + " |")
    gaps = d.get("repeat_gaps") or {}
    if gaps:
        rows += ["", "| where a repeated 4-interval pattern was last heard (share of all patterns) | within 12 notes | "
                     "13–24 notes before | 25 or more |", "|---|---:|---:|---:|"]
        rows += [f"| {label} | " + " | ".join(f"{gaps[key][g]:.3f}" for g in ("1-12", "13-24", "25+")) + " |"
                 for key, label in GEN_SYSTEMS if key in gaps]
    cond = d.get("conditioning") or {}
    if cond:
        rows += ["", "| LSTM asked for (style, meter) | share of 16ths | 8ths | quarters | halves | wholes |",
                 "|---|---:|---:|---:|---:|---:|"]
        rows += [f"| {k} | " + " | ".join(f"{v[x]:.2f}" if x in v else ""
                                          for x in ("0.25", "0.5", "1.0", "2.0", "4.0")) + " |"
                 for k, v in cond.items()]
    wins = {k: sum(d[k][m] < d["markov"][m] for m, _ in GEN_DISTANCES) for k in ("lstm", "gan")}
    val_path = FIG / "generation_eval_validation.json"
    if val_path.exists():  # the same systems on the networks' validation tunes, where settings were chosen
        v = json.loads(val_path.read_text())
        def verdict(k: str) -> str:
            lost = [(m, label) for m, label in GEN_DISTANCES if v[k][m] >= v["markov"][m]]
            why = ", ".join(f"{label}: {v[k][m]:.3f} against {v['markov'][m]:.3f}" for m, label in lost)
            return (f"the {k.upper()} beats the chain on {len(GEN_DISTANCES) - len(lost)} of 5"
                    + (f" (not on {why})" if lost else ""))

        rows += ["", f"On the {v['reference_tunes']} validation tunes (`python -m core.generation.evaluate --split "
                     f"validation --pieces {2 * v['reference_tunes']} --out "
                     "docs/figures/generation_eval_validation.json`; "
                     "the chain was trained on them): " + "; ".join(verdict(k) for k in ("lstm", "gan")) + "."]
    return "\n".join(rows + ["", f"`{d['command']}`: {d['pieces']} pieces per model at temperature 1.0 against the "
                               f"{d.get('reference_tunes', 'the')} held-out Essen tunes, "
                               "each piece as long as the held-out tune it stands beside and asked "
                               "for its meter (range and repetition grow with length). Distances: lower is better; "
                               f"bold where a network beats the Markov chain (the LSTM on {wins['lstm']} of 5, "
                               f"the GAN on {wins['gan']} of 5); ± is the standard "
                               f"deviation over {d.get('bootstrap', 200)} resamples of each system's pieces (a "
                               "difference smaller than it is not a firm win). muspy: the closer "
                               "to the real tunes' row, the better."])


def blocks() -> dict[str, str]:
    out = {"overview": overview(), "generation-metrics": generation_metrics(), "generation-speed": generation_speed(),
           "transcription": transcription(), "effects-results": effects_results(), "effects-speed": effects_speed(),
           "effects-knob-grid": effects_knob_grid(), "effects-real": effects_real(), "pitch-choice": pitch_choice(),
           "nam-compare": nam_compare(), "search-recall": search_recall(), "search-paired": search_paired(),
           "real-summary": real_summary(), "backbone-bench": bench(), "search-musicnn": search_musicnn(),
           "runtime-real-dev": runtime_real_dev(),
           "memory": memory(), "soak": soak(), "tempo": tempo(), "fairness": fairness(),
           "mix-threshold": mix_threshold(),
           "mix-instruments": mix_instruments(),
           "latency": latency(), "tempo-real": tempo_real(), "key-chords": key_chords(),
           "analysis-speed": analysis_speed(), "speed": speed()}
    for task in ("genre", "instruments"):
        for kind in ("backbone", "prior"):
            md = FIG / f"{task}_{kind}.md" if kind == "prior" else FIG / f"{task}_backbone_eval.md"
            if md.exists():
                out[f"{kind}-{task}"] = md.read_text().strip()
    dev = ROOT / "docs" / "real_dev_set.md"
    if dev.exists():
        text = dev.read_text()
        out["real-dev-set"] = text[text.index("## genre"):].replace("## ", "#### ").strip()
    return out


def main():
    """Every block into README.md, and into the docs/*.md write-ups that carry the same markers."""
    bodies = blocks()
    found = set()
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text()
        for name, body in bodies.items():
            pattern = re.compile(rf"(<!-- BEGIN {name} -->).*?(<!-- END {name} -->)", re.S)
            if pattern.search(text):
                found.add(name)
                text = pattern.sub(lambda m: m.group(1) + "\n" + body + "\n" + m.group(2), text)
        path.write_text(text)
    for name in sorted(set(bodies) - found):
        print(f"no document has a {name} block; skipped")


if __name__ == "__main__":
    main()
