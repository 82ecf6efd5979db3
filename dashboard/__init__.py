"""The labelwatch Streamlit dashboard. It renders what the store holds; it computes nothing."""
