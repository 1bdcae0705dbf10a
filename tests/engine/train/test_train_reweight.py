"""Re-weighting training examples by group: the weights, the weighted loss, the errors, a run."""

from __future__ import annotations

import json

import pytest
import torch

from engine.progress import Cancelled, Reporter
from engine.train.loop import RECIPE_FILE, train
from engine.train.recipe import TrainRecipe
from engine.train.tasks import collate_task, encode_task, summed_loss
from engine.train.weights import example_weights, inverse_frequency_weights, reweighing_weights


def _build_tiny_bert(folder):
    """A randomly initialised 2-layer BERT (hidden 32) with the bundled MiniLM tokenizer."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    from engine.models.bundled import minilm_folder

    tokenizer = AutoTokenizer.from_pretrained(str(minilm_folder()), local_files_only=True)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64,
                        max_position_embeddings=128)
    torch.manual_seed(7)
    BertModel(config).save_pretrained(str(folder), safe_serialization=True)
    tokenizer.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    return _build_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))


def _screening_records(count: int = 40) -> list[dict]:
    """Group B is rare (1 in 5) and mostly labelled 'no'; group A is balanced."""
    records = []
    for index in range(count):
        group = "B" if index % 5 == 0 else "A"
        label = ("yes" if index % 2 else "no") if group == "A" else \
            ("yes" if index % 20 == 5 else "no")
        cue = "severe pain" if label == "yes" else "no complaints"
        records.append({"text": f"Patient {index} from site {group}: {cue}.", "label": label,
                        "site": group})
    return records


RECIPE = dict(method="full", task="classification", learning_rate=1e-3, max_steps=6,
              batch_size=8, max_length=32, checkpoint_every=0, seed=1)


def test_reweighing_matches_hand_computed_values():
    # n=4: P(a)=3/4, P(b)=1/4, P(yes)=P(no)=1/2, P(a,yes)=1/2, P(a,no)=P(b,no)=1/4
    # w(a,yes)=3/4, w(a,no)=3/2, w(b,no)=1/2; mean 7/8 → divided by 7/8.
    weights = reweighing_weights(["a", "a", "a", "b"], ["yes", "yes", "no", "no"])
    assert weights == pytest.approx([6 / 7, 6 / 7, 12 / 7, 4 / 7])
    assert inverse_frequency_weights(["a", "a", "a", "b"]) == pytest.approx(
        [2 / 3, 2 / 3, 2 / 3, 2])


def test_weighted_data_has_group_and_label_independent():
    records = _screening_records()
    weights = example_weights(records, "site", "classification")
    assert sum(weights) / len(weights) == pytest.approx(1.0)
    mass: dict = {}
    for record, weight in zip(records, weights):
        key = (record["site"], record["label"])
        mass[key] = mass.get(key, 0.0) + weight
    for group in ("A", "B"):
        share = mass[group, "yes"] / (mass[group, "yes"] + mass[group, "no"])
        assert share == pytest.approx(sum(r["label"] == "yes" for r in records) / len(records))


def test_weighted_loss_is_the_weighted_sum_of_example_losses(tiny_bert):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    records = _screening_records(6)
    weights = [0.5, 2.0, 1.0, 0.25, 1.5, 0.75]
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_bert))
    data = encode_task("classification", tokenizer, records, 32, weights=weights)
    model = AutoModelForSequenceClassification.from_pretrained(str(tiny_bert), num_labels=2)
    model.eval()
    batch = collate_task("classification", data.examples, tokenizer.pad_token_id)
    plain_batch = collate_task("classification", encode_task(
        "classification", tokenizer, records, 32).examples, tokenizer.pad_token_id)
    assert "weights" not in plain_batch
    with torch.no_grad():
        weighted = summed_loss("classification", model, batch)
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                       token_type_ids=batch["token_type_ids"]).logits
    by_example = torch.nn.functional.cross_entropy(logits, batch["labels"], reduction="none")
    expected = sum(w * float(loss) for w, loss in zip(weights, by_example)) / len(weights)
    assert float(weighted) / len(weights) == pytest.approx(expected, rel=1e-6)


def test_a_record_without_the_group_field_is_named(tiny_bert, tmp_path):
    records = _screening_records(10)
    del records[3]["site"]
    recipe = TrainRecipe(**RECIPE, reweight_by="site")
    with pytest.raises(ValueError, match=r"record 3: field 'site' is missing"):
        train(tiny_bert, records, recipe, tmp_path / "out")
    with pytest.raises(ValueError, match="packing"):
        TrainRecipe(task="text", packing=True, reweight_by="site")


def test_reweighted_run_trains_records_its_weights_and_resumes_the_same(tiny_bert, tmp_path):
    records = _screening_records()
    recipe = TrainRecipe(**{**RECIPE, "checkpoint_every": 2}, reweight_by="site")
    reference = train(tiny_bert, records, recipe, tmp_path / "reference")
    plain = train(tiny_bert, records, TrainRecipe(**RECIPE), tmp_path / "plain")

    saved = json.loads((reference.adapter_dir / RECIPE_FILE).read_text())
    assert saved["reweighting"]["field"] == "site"
    cells = {(row["group"], row["label"]): row for row in saved["reweighting"]["groups"]}
    assert cells["B", "yes"]["weight"] > cells["A", "yes"]["weight"] > cells["B", "no"]["weight"]
    assert reference.losses != plain.losses and plain.losses[0][1] == plain.losses[0][1]

    events = []
    with pytest.raises(Cancelled):
        train(tiny_bert, records, recipe, tmp_path / "resumed",
              Reporter(events.append, stop_requested=lambda: len(events) >= 3))
    resumed = train(tiny_bert, records, recipe, tmp_path / "resumed")
    assert resumed.resumed_from == 2
    for (_, one), (_, two) in zip(reference.losses, resumed.losses):
        assert one == pytest.approx(two, abs=1e-5)


def test_instruction_run_weighs_groups_by_inverse_frequency(tiny_llama_folder, tiny_records,
                                                            smollm2_tokenizer, tmp_path):
    records = [{**record, "site": "B" if index % 4 == 0 else "A"}
               for index, record in enumerate(tiny_records)]
    data = encode_task("instruction", smollm2_tokenizer, records, 48,
                       weights=example_weights(records, "site", "instruction"))
    # 30 in A, 10 in B: n / (k · n_g) = 40 / 60 and 40 / 20
    assert sorted({round(example.weight, 6) for example in data.examples}) == \
        [round(2 / 3, 6), 2.0]
    recipe = TrainRecipe(rank=4, alpha=8, learning_rate=5e-3, max_steps=2, batch_size=4,
                         max_length=48, checkpoint_every=0, reweight_by="site")
    result = train(tiny_llama_folder, records, recipe, tmp_path / "out")
    saved = json.loads((result.adapter_dir / RECIPE_FILE).read_text())
    assert [(row["group"], row["count"]) for row in saved["reweighting"]["groups"]] == \
        [("A", 30), ("B", 10)]
