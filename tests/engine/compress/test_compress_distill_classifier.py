"""Distillation of tuned classifiers: student built from the teacher's lower layers, the
loss formula, a falling loss, the job's comparison rows, and refused requests."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest
import torch

from engine.cli import main
from engine.compress.checksums import verify_export
from engine.compress.distill_classifier import (
    build_classifier_student,
    classifier_distillation_loss,
    distill_classifier_to_folder,
    load_classifier,
)
from engine.compress.job import prepare_request, run_compress, run_export
from engine.compress.recipe import CompressRecipe, CompressRequestError
from engine.fsutil import folder_size
from engine.progress import Reporter
from engine.store import runs


def _helper():
    name = "enclave_tests_tiny_bert"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("tiny_bert.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def clauses() -> list[dict]:
    return _helper().clause_records(48)


@pytest.fixture(scope="module")
def tiny_teacher(tmp_path_factory, clauses) -> Path:
    """A confident 4-layer tiny BERT classifier over three clause types; do not modify."""
    helper = _helper()
    return helper.confident_tiny_classifier(tmp_path_factory.mktemp("teacher") / "bert",
                                            clauses, helper.LABELS)


@pytest.fixture(scope="module")
def lora_classifier_run(tmp_path_factory, clauses) -> dict:
    """A LoRA classification adapter trained briefly on a tiny BERT base (as `enclave train`)."""
    from engine.train.loop import train
    from engine.train.recipe import TrainRecipe

    folder = tmp_path_factory.mktemp("lora_classifier")
    base = _helper().build_tiny_bert(folder / "base", clauses, 4)
    recipe = TrainRecipe(task="classification", method="lora", rank=4, alpha=8, dropout=0.0,
                         learning_rate=5e-3, max_steps=2, batch_size=12, max_length=64,
                         checkpoint_every=0)
    adapter = train(base, clauses[:36], recipe, folder / "adapter").adapter_dir
    return {"base": base, "adapter": adapter, "recipe": recipe.to_dict()}


@pytest.fixture()
def classifier_workspace(lora_classifier_run, clauses):
    """(db, run_id) of a project with clause train/test splits and a classifier LoRA run."""
    from engine import paths
    from engine.store import datasets, open_store, projects

    db = open_store(paths.workspace_db())
    project_id = projects.create(db, "Contracts", "clause classifier")
    ids = {}
    for name, part in (("clauses-train", clauses[:36]), ("clauses-test", clauses[36:])):
        ids[name] = datasets.add_version(db, project_id, name, "split", part,
                                         [f"{name}-{i}" for i in range(len(part))], role=name.rsplit("-", 1)[-1])
    run_id = runs.create(db, project_id, "train", "clause LoRA",
                         {"base": str(lora_classifier_run["base"]),
                          "dataset_id": ids["clauses-train"],
                          "train": lora_classifier_run["recipe"]})
    runs.add_artifact(db, project_id, "lora-adapter", lora_classifier_run["adapter"], run_id)
    return db, run_id


def test_student_keeps_the_teachers_lower_layers_and_head(tiny_teacher):
    teacher = load_classifier(tiny_teacher)
    student, kept = build_classifier_student(teacher, 2)
    assert kept == [0, 1] and student.config.num_hidden_layers == 2
    assert student.config.id2label == teacher.config.id2label
    for index in kept:
        assert torch.equal(student.bert.encoder.layer[index].output.dense.weight,
                           teacher.bert.encoder.layer[index].output.dense.weight)
    assert torch.equal(student.classifier.weight, teacher.classifier.weight)
    assert torch.equal(student.bert.pooler.dense.weight, teacher.bert.pooler.dense.weight)
    assert student.num_parameters() < teacher.num_parameters()
    with pytest.raises(CompressRequestError, match="fewer than the teacher's 4 layers"):
        build_classifier_student(teacher, 4)


def test_loss_is_weighted_softened_kl_plus_cross_entropy():
    student = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 1.0]])
    teacher = torch.tensor([[1.0, 1.0, 0.0], [0.0, 2.0, 0.0]])
    labels = torch.tensor([0, 2])
    temperature, weight = 2.0, 0.25
    kl = 0.0
    for s_row, t_row in zip(student.tolist(), teacher.tolist()):
        p = torch.softmax(torch.tensor(t_row) / temperature, 0).tolist()
        q = torch.softmax(torch.tensor(s_row) / temperature, 0).tolist()
        kl += sum(pi * math.log(pi / qi) for pi, qi in zip(p, q))
    cross_entropy = -sum(math.log(torch.softmax(torch.tensor(row), 0)[y])
                         for row, y in zip(student.tolist(), labels.tolist()))
    expected = weight * temperature ** 2 * kl / 2 + (1 - weight) * cross_entropy / 2
    loss = classifier_distillation_loss(student, teacher, labels, temperature, weight)
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def _objective(student, teacher, tokenizer, records: list[dict], recipe) -> float:
    """The distillation loss of ``student`` over all ``records`` at once."""
    from engine.compress.distill_classifier import label_names
    from engine.train.tasks import collate_task, encode_class_records

    data = encode_class_records(tokenizer, records, recipe.max_length, label_names(teacher))
    batch = collate_task("classification", data.examples, tokenizer.pad_token_id)
    inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
    with torch.no_grad():
        return float(classifier_distillation_loss(
            student.eval()(**inputs).logits, teacher(**inputs).logits, batch["labels"],
            recipe.temperature, recipe.kl_weight))


def test_distillation_lowers_the_loss_and_saves_a_smaller_student(tiny_teacher, clauses,
                                                                   tmp_path):
    from engine.models.loading import load_tokenizer

    events: list = []
    recipe = CompressRecipe(method="distill", student_layers=2, distill_steps=8,
                            learning_rate=1e-3, batch_size=12, max_length=64)
    result = distill_classifier_to_folder(tiny_teacher, clauses[:36], tmp_path / "student",
                                          recipe, Reporter(events.append))
    assert len(result.losses) == 8
    assert [e.metrics["loss"] for e in events] == pytest.approx(result.losses)
    assert result.kept_layers == [0, 1] and result.teacher_layers == 4
    teacher, tokenizer = load_classifier(tiny_teacher), load_tokenizer(tiny_teacher)
    student = load_classifier(result.folder)
    before = _objective(build_classifier_student(teacher, 2)[0], teacher, tokenizer,
                        clauses[:36], recipe)
    after = _objective(student, teacher, tokenizer, clauses[:36], recipe)
    assert after < 0.9 * before  # on the same records, the same way: the loss fell
    assert student.config.num_hidden_layers == 2
    assert folder_size(result.folder) < folder_size(tiny_teacher)
    assert (result.folder / "SHA256SUMS").is_file()
    assert not list(tmp_path.glob(".student.tmp-*"))  # written atomically


def test_compress_job_distills_a_lora_classifier_and_records_the_comparison(
        classifier_workspace):
    db, run_id = classifier_workspace
    recipe = CompressRecipe(method="distill", student_layers=2, distill_steps=3,
                            learning_rate=1e-3, batch_size=12, max_length=64, eval_records=12)
    events: list = []
    summary = run_compress(db, run_id, recipe, Reporter(events.append))
    rows = {row["name"]: row for row in summary["variants"]}
    assert list(rows) == ["tuned fp32", "distilled 2-layer"]
    teacher, student = rows["tuned fp32"], rows["distilled 2-layer"]
    assert (teacher["layers"], student["layers"]) == (4, 2)
    assert student["size_mb"] < teacher["size_mb"]
    assert student["memory_mb"] < teacher["memory_mb"]
    for row in rows.values():
        assert 0.0 <= row["accuracy"] <= 1.0 and 0.0 <= row["macro_f1"] <= 1.0
        assert row["samples_per_s"] > 0 and row["ppl"] is None
        assert row["peak_mb"] > 0  # loading and classifying, measured in this job
    assert summary["eval_records"] == 12 and summary["task"] == "classification"
    new_run = next(r for r in runs.list_for_project(db, 1) if r["id"] == summary["run_id"])
    assert new_run["kind"] == "compress" and new_run["summary"]["source_run_id"] == run_id
    artifact = next(a for a in runs.artifacts(db, 1) if a["run_id"] == summary["run_id"])
    assert artifact["kind"] == "compressed-model"
    assert load_classifier(artifact["path"]).config.num_hidden_layers == 2
    assert {e.stage for e in events} >= {"merge", "compress", "measure"}


def test_classifier_runs_export_as_safetensors(classifier_workspace, tmp_path):
    db, run_id = classifier_workspace
    result = run_export(db, run_id, "safetensors", tmp_path / "export", dtype="float16",
                        reporter=Reporter())  # the LoRA run: its adapter is merged on the way
    assert result["verified"] and verify_export(tmp_path / "export").ok
    exported = load_classifier(tmp_path / "export", "float16")
    assert exported.config.num_hidden_layers == 4 and exported.dtype == torch.float16
    assert list(exported.config.id2label.values()) == list(_helper().LABELS)


def test_bad_classifier_requests_are_refused_before_any_work(classifier_workspace, capsys):
    db, run_id = classifier_workspace
    with pytest.raises(CompressRequestError, match="'student_layers': 4 is not fewer than "
                                                   "the teacher's 4 layers"):
        prepare_request(db, run_id, CompressRecipe(method="distill", student_layers=4))
    with pytest.raises(CompressRequestError, match="text classifier: only --method distill"):
        prepare_request(db, run_id, CompressRecipe(method="prune"))
    assert main(["compress", str(run_id), "--method", "distill", "--student-layers", "0",
                 "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert "--student-layers 0: a student needs at least 1 layer" in out["error"]
    assert main(["compress", str(run_id), "--method", "distill", "--student-layers", "6",
                 "--json"]) == 1
    assert "not fewer than the teacher's 4 layers" in json.loads(capsys.readouterr().out)["error"]
    assert db["jobs"].count == 0 and not list(runs.artifacts(db, 1))[1:]


def test_unlabelled_training_records_are_named(classifier_workspace):
    from engine.store import datasets

    db, run_id = classifier_workspace
    dataset_id = json.loads(db["runs"].get(run_id)["recipe"])["dataset_id"]
    bad = datasets.add_version(db, 1, "clauses-train", "edit", [{"text": "no label here"}],
                               ["x"], parent_id=dataset_id, role="train")
    db["runs"].update(run_id, {"recipe": json.dumps({"dataset_id": bad})})
    with pytest.raises(CompressRequestError, match="training record 0: .*'label'"):
        prepare_request(db, run_id, CompressRecipe(method="distill"))
