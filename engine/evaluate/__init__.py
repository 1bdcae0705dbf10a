"""Evaluation: perplexity and other scores of base and tuned models."""
