"""The SQLite workspace: the single source of truth of Enclave."""

from engine.store.connection import StoreCorrupted, open_store

__all__ = ["StoreCorrupted", "open_store"]
