"""Hidden-state embeddings and the IFD score with a tiny Llama (SmolLM2 tokenizer)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.models.threads import free_cores, machine_cores, torch_threads
from engine.select.cache import embed_cached, model_id
from engine.select.embed_llm import embed_with_llm
from engine.select.ifd import ifd_scores, ifd_scores_cached
from engine.select.scores import choose_score
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


def test_ifd_scoring_cancelled_part_way_keeps_what_it_finished(tiny_llama, tmp_path,
                                                               monkeypatch):
    from engine.progress import Cancelled, Reporter
    from engine.select import ifd

    monkeypatch.setattr(ifd, "CACHE_EVERY", 2)
    records = _tiny_lm().tiny_records(6)
    events: list = []
    db = open_store(tmp_path / "w.sqlite3")
    with pytest.raises(Cancelled):  # asked to stop once the first records were scored
        ifd_scores_cached(db, records, tiny_llama, Reporter(events.append, lambda: bool(events)))
    assert embeddings.count(db) == 2
    finished: list = []
    resumed = ifd_scores_cached(db, records, tiny_llama, Reporter(finished.append))
    assert embeddings.count(db) == 6
    assert finished[-1].step == finished[-1].total == 8  # only the 4 records left were scored
    assert finished[-1].message == "Scored 4/4 records"
    fresh = ifd_scores_cached(open_store(tmp_path / "other.sqlite3"), records, tiny_llama)
    assert np.allclose(resumed, fresh, atol=2e-3)  # float16 in the cache


def test_a_text_that_appears_twice_is_scored_once(tiny_llama, tmp_path):
    from engine.progress import Reporter

    first, second = _tiny_lm().tiny_records(2)
    events: list = []
    db = open_store(tmp_path / "w.sqlite3")
    scores = ifd_scores_cached(db, [first, second, dict(first)], tiny_llama,
                               Reporter(events.append))
    assert embeddings.count(db) == 2 and scores[0] == scores[2]
    assert events[-1].total == 4 and events[-1].message == "Scored 2/2 records"


def _one_pass_loss(model, tokenizer, context: str, response: str) -> float:
    """The model's own loss on one unpadded sequence: the reference the batched scorer meets."""
    import torch

    context_ids = tokenizer(context, add_special_tokens=False)["input_ids"] if context else []
    response_ids = tokenizer(response, add_special_tokens=False)["input_ids"]
    ids = context_ids + response_ids
    labels = [-100] * len(context_ids) + response_ids
    if not context_ids:
        labels[0] = -100
    with torch.inference_mode():
        return float(model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels])).loss)


def test_batched_ifd_equals_one_record_at_a_time_and_the_models_own_loss(tiny_llama):
    from engine.models.loading import load_causal_lm, load_tokenizer

    records = _tiny_lm().tiny_records(7) + [
        {"prompt": "Summarise the discharge plan for a patient with a much longer prompt "
                   "than the others, so that batches need padding.",
         "response": "Rest, fluids, and a follow-up visit in two weeks with the clinic."},
        {"prompt": "Say yes.", "response": "yes"}]
    batched = ifd_scores(records, tiny_llama, batch_size=8)
    single = ifd_scores(records, tiny_llama, batch_size=1, threads=1)
    assert np.allclose(batched, single, rtol=1e-4)
    model, tokenizer = load_causal_lm(tiny_llama), load_tokenizer(tiny_llama)
    reference = [_one_pass_loss(model, tokenizer, r["prompt"] + "\n", r["response"])
                 / _one_pass_loss(model, tokenizer, "", r["response"])
                 for r in records[:-1]]
    assert batched[-1] == 1.0  # "yes" is one token: no response-alone loss
    assert np.allclose(batched[:len(reference)], reference, rtol=1e-4)


def test_ifd_refuses_records_without_prompt_and_response(tiny_llama):
    with pytest.raises(ValueError, match="record 1 has no prompt/response"):
        ifd_scores([{"prompt": "a", "response": "b"}, {"text": "c"}], tiny_llama)


def test_thread_pool_is_sized_to_free_cores_and_restored():
    import torch

    assert 1 <= free_cores() <= machine_cores()
    before = torch.get_num_threads()
    with torch_threads(1) as count:
        assert count == 1 and torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
