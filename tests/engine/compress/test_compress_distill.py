import pytest
import torch

from engine.compress.distill import build_student, distill_to_folder, spaced_layers
from engine.compress.recipe import CompressRecipe
from engine.models.loading import load_causal_lm
from engine.progress import Reporter


def test_spaced_layers_keep_first_and_last():
    assert spaced_layers(30, 10) == [0, 3, 6, 10, 13, 16, 19, 23, 26, 29]
    assert spaced_layers(2, 1) == [0]


def test_student_starts_from_teacher_layers(tiny_llama):
    teacher = load_causal_lm(tiny_llama)
    student, kept = build_student(teacher, 1)
    assert kept == [0] and student.config.num_hidden_layers == 1
    assert torch.equal(student.model.layers[0].mlp.up_proj.weight,
                       teacher.model.layers[0].mlp.up_proj.weight)
    assert torch.equal(student.lm_head.weight, teacher.model.embed_tokens.weight)


def test_distillation_lowers_the_loss_and_saves_a_smaller_model(tiny_llama, records,
                                                               tmp_path):
    events: list = []
    recipe = CompressRecipe(method="distill", student_layers=1, distill_steps=8,
                            learning_rate=3e-3, batch_size=4, max_length=48)
    result = distill_to_folder(tiny_llama, records, tmp_path / "student", recipe,
                               Reporter(events.append))
    assert len(result.losses) == 8 and result.losses[-1] < result.losses[0]
    assert [e.metrics["loss"] for e in events] == pytest.approx(result.losses)
    student = load_causal_lm(result.folder)
    assert student.config.num_hidden_layers == 1
