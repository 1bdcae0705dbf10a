"""The memory estimate covers every family Enclave trains, QLoRA and FSDP, and the advice
picks full, LoRA or QLoRA and the largest batch that fits the device."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from engine.models.device import DeviceInfo
from engine.train.memory_estimate import estimate
from engine.train.recipe import TrainRecipe
from engine.train.recommend import recommend


def _families():
    name = "enclave_tests_families"
    if name not in sys.modules:
        path = Path(__file__).parents[1] / "models" / "families.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


GPU = DeviceInfo("cuda", "test GPU", 80 * 2**30, True)


@pytest.mark.parametrize("family", _families().CAUSAL + _families().ENCODERS)
def test_every_family_gets_an_estimate_for_each_method(family, tmp_path):
    folder = _families().build(family, tmp_path / family)
    task = "classification" if family in _families().ENCODERS else "instruction"
    found = {method: estimate(folder, TrainRecipe(method=method, task=task), GPU)
             for method in ("full", "lora", "qlora")}
    assert 0 < found["lora"].trainable_parameters < found["full"].trainable_parameters
    assert found["qlora"].weights < found["lora"].weights
    assert found["full"].total > found["lora"].total


def test_fsdp_shards_full_tuning_across_gpus(tiny_llama_folder):
    recipe = TrainRecipe(method="full")
    one = estimate(tiny_llama_folder, recipe, GPU)
    ddp = estimate(tiny_llama_folder, recipe, GPU, processes=4, strategy="ddp")
    fsdp = estimate(tiny_llama_folder, recipe, GPU, processes=4, strategy="fsdp")
    assert ddp.weights == one.weights and ddp.gradients == 2 * one.gradients
    assert fsdp.weights < one.weights  # its quarter plus one gathered layer (of 2 here)
    assert fsdp.optimizer == one.optimizer // 4
    assert fsdp.total < one.total < ddp.total


def _device(total_bytes: float) -> DeviceInfo:
    return DeviceInfo("cuda", "test GPU", int(total_bytes), True)


@pytest.fixture(scope="module")
def wide_llama(tmp_path_factory) -> Path:
    """A Llama whose weights are mostly in its layers (as in real models), not embeddings."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = _families().bpe_tokenizer(chat=True)
    folder = tmp_path_factory.mktemp("wide_llama")
    LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), hidden_size=512,
                                 intermediate_size=1376, num_hidden_layers=4,
                                 num_attention_heads=8, num_key_value_heads=8)).save_pretrained(
        str(folder), safe_serialization=True)
    tokenizer.save_pretrained(str(folder))
    return folder


def test_the_advice_follows_the_memory_the_device_has(wide_llama):
    recipe = TrainRecipe()
    roomy = recommend(wide_llama, recipe, GPU)
    assert roomy.method == "full" and roomy.batch_size == 64

    lora_one = estimate(wide_llama, replace(recipe, method="lora", batch_size=1), GPU)
    full_one = estimate(wide_llama, replace(recipe, method="full", batch_size=1), GPU)
    between = _device(min(full_one.total * 1.5, lora_one.total * 1.3))
    advice = recommend(wide_llama, recipe, between)
    assert advice.method == "lora" and advice.batch_size >= 1
    bigger = estimate(wide_llama, replace(recipe, method="lora",
                                                 batch_size=advice.batch_size * 2), between)
    assert advice.batch_size == 64 or not bigger.fits or bigger.tight

    qlora_one = estimate(wide_llama, replace(recipe, method="qlora", batch_size=1), GPU)
    assert qlora_one.total < lora_one.total
    only_qlora = _device((qlora_one.total + lora_one.total) / 2 / 0.85)
    assert recommend(wide_llama, recipe, only_qlora).method == "qlora"

    nothing = recommend(wide_llama, recipe, _device(qlora_one.total / 2))
    assert nothing.method == "" and "Nothing fits" in nothing.summary()
    cpu = DeviceInfo("cpu", "test CPU", int(qlora_one.total * 1.05), False)
    assert recommend(wide_llama, recipe, cpu).method != "qlora"
    big_cpu = DeviceInfo("cpu", "test CPU", 512 * 2**30, False)
    assert recommend(wide_llama, recipe, big_cpu).method == "lora"  # full is slow on a CPU
