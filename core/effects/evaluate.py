"""Held-out evaluation: ESR and MR-STFT of model-vs-effect and clean-vs-effect, over each model's knob grid.

    python -m core.effects.evaluate                  # re-measure every bundled model (held-out pieces) -> JSON
    python -m core.effects.evaluate --update-cards   # ... and write the figures (knob grid included) into the cards
    python -m core.effects.evaluate --real --write   # on real recordings (core.effects.real)
                                                     # -> docs/figures/effects_real.json
    python -m core.effects.evaluate --pitch-choice --write   # the pitch-shifter candidates on real recordings
    python -m core.effects.evaluate --markdown       # the docs tables, from the model cards
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from core.effects import metrics

FIGURE = Path(__file__).resolve().parents[2] / "docs" / "figures" / "effects_real.json"
PITCH_FIGURE = FIGURE.with_name("pitch_choice.json")
REAL_COMMAND = "python -m core.effects.evaluate --real --write"
PITCH_COMMAND = "python -m core.effects.evaluate --pitch-choice --write"
PITCH_SHIFTS = (-12, -7, -5, 3, 5, 7, 12)


def pitch_choice(sets: dict) -> dict:
    """The pitch-shifter candidates against the real shifter (Rubber Band) on real recordings, at several shifts:
    librosa's ``pitch_shift`` (time stretch + resample), the phase vocoder without and with phase locking (no
    learned tone), the bundled model (phase locking + its learned tone), and the octave divider (-12 only)."""
    import librosa
    import numpy as np

    from core.effects import api, fx
    from core.effects import models as M
    from core.effects.inference import run_model

    bundled = api.load("pitch")
    lo, hi = bundled.net.semitone_range
    plain = {lock: M.PhaseVocoderShift((lo, hi), phase_lock=lock) for lock in (False, True)}
    divider = api.load("octave-divider") if (api.MODELS_ROOT / "octave-divider").is_dir() else None
    rows = {}
    for s in PITCH_SHIFTS:
        c = np.array([(s - lo) / (hi - lo)], np.float32)
        for name, dry in sets.items():
            wet = fx.render("pitch", dry, semitones=s)
            outs = {"clean": dry, "librosa pitch_shift": librosa.effects.pitch_shift(dry, sr=fx.SR, n_steps=s),
                    "vocoder": run_model(plain[False], dry, None, c),
                    "vocoder + phase locking": run_model(plain[True], dry, None, c),
                    "bundled (phase locking + learned tone)": run_model(bundled.net, dry, bundled.config, c)}
            if divider is not None and s == -12:
                outs["octave divider"] = run_model(divider.net, dry, divider.config)
            for cand, out in outs.items():
                rows.setdefault(cand, []).append({"semitones": s, "set": name, "esr": metrics.esr(wet, out),
                                                  "mrstft": metrics.mr_stft(wet, out)})
        print("pitch choice", s, file=sys.stderr, flush=True)
    clean = {(r["semitones"], r["set"]): r for r in rows["clean"]}
    summary = {}
    for cand, rs in rows.items():
        wins = sum(r["esr"] < clean[(r["semitones"], r["set"])]["esr"]
                   and r["mrstft"] < clean[(r["semitones"], r["set"])]["mrstft"]
                   for r in rs)
        summary[cand] = {"mean_esr": round(float(np.mean([r["esr"] for r in rs])), 4),
                         "mean_mrstft": round(float(np.mean([r["mrstft"] for r in rs])), 4),
                         "closer_than_clean": int(wins), "cases": len(rs)}
    return {"command": PITCH_COMMAND, "shifts": list(PITCH_SHIFTS), "sets": list(sets), "summary": summary,
            "rows": rows}


def pitch_table(d: dict) -> str:
    lines = ["| candidate | mean ESR | mean MR-STFT | closer than clean (ESR and MR-STFT) |", "|---|---:|---:|:---:|"]
    for cand, m in d["summary"].items():
        lines.append(f"| {cand} | {m['mean_esr']:.3f} | {m['mean_mrstft']:.3f} | "
                     f"{m['closer_than_clean']}/{m['cases']} |")
    return "\n".join(lines + ["", f"`{d['command']}`: against `PitchShift` (Rubber Band) "
                                  f"at {', '.join(f'{s:+d}' for s in d['shifts'])} "
                               f"semitones on {', '.join(d['sets'])} (the real recordings below); the octave divider "
                               "only at −12, the one shift it makes."])


def evaluate_model(directory) -> dict:
    """:func:`core.effects.metrics.held_out_scores` of the model saved in ``directory``."""
    from core.effects.inference import EffectModel

    m = EffectModel.from_pretrained(directory)
    return metrics.held_out_scores(m.net, m.config)


def _models():
    from core.effects import api

    return [d for d in sorted(api.MODELS_ROOT.iterdir())
            if (d / "model.safetensors").exists() and not d.name.startswith("capture")]


def evaluate_real(directory, sets: dict) -> dict:
    """One model on every real-recording set: the scores at each knob-grid setting (default first)."""
    from core.effects.inference import EffectModel

    m = EffectModel.from_pretrained(directory)
    out = {}
    for name, dry in sets.items():
        out[name] = metrics.grid_scores(m.net, m.config, dry)
    return out


def main():
    import torch

    torch.set_num_threads(1)  # the bench's setting; small sequential models are slower with more threads here

    if "--markdown" in sys.argv:
        print(markdown_table())
        print()
        print(knob_grid_table())
        return
    if "--pitch-choice" in sys.argv:
        from core.effects import real

        result = pitch_choice(real.material())
        if "--write" in sys.argv:
            PITCH_FIGURE.write_text(json.dumps(result, indent=1) + "\n")
        print(json.dumps(result["summary"], indent=1))
        return
    if "--real" in sys.argv:
        from core.effects import real

        t0 = time.time()
        sets = real.material()
        rows = {}
        for d in _models():
            rows[d.name] = evaluate_real(d, sets)
            print(d.name, {k: v[0] for k, v in rows[d.name].items()}, file=sys.stderr, flush=True)
        result = {"command": REAL_COMMAND, "seconds": {k: round(len(v) / 44_100, 1) for k, v in sets.items()},
                  "wall_s": round(time.time() - t0, 1), "models": rows}
        if "--write" in sys.argv:
            FIGURE.write_text(json.dumps(result, indent=1) + "\n")
        print(json.dumps(result)[:2000])
        return

    rows = {}
    for d in _models():
        rows[d.name] = evaluate_model(d)
        if "--update-cards" in sys.argv:  # write the fresh figures into the card
            from core.effects.models import NOTES
            from core.training import read_card, update_card

            card = read_card(d)
            # per-knob figures of an older card format are replaced by the knob grid
            card["metrics"] = {k: v for k, v in card.get("metrics", {}).items() if "@" not in k}
            (d / "card.json").write_text(json.dumps(card, indent=2) + "\n")
            update_card(d, rows[d.name], "python -m core.effects.evaluate --update-cards",
                        notes=NOTES.get(card["config"]["kind"], card.get("notes", "")))
        print(d.name, {k: v for k, v in rows[d.name].items() if k != "knob_grid"}, file=sys.stderr, flush=True)
    print(json.dumps(rows, indent=2))


def _cards(root=None):
    from core.effects import api

    root = Path(root or api.MODELS_ROOT)
    for d in sorted(root.iterdir()):
        card_path = d / "card.json"
        if card_path.exists() and not d.name.startswith("capture"):
            yield d.name, json.loads(card_path.read_text())


def markdown_table(root=None) -> str:
    """The results table of the docs, from the bundled cards (at each model's default knobs)."""
    lines = ["| model | effect | structure | params | ESR model | ESR clean | MR-STFT model | MR-STFT clean | closer "
             "than clean |",
             "|---|---|---|---:|---:|---:|---:|---:|:---:|"]
    for name, card in _cards(root):
        m, c = card["metrics"], card["config"]
        lines.append(f"| {name} | {c['effect']} | {c['kind']} | {card['architecture'].rsplit(', ', 1)[-1].split()[0]} "
                     f"| {m['esr_model']:.4g} | {m['esr_clean']:.4g} | {m['mrstft_model']:.4g} | "
                     f"{m['mrstft_clean']:.4g} | {'yes' if m['closer_than_clean'] else 'no'} |")
    return "\n".join(lines)


def _knobs(k: dict) -> str:
    return ", ".join(f"{n}={v:g}" for n, v in k.items())


def knob_grid_table(root=None) -> str:
    """Per conditioned model: its held-out ESR over the knob grid (default, every corner, each midpoint)."""
    lines = ["| model | knobs (range) | settings | ESR at default | median ESR | worst ESR (at) | clean ESR there | "
             "closer than clean (ESR and MR-STFT) |", "|---|---|---:|---:|---:|---|---:|:---:|"]
    for name, card in _cards(root):
        m, c = card["metrics"], card["config"]
        grid = m.get("knob_grid")
        if not grid:
            continue
        import numpy as np

        worst = max(grid, key=lambda r: r["esr_model"])
        ranges = ", ".join(f"{k} {lo:g}–{hi:g}" for k, (lo, hi) in c["knob_ranges"].items())
        lines.append(f"| {name} | {ranges} | {len(grid)} | {grid[0]['esr_model']:.3g} | "
                     f"{float(np.median([r['esr_model'] for r in grid])):.3g} | {worst['esr_model']:.3g} "
                     f"({_knobs(worst['knobs'])}) | {worst['esr_clean']:.3g} | "
                     f"{m['grid_closer_than_clean']}/{len(grid)} |")
    return "\n".join(lines + ["", "Held-out generated pieces (3 pieces, 32 s with a 2 s tail), every setting rendered "
                               "by the real effect; `python -m core.effects.evaluate --update-cards` writes the grid "
                               "into each card (`knob_grid`)."])


def real_table(d: dict) -> str:
    """Real recordings: per model and set, at the default knobs, and how many grid settings beat clean."""
    sets = list(d["seconds"])
    head = ("| model | " + " | ".join(f"{s} ({d['seconds'][s]:g} s)" for s in sets)
            + " | grid settings closer than clean |")
    lines = [head, "|---|" + "---|" * len(sets) + ":---:|"]
    for name, per_set in d["models"].items():
        cells, wins, total = [], 0, 0
        for s in sets:
            rows = per_set[s]
            r = rows[0]
            ok = metrics.closer(r)
            cells.append(f"{'' if ok else '**✗** '}ESR {r['esr_model']:.3g} ({r['esr_clean']:.3g}); "
                         f"MR-STFT {r['mrstft_model']:.3g} ({r['mrstft_clean']:.3g})")
            wins += sum(map(metrics.closer, rows))
            total += len(rows)
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {wins}/{total} |")
    return "\n".join(lines + ["", f"`{d['command']}` ({d['wall_s']:g} s): model (clean) against the real effect, at "
                               "the default knobs; **✗** where the model is not closer than clean by both measures. "
                               "The last column counts every knob-grid setting on every set."])


if __name__ == "__main__":
    main()
