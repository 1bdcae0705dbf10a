"""CUDA paths of training and quantized inference. Skipped without a CUDA GPU.

Run on a GPU machine with ``.venv/bin/python -m pytest tests/engine/train/test_train_gpu.py
-m gpu -q`` (a CUDA build of torch and bitsandbytes; liger-kernel for the fused-kernel test).
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(),
                                                  reason="needs a CUDA GPU")]

def _recipe(**values):
    from engine.train.recipe import TrainRecipe

    return TrainRecipe(**{"max_steps": 6, "batch_size": 4, "max_length": 64, "rank": 8,
                          "alpha": 16, "dropout": 0.0, "learning_rate": 5e-3,
                          "checkpoint_every": 0, "checkpoint_minutes": 0, **values})


def _train(folder, records, tmp_path, name, **values):
    from engine.train.loop import train

    return train(folder, records, _recipe(**values), tmp_path / name)


def test_bf16_autocast_and_tf32_train_and_lower_the_loss(tiny_llama_folder, tiny_records,
                                                         tmp_path):
    result = _train(tiny_llama_folder, tiny_records, tmp_path, "bf16", precision="bf16")
    assert torch.backends.cuda.matmul.allow_tf32
    assert result.last_loss < result.first_loss
    reference = _train(tiny_llama_folder, tiny_records, tmp_path, "fp32", precision="fp32")
    assert result.losses[0][1] == pytest.approx(reference.losses[0][1], rel=0.05)


def test_qlora_trains_on_an_nf4_double_quantised_base(tiny_llama_folder, tiny_records,
                                                      tmp_path):
    from engine.train.build import build_model
    from engine.train.recipe import TrainRecipe

    model = build_model(tiny_llama_folder, TrainRecipe(method="qlora"), [])
    quantized = [m for m in model.modules() if type(m).__name__ == "Linear4bit"]
    assert quantized
    state = quantized[0].weight.quant_state
    assert state.quant_type == "nf4" and state.nested  # double quantisation
    result = _train(tiny_llama_folder, tiny_records, tmp_path, "qlora", method="qlora")
    assert result.last_loss < result.first_loss


def test_adamw8bit_keeps_8bit_states(tiny_llama_folder, tiny_records, tmp_path):
    from engine.train.build import build_model, build_optimizer
    from engine.train.recipe import TrainRecipe

    recipe = TrainRecipe(method="full", optimizer="adamw8bit", learning_rate=1e-4)
    model = build_model(tiny_llama_folder, recipe, [])
    optimizer = build_optimizer(recipe, [p for p in model.parameters() if p.requires_grad])
    ids = torch.randint(0, 100, (2, 16), device="cuda")
    model(input_ids=ids, labels=ids).loss.backward()
    optimizer.step()
    dtypes = {state["state1"].dtype for state in optimizer.state.values() if "state1" in state}
    assert torch.uint8 in dtypes
    result = _train(tiny_llama_folder, tiny_records, tmp_path, "full8", method="full",
                    optimizer="adamw8bit", learning_rate=1e-3)
    assert result.last_loss < result.first_loss


def test_gradient_checkpointing_gives_the_same_losses(tiny_llama_folder, tiny_records,
                                                      tmp_path):
    plain = _train(tiny_llama_folder, tiny_records, tmp_path, "plain", precision="fp32")
    checkpointed = _train(tiny_llama_folder, tiny_records, tmp_path, "ckpt", precision="fp32",
                          gradient_checkpointing=True)
    assert [v for _, v in checkpointed.losses] == pytest.approx(
        [v for _, v in plain.losses], rel=1e-3)


def test_models_load_with_sdpa_attention(tiny_llama_folder):
    from engine.models.loading import load_causal_lm

    model = load_causal_lm(tiny_llama_folder)
    assert model.config._attn_implementation == "sdpa"
    assert next(model.parameters()).dtype == torch.bfloat16


@pytest.mark.parametrize("quantize, layer", [("8bit", "Linear8bitLt"), ("4bit", "Linear4bit")])
def test_bitsandbytes_inference_on_the_gpu(tiny_llama_folder, quantize, layer):
    from engine.models.loading import load_causal_lm, load_tokenizer

    model = load_causal_lm(tiny_llama_folder, quantize=quantize)
    assert any(type(m).__name__ == layer for m in model.modules())
    ids = load_tokenizer(tiny_llama_folder)("Item 3 is", return_tensors="pt").to("cuda")
    out = model.generate(**ids, max_new_tokens=4, do_sample=False)
    assert out.shape[1] == ids["input_ids"].shape[1] + 4


def test_fused_kernels_patch_a_llama_when_liger_is_installed(tiny_llama_folder, tiny_records,
                                                             tmp_path):
    pytest.importorskip("liger_kernel")
    from engine.models.loading import load_causal_lm
    from engine.train.kernels import apply_fused_kernels

    model = load_causal_lm(tiny_llama_folder).to("cuda")
    assert {"rms_norm", "rope", "swiglu"} <= set(apply_fused_kernels(model, torch.device("cuda")))
    fused = _train(tiny_llama_folder, tiny_records, tmp_path, "fused", precision="fp32")
    plain = _train(tiny_llama_folder, tiny_records, tmp_path, "unfused", precision="fp32",
                   fused_kernels=False)
    assert [v for _, v in fused.losses] == pytest.approx([v for _, v in plain.losses], rel=1e-2)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["lora", "qlora"])
def test_memory_estimate_is_near_the_measured_cuda_peak(method, tmp_path):
    from engine.models.bundled import smollm2_folder
    from engine.models.device import detect
    from engine.train.loop import train
    from engine.train.memory_estimate import RUNTIME_BYTES, estimate

    folder = smollm2_folder()
    recipe = _recipe(method=method, max_steps=3, batch_size=8, max_length=256)
    records = [{"prompt": f"Summarise case {i}: " + "The patient rested well. " * 8,
                "response": "Stable. " * 60} for i in range(24)]
    predicted = estimate(folder, recipe, detect())
    torch.cuda.reset_peak_memory_stats()
    train(folder, records, recipe, tmp_path / method)
    measured = torch.cuda.max_memory_allocated()
    # The estimate's runtime share covers the CUDA context, which the allocator does not see.
    without_runtime = predicted.total - RUNTIME_BYTES["cuda"]
    assert 0.5 * measured <= without_runtime <= 2.0 * measured, (predicted.summary(), measured)


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two GPUs")
def test_two_gpus_follow_one_gpu_with_the_same_global_batch(tiny_llama_folder, tiny_records,
                                                            tmp_path):
    from engine.progress import Reporter
    from engine.train.launch import LaunchPlan, run_launched

    recipe = _recipe(batch_size=2, precision="fp32")
    two = run_launched(LaunchPlan(processes=2), tiny_llama_folder, tiny_records, recipe,
                       tmp_path / "two" / "output", tmp_path / "two" / "checkpoints", Reporter())
    one = _train(tiny_llama_folder, tiny_records, tmp_path, "one", batch_size=2, grad_accum=2,
                 precision="fp32")
    assert [v for _, v in two["losses"]] == pytest.approx([v for _, v in one.losses], rel=5e-3)


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two GPUs")
def test_fsdp_full_tuning_on_two_gpus_checkpoints_and_resumes(tiny_llama_folder, tiny_records,
                                                              tmp_path):
    from engine.progress import Cancelled, Reporter
    from engine.train import checkpoints
    from engine.train.launch import LaunchPlan, run_launched

    plan = LaunchPlan(processes=2, strategy="fsdp")
    recipe = _recipe(method="full", batch_size=2, precision="fp32", learning_rate=1e-4,
                     checkpoint_every=2)
    run = tmp_path / "fsdp"
    reference = run_launched(plan, tiny_llama_folder, tiny_records, recipe, tmp_path / "ref",
                             tmp_path / "ref.checkpoints", Reporter())
    seen = []
    with pytest.raises(Cancelled):
        run_launched(plan, tiny_llama_folder, tiny_records, recipe, run / "output",
                     run / "checkpoints", Reporter(seen.append, lambda: len(seen) >= 3))
    assert checkpoints.complete(run / "checkpoints")
    resumed = run_launched(plan, tiny_llama_folder, tiny_records, recipe, run / "output",
                           run / "checkpoints", Reporter())
    assert resumed["resumed_from"] >= 2
    tail = resumed["resumed_from"]
    assert [v for _, v in resumed["losses"]][tail:] == pytest.approx(
        [v for _, v in reference["losses"]][tail:], rel=5e-3)
