"""Search speed of the sample library at 10,000 and 1,000,000 files (synthetic vectors; no audio).

    python bench/bench_library.py            # → docs/figures/library_bench.json and the table in docs/library.md
    python bench/bench_library.py --from-json   # only rewrite the docs table

Times what a user waits for: loading the matrix into a Catalog (once per search), the first ranking, and a
Yes/No answer's re-rank plus the next top 10 (Rocchio + one matrix-vector product + argpartition). The goal:
query + re-rank < 100 ms at 10,000 files.
"""
from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from core.library.evaluate import write_block
from core.library.search import Catalog, LibrarySearch

OUT = Path(__file__).resolve().parents[1] / "docs" / "figures" / "library_bench.json"
DOC = Path(__file__).resolve().parents[1] / "docs" / "library.md"
MARK = ("<!-- library-bench:start -->", "<!-- library-bench:end -->")


def bench(n: int, dims: int = 400, answers: int = 10, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, dims), dtype=np.float32)
    paths = [f"s/{i:07d}.wav" for i in range(n)]
    t0 = time.perf_counter()
    cat = Catalog(paths, {"musicnn": X, "mel": X[:, :1]}, np.ones(n), [[] for _ in range(n)], [None] * n)
    load = time.perf_counter() - t0
    del X
    t0 = time.perf_counter()
    s = LibrarySearch(cat, rng.standard_normal(dims).astype(np.float32), space="musicnn")
    top = s.results(10)
    first = time.perf_counter() - t0
    rerank = []
    for k in range(answers):
        t0 = time.perf_counter()
        s.answer(top[0].path, yes=bool(k % 2))
        top = s.results(10)
        rerank.append(time.perf_counter() - t0)
    return {"files": n, "dims": dims, "catalog_build_s": round(load, 3), "first_query_ms": round(1000 * first, 2),
            "rerank_ms_median": round(1000 * float(np.median(rerank)), 2),
            "rerank_ms_max": round(1000 * float(np.max(rerank)), 2),
            "query_plus_rerank_ms": round(1000 * (first + float(np.median(rerank))), 2)}


def table(res: dict) -> str:
    lines = ["| files | dims | build the in-memory catalog | first query | one Yes/No re-rank + top 10 (median / max) "
             "| query + re-rank |", "|---|---|---|---|---|---|"]
    for r in res["runs"]:
        lines.append(f"| {r['files']:,} | {r['dims']} | {r['catalog_build_s']:.2f} s | "
                     f"{r['first_query_ms']:.1f} ms | "
                     f"{r['rerank_ms_median']:.1f} / {r['rerank_ms_max']:.1f} ms | "
                     f"{r['query_plus_rerank_ms']:.1f} ms |")
    m = res["machine"]
    lines.append(f"\n{m['cpus']} CPU cores ({m['note']}), numpy {m['numpy']}. Goal: {res['goal']}.")
    return "\n".join(lines)


def main() -> None:
    import os

    import numpy

    if "--from-json" in sys.argv:
        res = json.loads(OUT.read_text())
    else:
        res = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "numpy": numpy.__version__,
                           "note": "shared with other work"},
               "goal": "query + re-rank < 100 ms at 10,000 files", "runs": [bench(10_000), bench(1_000_000)]}
        OUT.write_text(json.dumps(res, indent=1))
    write_block(DOC, MARK, table(res))
    print(table(res))


if __name__ == "__main__":
    main()
