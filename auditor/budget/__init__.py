"""Budget and labeling efficiency: pure computation over annotation events and label counts.

effort: hours, labels per hour, seconds per label, rework and audit acceptance.
money: exact (Decimal) spend, unit costs, cost per correct label, savings.
forecast: burn rate, projected spend and exhaustion date with intervals.
goals: goal status (on_track / at_risk / off_track) with the reason.
No duckdb, apscheduler or streamlit here: `auditor.store.budget_io` reads the inputs and
`auditor.jobs.budget` writes the results.
"""
