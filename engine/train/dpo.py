"""Preference tuning with DPO through trl's ``DPOTrainer``: LoRA adapters on preference pairs.

Run: seed → tokenizer (must carry a chat template) → base model on the training device →
either a new LoRA adapter (reference = the same model with its adapter disabled) or a run's
tuned adapter, trained further (reference = a frozen copy of that adapter, which trl adds
as the adapter ``ref``; both cost adapter-sized memory, never a second model) → pairs as
chat conversations in an in-memory ``datasets.Dataset`` (no cache files, no network) → one
progress event per step (loss, reward accuracy, reward margin, chosen and rejected rewards,
learning rate, tokens/s, ETA) and a cancel check before every step → the trained adapter
written atomically with the recipe beside it.

Only heavy code paths import this module.
"""

from __future__ import annotations

import json
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from engine.fsutil import write_folder_atomically
from engine.models.loading import load_causal_lm
from engine.progress import Reporter, null_reporter
from engine.train.build import compute_dtype
from engine.train.dpo_recipe import DpoRecipe
from engine.train.loop import RECIPE_FILE, TrainingOutOfMemory, is_out_of_memory, oom_message
from engine.train.lora_targets import lora_targets
from engine.versions import library_versions

# trl log keys → the metric names Enclave stores per step.
LOGGED_METRICS = {"loss": "loss", "learning_rate": "lr", "rewards/accuracies": "reward_accuracy",
                  "rewards/margins": "reward_margin", "rewards/chosen": "reward_chosen",
                  "rewards/rejected": "reward_rejected"}


@dataclass
class DpoResult:
    """What a DPO run produced: the adapter folder and its per-step metrics."""

    adapter_dir: Path
    steps: int
    seconds: float
    pairs: int
    history: list[dict] = field(default_factory=list)

    def series(self, name: str) -> list[float]:
        """One metric over the steps, e.g. ``series("reward_accuracy")``."""
        return [entry[name] for entry in self.history if name in entry]


def as_conversation(pair: dict) -> dict:
    """A pair as trl's conversational preference example (prompt / chosen / rejected turns)."""
    prompt = [{"role": "user", "content": pair["prompt"]}]
    if pair.get("system"):
        prompt.insert(0, {"role": "system", "content": pair["system"]})
    return {"prompt": prompt,
            "chosen": [{"role": "assistant", "content": pair["chosen"]}],
            "rejected": [{"role": "assistant", "content": pair["rejected"]}]}


def _progress_callback(reporter: Reporter, history: list[dict]) -> Any:
    """A trl/transformers callback: cancel check before each step, one event per logged step."""
    from transformers import TrainerCallback

    class ReporterCallback(TrainerCallback):
        started = time.perf_counter()

        def on_train_begin(self, args, state, control, **kwargs):
            self.started = time.perf_counter()

        def on_step_begin(self, args, state, control, **kwargs):
            reporter.check_cancel()

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logs or "loss" not in logs:
                return
            seconds = time.perf_counter() - self.started
            step, total = state.global_step, state.max_steps
            metrics = {ours: float(logs[theirs]) for theirs, ours in LOGGED_METRICS.items()
                       if theirs in logs}
            metrics["tokens_per_s"] = float(logs.get("num_tokens", 0)) / max(seconds, 1e-9)
            metrics["eta_s"] = seconds / max(step, 1) * (total - step)
            history.append({"step": step, **metrics})
            reporter.report(step, total, f"step {step}/{total}", **metrics)

    return ReporterCallback()


def _precision_flags(recipe: DpoRecipe, dtype: Any, device: Any) -> dict[str, bool]:
    import torch

    on_gpu = device.type == "cuda"
    bf16 = recipe.precision == "bf16" or (recipe.precision == "auto" and on_gpu
                                          and dtype == torch.bfloat16)
    return {"bf16": bf16, "fp16": recipe.precision == "fp16", "use_cpu": not on_gpu,
            "dataloader_pin_memory": on_gpu}


def _config(recipe: DpoRecipe, work_dir: Path, dtype: Any, device: Any) -> Any:
    from trl import DPOConfig

    return DPOConfig(
        output_dir=str(work_dir), beta=recipe.beta, loss_type=[recipe.loss_type],
        learning_rate=recipe.learning_rate, num_train_epochs=recipe.epochs,
        max_steps=recipe.max_steps or -1, per_device_train_batch_size=recipe.batch_size,
        gradient_accumulation_steps=recipe.grad_accum, max_length=recipe.max_length,
        warmup_steps=recipe.warmup_ratio, lr_scheduler_type=recipe.scheduler,
        max_grad_norm=recipe.max_grad_norm or None, seed=recipe.seed, data_seed=recipe.seed,
        gradient_checkpointing=recipe.gradient_checkpointing, logging_steps=1,
        save_strategy="no", report_to="none", disable_tqdm=True, dataloader_num_workers=0,
        **_precision_flags(recipe, dtype, device))


def _policy(base_folder: Path, recipe: DpoRecipe, init_adapter: Path | None) -> tuple[Any, Any]:
    """The model to train and the LoRA config of a new adapter (None when continuing one)."""
    from peft import LoraConfig, PeftModel

    from engine.train import torch_setup

    device, _ = torch_setup.training_device()
    model = load_causal_lm(base_folder, dtype=compute_dtype(recipe)).to(device)
    if init_adapter is not None:
        return PeftModel.from_pretrained(model, str(init_adapter), is_trainable=True), None
    config = LoraConfig(r=recipe.rank, lora_alpha=recipe.alpha, lora_dropout=0.0, bias="none",
                        target_modules=lora_targets(recipe.target_modules,
                                                    model.config.model_type),
                        task_type="CAUSAL_LM")
    return model, config


def _trainer(base_folder: Path, pairs: Sequence[dict], recipe: DpoRecipe, work_dir: Path,
             init_adapter: Path | None, callback: Any) -> Any:
    import datasets
    from transformers import PrinterCallback
    from trl import DPOTrainer

    from engine.train import torch_setup

    datasets.disable_progress_bars()
    tokenizer = torch_setup.load_instruct_tokenizer(base_folder)
    model, lora_config = _policy(base_folder, recipe, init_adapter)
    examples = datasets.Dataset.from_list([as_conversation(pair) for pair in pairs])
    trainer = DPOTrainer(model=model, ref_model=None, args=_config(
        recipe, work_dir, model.dtype, model.device), train_dataset=examples,
        processing_class=tokenizer, peft_config=lora_config, callbacks=[callback])
    trainer.remove_callback(PrinterCallback)
    return trainer


def _save(trainer: Any, out_dir: Path, recipe: DpoRecipe, base_folder: Path,
          init_adapter: Path | None, pairs: int) -> Path:

    def write(folder: Path) -> None:
        import trl

        trainer.model.save_pretrained(str(folder), selected_adapters=["default"],
                                      safe_serialization=True)
        trainer.processing_class.save_pretrained(str(folder))
        (folder / RECIPE_FILE).write_text(json.dumps(
            {"method": "dpo", "task": "instruction", "recipe": recipe.to_dict(),
             "base_model": str(base_folder), "init_adapter": str(init_adapter or ""),
             "pairs": pairs, "steps": trainer.state.global_step,
             "versions": {**library_versions(), "trl": trl.__version__}}, indent=2))

    return write_folder_atomically(out_dir, write, replace=True)


def train_dpo(base_folder: Path, pairs: Sequence[dict], recipe: DpoRecipe, out_dir: Path,
              reporter: Reporter | None = None, *,
              init_adapter: Path | None = None) -> DpoResult:
    """Tune LoRA adapters on preference pairs with DPO and save them to ``out_dir``.

    Args:
        base_folder: a local Hugging Face causal-LM folder (safetensors + tokenizer with a
            chat template).
        pairs: checked pairs (see :func:`engine.train.preferences.check_pair`).
        recipe: the DPO recipe (beta, learning rate, LoRA shape, steps...).
        out_dir: the adapter folder to write (replaced atomically if it exists).
        reporter: receives one event per step; its cancel flag is checked before each step.
        init_adapter: a tuned LoRA adapter of ``base_folder`` to train further; it is also
            the reference model. ``None`` starts a new adapter on the base model.

    Returns:
        The adapter folder, steps, seconds, pair count and per-step metrics.

    Raises:
        Cancelled: when the reporter's stop flag is raised; no adapter is written then.
        TrainingOutOfMemory: when memory runs out, with what to lower.
        ValueError: on a tokenizer without chat template or an unknown architecture.
    """
    from engine.train import torch_setup

    reporter = reporter or null_reporter()
    torch_setup.seed_everything(recipe.seed)
    out_dir = Path(out_dir)
    work_dir = out_dir.parent / f".{out_dir.name}.trainer"
    history: list[dict] = []
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # library deprecations, not ours
        try:
            trainer = _trainer(Path(base_folder), pairs, recipe, work_dir, init_adapter,
                               _progress_callback(reporter, history))
            reporter.check_cancel()
            trainer.train()
        except Exception as exc:  # noqa: BLE001 (only memory errors are turned into advice)
            if is_out_of_memory(exc):
                raise TrainingOutOfMemory(oom_message(recipe, exc)) from exc
            raise
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)
        reporter.check_cancel()
        adapter = _save(trainer, out_dir, recipe, Path(base_folder), init_adapter, len(pairs))
    return DpoResult(adapter, trainer.state.global_step, time.perf_counter() - started,
                     len(pairs), history)
