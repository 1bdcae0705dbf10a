"""Enclave engine: everything that computes. Never imports Qt."""

from engine import offline as _offline

_offline.enforce()

__version__ = "0.1.0"
