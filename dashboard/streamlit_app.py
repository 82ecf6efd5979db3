"""Dashboard entry point: settings once, sign-in, then the pages the user's role allows.

Unauthenticated visitors get only the sign-in page. Pages: viewer (read) sees the health,
accuracy and budget pages; auditor adds the audit queue; admin adds jobs. Hiding a page
is a convenience: every write checks the role again on the server (dashboard.session.act).
"""

from __future__ import annotations

import streamlit as st

from dashboard.data import load_tasks
from dashboard.session import current_user, settings, sidebar_selection

READ_PAGES = [
    ("app_pages/overview.py", "Overview", ":material/dashboard:"),
    ("app_pages/lfs.py", "Labeling functions", ":material/functions:"),
    ("app_pages/agreement.py", "Agreement", ":material/handshake:"),
    ("app_pages/calibration.py", "Calibration", ":material/tune:"),
    ("app_pages/drift.py", "Drift", ":material/trending_up:"),
    ("app_pages/accuracy.py", "Accuracy and audits", ":material/fact_check:"),
    ("app_pages/budget.py", "Budget", ":material/payments:"),
]
AUDITOR_PAGES = [("app_pages/audit_queue.py", "Audit queue", ":material/rule:")]
ADMIN_PAGES = [("app_pages/jobs.py", "Jobs", ":material/schedule:")]


def main() -> None:
    st.set_page_config(page_title="labelwatch", layout="wide")
    config = settings()
    user = current_user()
    if user is None:
        st.navigation([st.Page("app_pages/login.py", title="Sign in")]).run()
        return
    specs = list(READ_PAGES)
    if user.can("auditor"):
        specs += AUDITOR_PAGES
    if user.can("admin"):
        specs += ADMIN_PAGES
    pages = [
        st.Page(path, title=title, icon=icon, default=i == 0)
        for i, (path, title, icon) in enumerate(specs)
    ]
    st.sidebar.markdown(f"Signed in as **{user.username}** ({user.role})")
    if st.sidebar.button("Sign out"):
        del st.session_state["user"]
        st.rerun()
    sidebar_selection(load_tasks(str(config.db_path), config.lock_timeout_s))
    st.navigation(pages).run()


main()
