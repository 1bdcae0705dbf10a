import pytest

from engine.compress.measure import measure_variant
from engine.compress.prune import prune_to_folder
from engine.models.loading import load_causal_lm


def test_unstructured_pruning_reaches_the_sparsity(tiny_llama, records, tmp_path):
    result = prune_to_folder(tiny_llama, tmp_path / "p", 0.5)
    assert result.sparsity == pytest.approx(0.5, abs=0.01)
    assert result.parameters_after == result.parameters_before
    row = measure_variant("pruned", result.folder, records[:4], max_length=32,
                          with_sparsity=True)
    assert row.sparsity == pytest.approx(0.5, abs=0.01) and row.ppl > 1


def test_structured_pruning_removes_mlp_channels(tiny_llama, records, tmp_path):
    result = prune_to_folder(tiny_llama, tmp_path / "s", 0.25, structured=True)
    model = load_causal_lm(result.folder)
    assert model.config.intermediate_size == 96
    assert model.model.layers[0].mlp.down_proj.weight.shape == (64, 96)
    assert result.parameters_after < result.parameters_before
    assert measure_variant("s", result.folder, records[:2], max_length=32).ppl > 1


def test_zero_sparsity_keeps_the_model(tiny_llama, tmp_path):
    assert prune_to_folder(tiny_llama, tmp_path / "z", 0.0).sparsity < 0.01


@pytest.mark.parametrize("sparsity", [-0.5, 1.0])
def test_sparsity_outside_0_1_fails_before_loading(tmp_path, sparsity):
    with pytest.raises(ValueError, match="outside 0-1"):
        prune_to_folder(tmp_path / "no-such-model", tmp_path / "out", sparsity)
