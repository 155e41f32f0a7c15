"""python -m core.library index DIR | search QUERY --library DIR | duplicates DIR (see docs/library.md)."""
from __future__ import annotations

import argparse
import json
import sys

from core.library.duplicates import find_duplicates
from core.library.index import DEFAULT_SPACE, SPACES, LibraryError, index
from core.library.search import Filters, LibrarySearch


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m core.library", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("index", help="index a folder (incremental)")
    a.add_argument("dir")
    a.add_argument("--db", default=None, help="index file (default DIR/.studio-library.sqlite)")
    a.add_argument("--workers", choices=("dask", "none"), default="none",
                   help="dask: analyse the files on a local two-worker Dask cluster")
    b = sub.add_parser("search", help="rank the library by similarity to QUERY")
    b.add_argument("query")
    b.add_argument("--library", required=True)
    b.add_argument("--db", default=None)
    b.add_argument("--k", type=int, default=10)
    b.add_argument("--space", choices=SPACES, default=DEFAULT_SPACE)
    b.add_argument("--tag", default=None)
    b.add_argument("--min-s", type=float, default=None)
    b.add_argument("--max-s", type=float, default=None)
    b.add_argument("--bpm", type=float, default=None)
    b.add_argument("--key", default=None, help='e.g. "A minor": that key or its relative major/minor')
    b.add_argument("--json", action="store_true", help="print JSON instead of a table")
    c = sub.add_parser("duplicates", help="groups of files that are the same sound")
    c.add_argument("dir")
    c.add_argument("--db", default=None)
    args = p.parse_args(argv)
    try:
        if args.cmd == "index":
            def show(f, msg):
                print(f"\r{100 * f:5.1f}% {msg[:70]:70s}", end="", file=sys.stderr, flush=True)
            r = index(args.dir, args.db, progress=show, engine="dask" if args.workers == "dask" else "local")
            print(file=sys.stderr)
            print(r.summary())
            for path, reason in r.errors:
                print(f"  unreadable: {path}: {reason}")
        elif args.cmd == "search":
            f = Filters(tag=args.tag, min_s=args.min_s, max_s=args.max_s, bpm=args.bpm, key=args.key)
            root = None if args.db is None else args.library
            s = LibrarySearch(args.db or args.library, args.query, args.space, f, root=root)
            res = s.results(args.k)
            if args.json:
                print(json.dumps([r.to_dict() for r in res], indent=1))
            else:
                for r in res:
                    bpm = "" if r.bpm is None else f"{r.bpm:6.1f} bpm"
                    print(f"{r.score:6.3f}  {r.duration:6.2f} s  {bpm:10s} {r.key or '':9s} {r.path}  "
                          f"[{', '.join(r.tags)}]")
        else:
            gs = find_duplicates(args.dir, args.db)
            for g in gs:
                print(f"{g.similarity:.4f}  " + "  |  ".join(g.paths))
            print(f"{len(gs)} group(s)")
    except LibraryError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
