"""Reusable widgets: table models, delegates, charts."""
