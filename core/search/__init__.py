"""Loop and sample search with yes/no feedback (Jakubik, "Searching for loops and sound samples with feature
learning")."""
from core.search.api import (
    PATIENCE,
    SearchEnded,
    SearchSession,
    Track,
    Workspace,
    check_query,
    get_best_samples,
    prepare,
    session,
)
from core.search.spaces import SPACES, load

__all__ = ["PATIENCE", "SPACES", "SearchEnded", "SearchSession", "Track", "Workspace", "check_query",
           "get_best_samples", "load", "prepare", "session"]
