"""The audit loop outside the store (pure: no DuckDB): sampling rounds, estimators, and
reading auditors' submission files (``auditor.audit.submissions``).

Queue, corrections and adjudication reads and writes are in ``auditor.store.audit_io``.
"""
