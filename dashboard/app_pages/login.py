"""Sign in: the only page an unauthenticated visitor sees."""

from __future__ import annotations

import streamlit as st

from dashboard.session import authenticator, settings

st.title("labelwatch")
st.caption("Sign in to see the workspace.")
config = settings()
with st.form("login"):
    username = st.text_input("Username")
    password = st.text_input("Password", type="password")
    submitted = st.form_submit_button("Sign in")
if submitted:
    client = st.context.headers.get("X-Forwarded-For", "") if st.context.headers else ""
    result = authenticator(str(config.users_file)).login(username, password, client=client)
    if result.user is None:
        st.error(result.reason)
    else:
        st.session_state["user"] = result.user
        st.rerun()
