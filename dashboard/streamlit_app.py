"""Dashboard entry point: build Settings once, then route to the pages."""

from __future__ import annotations

import streamlit as st

from auditor.settings import load_settings


def main() -> None:
    st.set_page_config(page_title="labelwatch", layout="wide")
    if "settings" not in st.session_state:
        st.session_state["settings"] = load_settings()
    pages = [st.Page("app_pages/overview.py", title="Overview", default=True)]
    st.navigation(pages).run()


main()
