"""Pure metric functions: arrays in, numbers or small frozen dataclasses out.

No duckdb, apscheduler or streamlit here (and no other part of auditor): the metrics job
(`auditor.jobs.metrics`) reads the store, calls these, and writes the results.
"""
