import json

import pytest

from engine.compress import recipe as recipe_module
from engine.compress.recipe import CompressRecipe, CompressRequestError, check_request


@pytest.mark.parametrize("sparsity", [-0.1, 1.0, 1.5])
def test_sparsity_outside_0_1_is_refused(sparsity):
    with pytest.raises(CompressRequestError, match="field 'sparsity'.*outside 0-1"):
        CompressRecipe(method="prune", sparsity=sparsity)


def test_unknown_method_and_option_are_named():
    with pytest.raises(CompressRequestError, match="method must be one of .*got 'zip'"):
        CompressRecipe(method="zip")
    with pytest.raises(CompressRequestError, match="unknown field 'colour'"):
        CompressRecipe.from_dict({"method": "prune", "colour": "red"})
    with pytest.raises(CompressRequestError, match="'sparsity': 'half' is not a valid float"):
        CompressRecipe.from_dict({"method": "prune", "sparsity": "half"})


def test_from_dict_casts_strings_and_round_trips():
    recipe = CompressRecipe.from_dict({"method": "prune", "sparsity": "0.25",
                                       "structured": "true"})
    assert recipe.sparsity == 0.25 and recipe.structured is True
    assert CompressRecipe.from_dict(recipe.to_dict()) == recipe
    assert recipe_module.help_for("sparsity").startswith("prune:")


def test_4bit_where_bitsandbytes_cannot_run_is_refused_before_loading(tiny_llama,
                                                                        monkeypatch):
    monkeypatch.setattr(recipe_module, "bitsandbytes_problem",
                        lambda four_bit: "no 4-bit kernels on this cpu")
    with pytest.raises(CompressRequestError, match="quantize-4bit cannot run here: no 4-bit"):
        check_request(CompressRecipe(method="quantize-4bit"), tiny_llama)


def test_bitsandbytes_works_here():
    assert recipe_module.bitsandbytes_problem(four_bit=True) is None


def test_gguf_for_unsupported_architecture_is_refused(tmp_path):
    folder = tmp_path / "gpt2"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(CompressRequestError, match="model_type.*Llama family.*not 'gpt2'"):
        check_request(CompressRecipe(method="gguf"), folder)


def test_distill_student_must_be_smaller(tiny_llama):
    with pytest.raises(CompressRequestError, match="student_layers.*not fewer"):
        check_request(CompressRecipe(method="distill", student_layers=2), tiny_llama)
    check_request(CompressRecipe(method="distill", student_layers=1), tiny_llama)
