"""labelwatch auditor: the service around the label model (store, ingestion, jobs, CLI)."""
