"""The demo workspace: a generated, decomposed labeling project loaded like real data."""
