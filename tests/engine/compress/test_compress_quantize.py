import pytest
import torch

from engine.compress.checksums import verify_export
from engine.compress.measure import measure_variant
from engine.compress.quantize import quantize_to_folder
from engine.compress.recipe import CompressRecipe
from engine.models.loading import load_causal_lm


@pytest.mark.parametrize("method, layer_class", [("quantize-8bit", "Linear8bitLt"),
                                                 ("quantize-4bit", "Linear4bit")])
def test_quantized_folder_loads_back_quantized(tiny_llama, records, tmp_path, method,
                                               layer_class):
    events: list = []
    from engine.progress import Reporter

    out = quantize_to_folder(tiny_llama, tmp_path / "q", CompressRecipe(method=method),
                             Reporter(events.append))
    assert verify_export(out).ok and events[-1].step == events[-1].total
    model = load_causal_lm(out)
    assert type(model.model.layers[0].self_attn.q_proj).__name__ == layer_class
    full, quantized = (measure_variant(name, path, records[:4], max_length=32)
                       for name, path in (("fp32", tiny_llama), (method, out)))
    assert quantized.size_mb < full.size_mb and quantized.memory_mb < full.memory_mb
    assert quantized.ppl == pytest.approx(full.ppl, rel=0.1)
    assert quantized.tokens_per_s > 0


def test_fp4_without_double_quant(tiny_llama, tmp_path):
    recipe = CompressRecipe(method="quantize-4bit", quant_type="fp4", double_quant=False)
    out = quantize_to_folder(tiny_llama, tmp_path / "fp4", recipe)
    weight = load_causal_lm(out).model.layers[0].mlp.up_proj.weight
    assert weight.quant_state.quant_type == "fp4"
    with pytest.raises(FileExistsError):
        quantize_to_folder(tiny_llama, out, recipe)
    assert torch.is_tensor(weight)
