"""The DuckDB store shared by every stage."""

from toolforge.store.db import DEFAULT_DB, Store, open_store
from toolforge.store.select import STATUSES, Selection, make_selection

__all__ = ["DEFAULT_DB", "STATUSES", "Selection", "Store", "make_selection", "open_store"]
