"""Chat: streamed answers from base and tuned, cancel, held-back redaction, review items."""

import pytest

from engine import paths
from engine.evaluate.chat import ChatRecipe, chat_sides, run_chat, send_to_review, shown_prefix
from engine.evaluate.job import load_side
from engine.progress import Cancelled, Reporter
from engine.store import evaluations, open_store, projects, runs


def _project(tiny_llama_folder):
    db = open_store(paths.workspace_db())
    project_id = projects.create(db, "Chat")
    run_id = runs.create(db, project_id, "train", "tiny", {"base_model": str(tiny_llama_folder)})
    runs.add_artifact(db, project_id, "merged-model", tiny_llama_folder, run_id)
    return db, project_id, run_id


def test_answers_stream_token_by_token_and_match_plain_greedy_generation(tiny_llama_folder):
    from engine.evaluate.generation import generate_answers

    db, _, run_id = _project(tiny_llama_folder)
    assert list(chat_sides(db, run_id)) == ["base", "tuned"]
    events = []
    recipe = ChatRecipe(run_id=run_id, prompt="What colour is item 3?", sides=["base", "tuned"],
                        max_new_tokens=12)
    result = run_chat(db, recipe, Reporter(events.append), load_side)
    base = [e for e in events if e.stage == "base"]
    assert len(base) >= 5 and base[-1].step == base[-1].total == 12
    texts = [e.message for e in base]
    assert all(later.startswith(earlier.strip()) or not earlier.strip()
               for earlier, later in zip(texts, texts[1:]))
    model, tokenizer = load_side(chat_sides(db, run_id)["base"])
    plain = generate_answers(model, tokenizer,
                             [{"prompt": "What colour is item 3?", "response": "x"}],
                             max_new_tokens=12)[0]
    assert result["answers"]["base"] == plain
    assert set(result["answers"]) == {"base", "tuned"}
    sampled = ChatRecipe(run_id=run_id, prompt="What colour is item 3?", temperature=1.0,
                         max_new_tokens=12, seed=7)
    first = run_chat(db, sampled, Reporter(), load_side)["answers"]["tuned"]
    assert first and first == run_chat(db, sampled, Reporter(), load_side)["answers"]["tuned"]


def test_cancel_stops_generation(tiny_llama_folder):
    db, _, run_id = _project(tiny_llama_folder)
    seen = []
    reporter = Reporter(seen.append, lambda: len(seen) > 3)
    with pytest.raises(Cancelled):
        run_chat(db, ChatRecipe(run_id=run_id, prompt="Hello", max_new_tokens=200), reporter,
                 load_side)
    assert len(seen) < 20


def test_a_redacting_project_sees_finished_sentences_only_while_streaming():
    assert shown_prefix("Call Anna", redacts=True, done=False) == ""
    assert shown_prefix("Fine. Call Anna", redacts=True, done=False) == "Fine. "
    assert shown_prefix("Fine. Call Anna", redacts=False, done=False) == "Fine. Call Anna"
    assert shown_prefix("Fine. Call Anna", redacts=True, done=True) == "Fine. Call Anna"


def test_recipe_errors_name_the_field():
    with pytest.raises(ValueError, match="prompt"):
        ChatRecipe(run_id=1, prompt="  ")
    with pytest.raises(ValueError, match="temperature"):
        ChatRecipe(run_id=1, prompt="x", temperature=3)
    with pytest.raises(ValueError, match="sides"):
        ChatRecipe(run_id=1, prompt="x", sides=["base", "tuned", "tuned 8-bit"])


def test_answers_sent_to_review_become_items_of_one_evaluation(enclave_home):
    db = open_store(paths.workspace_db())
    project_id = projects.create(db, "Chat")
    source = runs.create(db, project_id, "train", "tiny")
    review = send_to_review(db, project_id, source, "Dose?", {"base": "a", "tuned": "b"})
    assert send_to_review(db, project_id, source, "Again?", {"tuned": "c"}, review) == review
    items = evaluations.items_by_side(db, review)
    assert [(i["prompt"], i["outputs"]) for i in items] == [
        ("Dose?", {"base": "a", "tuned": "b"}), ("Again?", {"tuned": "c"})]
    assert [r["id"] for r in runs.usable_runs(db, project_id, ("evaluate",))] == [review]
    with pytest.raises(ValueError, match="no answer"):
        send_to_review(db, project_id, source, "x", {"base": " "})


def test_a_compressed_variant_answers_too(tiny_llama_folder, tmp_path):
    from engine.compress.prune import prune_to_folder

    db, project_id, run_id = _project(tiny_llama_folder)
    prune_to_folder(tiny_llama_folder, tmp_path / "pruned", 0.5)
    compress_id = runs.create(db, project_id, "compress", "pruned", {
        "method": "prune", "sparsity": 0.5, "source_run_id": run_id})
    runs.add_artifact(db, project_id, "compressed-model", tmp_path / "pruned", compress_id)
    runs.set_summary(db, compress_id, {"method": "prune", "label": "pruned 50%",
                                       "source_run_id": run_id})
    assert list(chat_sides(db, run_id)) == ["base", "tuned", "tuned pruned 50%"]
    recipe = ChatRecipe(run_id=run_id, prompt="Hi", sides=["tuned", "tuned pruned 50%"],
                        temperature=1.0, max_new_tokens=6)
    answers = run_chat(db, recipe, Reporter(), load_side)["answers"]
    assert set(answers) == {"tuned", "tuned pruned 50%"} and all(answers.values())
    with pytest.raises(ValueError, match="no model 'tuned 4-bit'"):
        run_chat(db, ChatRecipe(run_id=run_id, prompt="Hi", sides=["tuned 4-bit"]),
                 Reporter(), load_side)
