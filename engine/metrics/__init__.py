"""Scores shared by compression and evaluation: perplexity, classification metrics."""
