"""Write the measured tables into README.md between their markers, from the JSON the evaluate commands wrote.

    python scripts/update_readme_tables.py

Blocks: ``<!-- BEGIN real-summary -->`` (real recordings first, both tasks), ``<!-- BEGIN backbone-genre -->``,
``<!-- BEGIN backbone-instruments -->`` (the full tables from ``docs/figures/<task>_backbone_eval.md``),
``<!-- BEGIN real-dev-set -->`` (counts per class, from ``docs/real_dev_set.md``) and ``<!-- BEGIN backbone-bench -->``
(``docs/figures/backbone_bench.json``, written by ``python bench/bench_backbones.py --write``).
No figure in these blocks is typed by hand.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIG = ROOT / "docs" / "figures"


def _best_paper(real: dict) -> tuple[str, float]:
    papers = {k: v["macro_accuracy"] for k, v in real.items() if k.startswith("paper ") and v["macro_accuracy"] is not None}
    if not papers:
        return "paper —", float("nan")
    name = max(papers, key=papers.get)
    return name, papers[name]


def real_summary() -> str:
    rows = ["| task | real dev: musicnn head (default) | best paper network | zero-shot tags | measured classes (n recordings) | held-out generated: head / paper CNN |",
            "| --- | --- | --- | --- | --- | --- |"]
    for task in ("genre", "instruments"):
        path = FIG / f"{task}_backbone_eval.json"
        if not path.exists():
            continue
        r = json.loads(path.read_text())
        real = r["real_dev"]
        head = real["musicnn head (chosen, grouped CV)"]
        pname, pval = _best_paper(real)
        per = head["per_class"]
        gen = r["generated_heldout"]
        rows.append(f"| {task} | **{head['macro_accuracy']:.2f}** macro accuracy ({head['macro_accuracy'] - pval:+.2f} vs best paper) "
                    f"| {pname[6:]} {pval:.2f} | {real['zero-shot tags']['macro_accuracy']:.2f} | "
                    + ", ".join(f"{c} ({per[c]['n']})" for c in head["measured_classes"])
                    + f" | {gen['musicnn head (chosen)']['accuracy']:.2f} / {gen.get('paper cnn', {}).get('accuracy', float('nan')):.2f} |")
    return "\n".join(rows)


def bench() -> str:
    path = FIG / "backbone_bench.json"
    if not path.exists():
        return "(run `python bench/bench_backbones.py --write`)"
    b = json.loads(path.read_text())
    return ("| measure (2 CPU threads, median of 3 after a warm-up) | float32 | bfloat16 front end | target |\n"
            "| --- | --- | --- | --- |\n"
            f"| one backbone (MTT), 3-min song, network only | {b['mtt_3min_network_fp32_s']:.2f} s | {b['mtt_3min_network_bf16_s']:.2f} s | — |\n"
            f"| both backbones, 3-min song (mel + networks) | {b['both_3min_embedding_fp32_s']:.2f} s | {b['both_3min_embedding_bf16_s']:.2f} s | 0.3 s |\n"
            f"| both backbones, 3 s clip | {b['both_3s_clip_fp32_ms']:.0f} ms | {b['both_3s_clip_bf16_ms']:.0f} ms | 20 ms |")


def search_musicnn() -> str:
    """The musicnn frame features as a search space vs today's default, on the development tracks."""
    import sys

    sys.path.insert(0, str(ROOT))
    from core.search.evaluate import markdown

    path = FIG / "search_dev_musicnn.json"
    if not path.exists():
        return "(run the search evaluate command above)"
    d = json.loads(path.read_text())
    return markdown(d["table"]) + f"\n\n{d['tracks']} development tracks (`{d['data']}`), patience {d['patience']}."


def memory() -> str:
    path = FIG / "memory.json"
    if not path.exists():
        return "(run `python bench/bench_memory.py --write`)"
    m = json.loads(path.read_text())
    return (f"With **every** bundled model of every tab loaded ({len(m['models_loaded'])} models, the two musicnn "
            f"backbones included), the process holds **{m['total_mb']:.0f} MB** resident "
            f"(`python bench/bench_memory.py --write`; budget {m['budget_mb'] / 1024:.1f} GB).")


def blocks() -> dict[str, str]:
    out = {"real-summary": real_summary(), "backbone-bench": bench(), "search-musicnn": search_musicnn(),
           "memory": memory()}
    for task in ("genre", "instruments"):
        md = FIG / f"{task}_backbone_eval.md"
        if md.exists():
            out[f"backbone-{task}"] = md.read_text().strip()
    dev = ROOT / "docs" / "real_dev_set.md"
    if dev.exists():
        text = dev.read_text()
        out["real-dev-set"] = text[text.index("## genre"):].replace("## ", "#### ").strip()
    return out


def main():
    readme = ROOT / "README.md"
    text = readme.read_text()
    for name, body in blocks().items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->).*?(<!-- END {name} -->)", re.S)
        if pattern.search(text):
            text = pattern.sub(lambda m: m.group(1) + "\n" + body + "\n" + m.group(2), text)
        else:
            print(f"README has no {name} block; skipped")
    readme.write_text(text)


if __name__ == "__main__":
    main()
