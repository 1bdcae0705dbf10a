"""The moving parts of one run (model, optimizer, schedule, data, loop state) and its steps.

Only heavy code paths import this module (through :func:`engine.train.loop.train`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from engine.fsutil import write_folder_atomically
from engine.progress import Cancelled, Reporter
from engine.train import checkpoints
from engine.train.build import autocast, build_model, build_optimizer
from engine.train.distributed import Ranks, single
from engine.train.recipe import TrainRecipe
from engine.train.schedule import BEST_FOLDER, RECIPE_FILE, step_groups, total_steps
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
    ranks: Ranks = field(default_factory=single)

    @classmethod
    def prepare(cls, model_folder: Path, tokenizer: Any, records: list, eval_records: list,
                recipe: TrainRecipe, checkpoint_dir: Path, label_names: list[str],
                ranks: Ranks | None = None) -> "RunState":
        """Encode the data, build the model (wrapped for DDP/FSDP when launched on several
        processes), optimizer and schedule."""
        from transformers import get_scheduler

        from engine.train import torch_setup

        ranks = ranks or single()

        weights = example_weights(records, recipe.reweight_by, recipe.task) \
            if recipe.reweight_by else None
        data = encode_task(recipe.task, tokenizer, records, recipe.max_length, recipe.packing,
                           label_names or None, weights)
        held = encode_task(recipe.task, tokenizer, eval_records, recipe.max_length,
                           recipe.packing, data.label_names or None) if eval_records else None
        model = ranks.wrap(build_model(model_folder, recipe, data.label_names,
                                       ranks.device(torch_setup.training_device()[0])))
        optimizer = build_optimizer(recipe, [p for p in model.parameters() if p.requires_grad])
        steps = total_steps(len(data.examples), _global_schedule(recipe, ranks))
        scheduler = get_scheduler(recipe.scheduler, optimizer, num_training_steps=steps,
                                  num_warmup_steps=round(steps * recipe.warmup_ratio))
        reweighting = {"field": recipe.reweight_by, "groups": weight_table(
            records, recipe.reweight_by, recipe.task, weights)} if weights else {}
        return cls(recipe, tokenizer, model, optimizer, scheduler, data.examples,
                   held.examples if held else [], data.label_names, steps, Path(checkpoint_dir),
                   checkpoints.LoopState(), reweighting=reweighting, ranks=ranks)

    def resume_from_newest(self) -> None:
        """Load the newest complete checkpoint, if there is one (every rank loads it)."""
        newest = checkpoints.newest(self.checkpoint_dir)
        if newest is not None:
            restore = (lambda weights, optimizer_state: self.ranks.restore_sharded(
                self.model, self.optimizer, weights, optimizer_state)) \
                if self.ranks.sharded else None
            self.state = checkpoints.load(newest, self.ranks.unwrap(self.model),
                                          self.optimizer, self.scheduler, restore)
            self.resumed_from = self.state.step

    @property
    def device(self) -> Any:
        return self.ranks.unwrap(self.model).get_input_embeddings().weight.device

    def _pad_id(self) -> int:
        pad = self.tokenizer.pad_token_id
        return pad if pad is not None else 0

    def optimizer_step(self, group: list[list[Any]]) -> tuple[float, int]:
        """Forward/backward this rank's micro-batches of the step, then one optimizer step.

        Every rank holds the whole step; rank r takes micro-batches r, r + world, ... The
        loss is divided by the step's token (or example) count over all ranks and multiplied
        by the world size, which DDP's gradient mean divides out again: the update equals
        one process's with the same global batch. Returns the step's mean loss and tokens.
        """
        task, device, world = self.recipe.task, self.device, self.ranks.world
        batches = [collate_task(task, batch, self._pad_id()) for batch in group]
        count = max(1, sum(loss_count(task, batch) for batch in batches))
        tokens = sum(int(batch["attention_mask"].sum()) for batch in batches)
        mine = batches[self.ranks.rank::world]
        # A rank without a micro-batch in a short last step still joins the all-reduce.
        scale = world / count if mine else 0.0
        total = torch.zeros((), dtype=torch.float32, device=device)
        for index, batch in enumerate(mine or batches[:1]):
            batch = {key: value.to(device) for key, value in batch.items()}
            with self.ranks.no_sync(self.model, index == max(len(mine), 1) - 1):
                with autocast(self.recipe, device):
                    loss = summed_loss(task, self.model, batch)
                (loss * scale).backward()
            total += loss.detach() if mine else 0.0
        (total_sum,) = self.ranks.sum(float(total))
        if self.recipe.max_grad_norm:
            torch.nn.utils.clip_grad_norm_(
                [p for p in self.model.parameters() if p.requires_grad], self.recipe.max_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return total_sum / count, tokens

    @torch.no_grad()
    def eval_loss(self) -> float:
        """Mean loss on the held-out examples (batches shared out over the ranks under DDP;
        under FSDP every rank runs every batch, as each forward gathers weights)."""
        model = self.ranks.unwrap(self.model)
        model.eval()
        task, total, count = self.recipe.task, 0.0, 0
        size = self.recipe.batch_size
        starts = list(range(0, len(self.eval_examples), size))
        mine = starts if self.ranks.sharded else starts[self.ranks.rank::self.ranks.world]
        for start in mine:
            batch = collate_task(task, self.eval_examples[start:start + size], self._pad_id())
            count += loss_count(task, batch)
            batch = {key: value.to(self.device) for key, value in batch.items()}
            with autocast(self.recipe, self.device):
                total += float(summed_loss(task, model, batch))
        model.train()
        if not self.ranks.sharded:
            total, count = self.ranks.sum(total, count)
        return total / max(count, 1)

    def train_steps(self, reporter: Reporter) -> None:
        """Run the remaining steps; checkpoints, evaluation, early stopping, events."""
        recipe, state = self.recipe, self.state
        schedule = _global_schedule(recipe, self.ranks)
        for group in step_groups(self.examples, schedule, self.steps, skip=state.step):
            self._check_cancel(reporter)
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
            if self.ranks.any(self._checkpoint_due()):
                self._save_checkpoint()
            if self.ranks.is_main and (state.step % recipe.logging_every == 0
                                       or state.step == self.steps or "eval_loss" in metrics):
                reporter.report(state.step, self.steps, f"step {state.step}/{self.steps}",
                                **metrics)
            if self._should_stop():
                self.stopped_early = True
                return

    def _check_cancel(self, reporter: Reporter) -> None:
        """Raise :class:`Cancelled` on every rank when any rank was asked to stop."""
        try:
            reporter.check_cancel()
            asked = False
        except Cancelled:
            asked = True
        if self.ranks.any(asked):
            raise Cancelled("train cancelled")

    def _save_checkpoint(self) -> None:
        """Rank 0 writes the checkpoint (weights and optimizer state gathered first under
        FSDP); all then wait."""
        if self.ranks.sharded:
            weights, optimizer_state = self.ranks.sharded_states(self.model, self.optimizer)
        else:
            weights, optimizer_state = self.ranks.trainable_state(self.model), None
        if self.ranks.is_main:
            checkpoints.save(self.checkpoint_dir, self.ranks.unwrap(self.model),
                             self.optimizer, self.scheduler, self.state,
                             self.recipe.keep_checkpoints, weights=weights,
                             optimizer_state=optimizer_state)
        self.ranks.barrier()
        self.saved_at = time.monotonic()

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

            weights = self.ranks.trainable_state(self.model)
            if self.ranks.is_main:
                write_folder_atomically(self.checkpoint_dir / BEST_FOLDER, lambda folder:
                                        save_file(weights, str(folder / checkpoints.WEIGHTS_FILE)),
                                        replace=True)
        else:
            state.evals_without_gain += 1
        return value

    def _should_stop(self) -> bool:
        patience = self.recipe.early_stopping_patience
        return bool(patience) and self.state.evals_without_gain >= patience

    def _best_weights(self) -> dict[str, Any]:
        """The kept best weights when they differ from the current ones, else nothing."""
        from safetensors.torch import load_file

        best = self.checkpoint_dir / BEST_FOLDER / checkpoints.WEIGHTS_FILE
        if self.state.best_step and self.state.best_step != self.state.step and best.is_file():
            return load_file(str(best))
        return {}

    def save_output(self, out_dir: Path, model_folder: Path) -> Path:
        """Write the adapter or model (the best one when evaluated) atomically.

        Only rank 0 writes; under FSDP the full weights are gathered first (every rank takes
        part), and the other ranks wait until the folder is in place.
        """
        recipe, model = self.recipe, self.ranks.unwrap(self.model)
        gathered = self.ranks.full_state(self.model) if self.ranks.sharded else None
        if self.ranks.is_main:
            best = self._best_weights()
            if gathered is not None:
                gathered.update(best)
            elif best:
                parameters = dict(model.named_parameters())
                with torch.no_grad():
                    for name, tensor in best.items():
                        parameters[name].copy_(tensor.to(parameters[name].device))

            def write(folder: Path) -> None:
                extra = {"state_dict": gathered} if gathered is not None else {}
                model.save_pretrained(str(folder), safe_serialization=True, **extra)
                self.tokenizer.save_pretrained(str(folder))
                (folder / RECIPE_FILE).write_text(json.dumps(
                    {"method": recipe.method, "task": recipe.task, "recipe": recipe.to_dict(),
                     "base_model": str(model_folder), "label_names": self.label_names,
                     "best_step": self.state.best_step, "steps": self.state.step,
                     "reweighting": self.reweighting, "processes": self.ranks.world,
                     "versions": library_versions()}, indent=2))

            write_folder_atomically(out_dir, write, replace=True)
        self.ranks.barrier()
        return Path(out_dir)


def _global_schedule(recipe: TrainRecipe, ranks: Ranks) -> TrainRecipe:
    """The recipe whose step takes every rank's micro-batches: grad_accum × world."""
    if ranks.world == 1:
        return recipe
    return replace(recipe, grad_accum=recipe.grad_accum * ranks.world)
