import numpy as np

from engine.store import embeddings, open_store
from engine.store.schema import MIGRATIONS, migrate, version


def test_embeddings_migration_creates_the_cache_table(tmp_path):
    import sqlite_utils

    number = [m.__name__ for m in MIGRATIONS].index("_v3_embeddings") + 1
    db = sqlite_utils.Database(tmp_path / "w.sqlite3")
    migrate(db, target=number - 1)
    assert "embeddings" not in db.table_names()
    migrate(db, target=number)
    assert version(db) == number
    assert db["embeddings"].pks == ["content_hash", "model"]


def test_vectors_round_trip_as_float16_per_model(tmp_path):
    db = open_store(tmp_path / "w.sqlite3")
    vectors = np.random.default_rng(0).normal(size=(3, 8)).astype(np.float32)
    assert embeddings.store(db, ["a", "b", "c"], "m1", vectors) == 3
    found = embeddings.lookup(db, ["a", "c", "zz", "a"], "m1")
    assert sorted(found) == ["a", "c"]
    assert np.allclose(found["c"], vectors[2], atol=1e-2)
    assert embeddings.lookup(db, ["a"], "other-model") == {}
    assert embeddings.count(db) == 3 and embeddings.forget(db, "m1") == 3
