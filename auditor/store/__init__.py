"""The DuckDB store: schema, migrations, connections and bound queries.

Only this package imports duckdb.
"""

from auditor.store.connection import LockTimeoutError, Store
from auditor.store.migrations import SchemaError, apply_migrations

__all__ = ["LockTimeoutError", "SchemaError", "Store", "apply_migrations"]
