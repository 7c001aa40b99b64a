"""Builds the real-text near-duplicate benchmark (see datasets/README.md,
section "Real-text benchmark"). Entry point: scripts/fetch-real-corpus."""
