"""Coreset selection: embeddings, k-means coreset and baselines."""
