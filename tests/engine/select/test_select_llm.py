"""Hidden-state embeddings and the IFD score with a tiny Llama (SmolLM2 tokenizer)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.select.cache import embed_cached, model_id
from engine.select.embed_llm import embed_with_llm
from engine.select.scores import choose_score, ifd_scores_cached
from engine.store import embeddings, open_store


def _tiny_lm():
    name = "enclave_tests_tiny_lm"
    if name not in sys.modules:
        path = Path(__file__).parents[1] / "train" / "tiny_lm.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory) -> Path:
    return _tiny_lm().build_tiny_llama(tmp_path_factory.mktemp("tiny_llama"))


def test_llm_hidden_states_are_unit_vectors_independent_of_batching(tiny_llama):
    texts = ["short", "a somewhat longer text about a patient", "mid length one"]
    one = embed_with_llm(texts, tiny_llama, batch_size=1)
    all_at_once = embed_with_llm(texts, tiny_llama, batch_size=8)
    assert one.shape == (3, 64)
    assert np.allclose(np.linalg.norm(one, axis=1), 1, atol=1e-5)
    assert np.allclose(one, all_at_once, atol=1e-4)


def test_llm_embeddings_and_ifd_scores_are_cached(tiny_llama, tmp_path):
    db = open_store(tmp_path / "w.sqlite3")
    texts = [f"Item {i} is red." for i in range(5)]
    first = embed_cached(db, texts, embedding="llm", llm_folder=tiny_llama)
    assert first.model == model_id("llm", tiny_llama) and first.embedded == 5
    assert embed_cached(db, texts, embedding="llm", llm_folder=tiny_llama).embedded == 0
    records = _tiny_lm().tiny_records(6)
    assert choose_score("auto", records) == "ifd"
    scores = ifd_scores_cached(db, records, tiny_llama)
    assert scores.shape == (6,) and np.isfinite(scores).all() and (scores > 0).all()
    rows = embeddings.count(db)
    again = ifd_scores_cached(db, records, tiny_llama)
    assert embeddings.count(db) == rows and np.array_equal(scores, again)
