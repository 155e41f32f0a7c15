"""A producer's sample library: index a folder, search it by example with Yes/No feedback, find near-duplicates.

    from core.library import index, LibrarySearch, Filters, find_duplicates
    index("~/Samples")                                  # incremental; DIR/.studio-library.sqlite
    s = LibrarySearch("~/Samples", "query.wav", space="aisfx", filters=Filters(tag="kick"))
    find_duplicates("~/Samples")

Engine only (no gradio); the CLI is ``python -m core.library``. See docs/library.md.
"""
from core.library.duplicates import DuplicateGroup, find_duplicates
from core.library.index import (
    DB_NAME,
    IndexReport,
    LibraryBusy,
    LibraryError,
    analyse,
    default_db,
    index,
)
from core.library.search import PATIENCE, Catalog, Filters, LibrarySearch, Result, SearchEnded, search

__all__ = ["DB_NAME", "PATIENCE", "Catalog", "DuplicateGroup", "Filters", "IndexReport", "LibraryBusy",
           "LibraryError", "LibrarySearch", "Result", "SearchEnded", "analyse", "default_db", "find_duplicates",
           "index", "search"]
