"""The moving parts of one run (model, optimizer, schedule, data, loop state) and its steps.

Only heavy code paths import this module (through :func:`engine.train.loop.train`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from engine.fsutil import write_folder_atomically
from engine.progress import Reporter
from engine.train import checkpoints
from engine.train.build import autocast, build_model, build_optimizer
from engine.train.schedule import BEST_FOLDER, RECIPE_FILE, step_groups, total_steps
from engine.train.recipe import TrainRecipe
from engine.train.tasks import collate_task, encode_task, loss_count, summed_loss
from engine.train.weights import example_weights, weight_table
from engine.versions import library_versions


@dataclass
class RunState:
    """Everything a step needs; ``state`` is what a checkpoint saves besides the tensors."""

    recipe: TrainRecipe
    tokenizer: Any
    model: Any
    optimizer: Any
    scheduler: Any
    examples: list
    eval_examples: list
    label_names: list[str]
    steps: int
    checkpoint_dir: Path
    state: checkpoints.LoopState
    stopped_early: bool = False
    resumed_from: int = 0
    reweighting: dict = field(default_factory=dict)
    saved_at: float = field(default_factory=time.monotonic)  # last checkpoint, or the start

    @classmethod
    def prepare(cls, model_folder: Path, tokenizer: Any, records: list, eval_records: list,
                recipe: TrainRecipe, checkpoint_dir: Path, label_names: list[str]) -> "RunState":
        """Encode the data, build the model, optimizer and schedule."""
        from transformers import get_scheduler

        weights = example_weights(records, recipe.reweight_by, recipe.task) \
            if recipe.reweight_by else None
        data = encode_task(recipe.task, tokenizer, records, recipe.max_length, recipe.packing,
                           label_names or None, weights)
        held = encode_task(recipe.task, tokenizer, eval_records, recipe.max_length,
                           recipe.packing, data.label_names or None) if eval_records else None
        model = build_model(model_folder, recipe, data.label_names)
        optimizer = build_optimizer(recipe, [p for p in model.parameters() if p.requires_grad])
        steps = total_steps(len(data.examples), recipe)
        scheduler = get_scheduler(recipe.scheduler, optimizer, num_training_steps=steps,
                                  num_warmup_steps=round(steps * recipe.warmup_ratio))
        reweighting = {"field": recipe.reweight_by, "groups": weight_table(
            records, recipe.reweight_by, recipe.task, weights)} if weights else {}
        return cls(recipe, tokenizer, model, optimizer, scheduler, data.examples,
                   held.examples if held else [], data.label_names, steps, Path(checkpoint_dir),
                   checkpoints.LoopState(), reweighting=reweighting)

    def resume_from_newest(self) -> None:
        """Load the newest complete checkpoint, if there is one."""
        newest = checkpoints.newest(self.checkpoint_dir)
        if newest is not None:
            self.state = checkpoints.load(newest, self.model, self.optimizer, self.scheduler)
            self.resumed_from = self.state.step

    @property
    def device(self) -> Any:
        return self.model.get_input_embeddings().weight.device

    def _pad_id(self) -> int:
        pad = self.tokenizer.pad_token_id
        return pad if pad is not None else 0

    def optimizer_step(self, group: list[list[Any]]) -> tuple[float, int]:
        """Forward/backward each micro-batch, then one optimizer step; mean loss, tokens."""
        task, device = self.recipe.task, self.device
        batches = [collate_task(task, batch, self._pad_id()) for batch in group]
        count = max(1, sum(loss_count(task, batch) for batch in batches))
        tokens = sum(int(batch["attention_mask"].sum()) for batch in batches)
        total = torch.zeros((), dtype=torch.float32, device=device)
        for batch in batches:
            batch = {key: value.to(device) for key, value in batch.items()}
            with autocast(self.recipe, device):
                loss = summed_loss(task, self.model, batch)
            (loss / count).backward()
            total += loss.detach()
        if self.recipe.max_grad_norm:
            torch.nn.utils.clip_grad_norm_(
                [p for p in self.model.parameters() if p.requires_grad], self.recipe.max_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return float(total) / count, tokens

    @torch.no_grad()
    def eval_loss(self) -> float:
        """Mean loss on the held-out examples."""
        self.model.eval()
        task, total, count = self.recipe.task, 0.0, 0
        for start in range(0, len(self.eval_examples), self.recipe.batch_size):
            batch = collate_task(task, self.eval_examples[start:start + self.recipe.batch_size],
                                 self._pad_id())
            count += loss_count(task, batch)
            batch = {key: value.to(self.device) for key, value in batch.items()}
            with autocast(self.recipe, self.device):
                total += float(summed_loss(task, self.model, batch))
        self.model.train()
        return total / max(count, 1)

    def train_steps(self, reporter: Reporter) -> None:
        """Run the remaining steps; checkpoints, evaluation, early stopping, events."""
        recipe, state = self.recipe, self.state
        for group in step_groups(self.examples, recipe, self.steps, skip=state.step):
            reporter.check_cancel()
            started = time.perf_counter()
            learning_rate = self.scheduler.get_last_lr()[0]
            loss, tokens = self.optimizer_step(group)
            state.step += 1
            state.tokens += tokens
            state.seconds += time.perf_counter() - started
            state.losses.append([state.step, loss])
            metrics = {"loss": loss, "lr": learning_rate,
                       "tokens_per_s": state.tokens / max(state.seconds, 1e-9),
                       "eta_s": state.seconds / state.step * (self.steps - state.step)}
            if self._evaluation_due():
                metrics["eval_loss"] = self._evaluate()
            if self._checkpoint_due():
                checkpoints.save(self.checkpoint_dir, self.model, self.optimizer,
                                 self.scheduler, state, recipe.keep_checkpoints)
                self.saved_at = time.monotonic()
            if state.step % recipe.logging_every == 0 or state.step == self.steps \
                    or "eval_loss" in metrics:
                reporter.report(state.step, self.steps, f"step {state.step}/{self.steps}",
                                **metrics)
            if self._should_stop():
                self.stopped_early = True
                return

    def _checkpoint_due(self) -> bool:
        """Every ``checkpoint_every`` steps, every ``checkpoint_minutes``, and on CPU once
        after the first 10 % of steps, so that a short run killed early need not restart."""
        recipe, step = self.recipe, self.state.step
        if step >= self.steps:
            return False
        if recipe.checkpoint_every and step % recipe.checkpoint_every == 0:
            return True
        if recipe.checkpoint_minutes and \
                time.monotonic() - self.saved_at >= recipe.checkpoint_minutes * 60:
            return True
        enabled = recipe.checkpoint_every or recipe.checkpoint_minutes
        return bool(enabled) and self.device.type == "cpu" and step == max(1, self.steps // 10)

    def _evaluation_due(self) -> bool:
        if not self.eval_examples:
            return False
        every = self.recipe.eval_every or self.recipe.checkpoint_every
        return self.state.step == self.steps or bool(every and self.state.step % every == 0)

    def _evaluate(self) -> float:
        state, value = self.state, self.eval_loss()
        state.eval_losses.append([state.step, value])
        if state.best_eval is None or value < state.best_eval:
            state.best_eval, state.best_step, state.evals_without_gain = value, state.step, 0
            from safetensors.torch import save_file

            write_folder_atomically(self.checkpoint_dir / BEST_FOLDER, lambda folder: save_file(
                checkpoints.trainable_state(self.model), str(folder / checkpoints.WEIGHTS_FILE)),
                replace=True)
        else:
            state.evals_without_gain += 1
        return value

    def _should_stop(self) -> bool:
        patience = self.recipe.early_stopping_patience
        return bool(patience) and self.state.evals_without_gain >= patience

    def _restore_best(self) -> None:
        from safetensors.torch import load_file

        best = self.checkpoint_dir / BEST_FOLDER / checkpoints.WEIGHTS_FILE
        if self.state.best_step and self.state.best_step != self.state.step and best.is_file():
            parameters = dict(self.model.named_parameters())
            with torch.no_grad():
                for name, tensor in load_file(str(best)).items():
                    parameters[name].copy_(tensor.to(parameters[name].device))

    def save_output(self, out_dir: Path, model_folder: Path) -> Path:
        """Write the adapter or model (the best one when evaluated) atomically."""
        self._restore_best()
        recipe = self.recipe

        def write(folder: Path) -> None:
            self.model.save_pretrained(str(folder), safe_serialization=True)
            self.tokenizer.save_pretrained(str(folder))
            (folder / RECIPE_FILE).write_text(json.dumps(
                {"method": recipe.method, "task": recipe.task, "recipe": recipe.to_dict(),
                 "base_model": str(model_folder), "label_names": self.label_names,
                 "best_step": self.state.best_step, "steps": self.state.step,
                 "reweighting": self.reweighting,
                 "versions": library_versions()}, indent=2))

        return write_folder_atomically(out_dir, write, replace=True)
