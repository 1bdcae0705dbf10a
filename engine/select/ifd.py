"""Instruction-following difficulty (IFD, Li et al. 2023, "From Quantity to Quality").

IFD of an instruction record = loss of the response given the prompt divided by the
loss of the response alone, under a small causal LM (the bundled SmolLM2). High = the
prompt helps little = a harder, more informative example.

Each record needs two forward passes. They run in batches of similar length (sorted,
padded on the right, with an attention mask), under ``torch.inference_mode``, with the
output layer applied only at the positions that predict response tokens (the prompt's
positions need no vocabulary-sized logits), on a number of torch threads sized to the
cores that are free (see :func:`engine.models.threads.free_cores`): on a busy machine
two threads that wait on each other at every operation were measured 6x slower than one.
Batched scores equal one-record-at-a-time scores to float rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils

from engine.models.device import cpu_dtype
from engine.models.loading import load_causal_lm, load_tokenizer
from engine.models.threads import torch_threads
from engine.progress import Reporter, null_reporter
from engine.store import embeddings as store

MAX_CONTEXT_TOKENS = 256  # the prompt's last tokens kept
MAX_RESPONSE_TOKENS = 192  # the response's first tokens kept
CACHE_EVERY = 128  # records scored between two writes to the cache (a few CPU-minutes)
# Configs whose logits are more than the output layer applied to the last hidden state.
_LOGIT_POSTPROCESSING = ("final_logit_softcapping", "logit_scale", "output_multiplier_scale")


@dataclass(frozen=True)
class _Sequence:
    """Token ids of one pass; the loss covers ids[first_target:]."""

    ids: list[int]
    first_target: int


def _sequences(tokenizer: Any, record: dict) -> tuple[_Sequence, _Sequence]:
    """The conditioned (prompt + response) and the response-alone pass of one record."""
    context = tokenizer(record["prompt"] + "\n", add_special_tokens=False)["input_ids"]
    context = context[-MAX_CONTEXT_TOKENS:]
    response = tokenizer(record["response"], add_special_tokens=False)["input_ids"]
    response = response[:MAX_RESPONSE_TOKENS] or [tokenizer.eos_token_id]
    # Alone, the first response token has nothing to be predicted from.
    return _Sequence(context + response, len(context)), _Sequence(response, 1)


def _check_records(records: list[dict]) -> None:
    for position, record in enumerate(records):
        if not isinstance(record.get("prompt"), str) or not isinstance(record.get("response"), str):
            raise ValueError(f"record {position} has no prompt/response; the ifd score is "
                             "for instruction records only")


def _batch_losses(model: Any, batch: list[_Sequence], pad_id: int) -> np.ndarray:
    """Mean next-token loss over each sequence's targets (NaN where it has none)."""
    import torch

    width = max(len(s.ids) for s in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    rows, columns, owners = [], [], []
    for row, sequence in enumerate(batch):
        ids[row, :len(sequence.ids)] = torch.tensor(sequence.ids)
        mask[row, :len(sequence.ids)] = 1
        for position in range(max(sequence.first_target, 1), len(sequence.ids)):
            rows.append(row)
            columns.append(position)
            owners.append(row)
    rows_t, columns_t = torch.tensor(rows, dtype=torch.long), torch.tensor(columns, dtype=torch.long)
    targets = ids[rows_t, columns_t]
    logits = _logits_at(model, ids, mask, rows_t, columns_t - 1)
    token_loss = torch.nn.functional.cross_entropy(logits.float(), targets, reduction="none")
    owners_t = torch.tensor(owners, dtype=torch.long)
    total = torch.zeros(len(batch)).index_add_(0, owners_t, token_loss)
    count = torch.zeros(len(batch)).index_add_(0, owners_t, torch.ones_like(token_loss))
    return (total / count).numpy()  # 0/0 = NaN: no target


def _logits_at(model: Any, ids: Any, mask: Any, rows: Any, columns: Any) -> Any:
    """Logits at (row, column) positions only, with the output layer applied there alone."""
    if any(getattr(model.config, name, None) not in (None, 1, 1.0)
           for name in _LOGIT_POSTPROCESSING):
        return model(input_ids=ids, attention_mask=mask).logits[rows, columns]
    hidden = model.get_decoder()(input_ids=ids, attention_mask=mask).last_hidden_state
    return model.get_output_embeddings()(hidden[rows, columns])


def _losses(model: Any, sequences: list[_Sequence], pad_id: int, batch_size: int,
            reporter: Reporter, counted: tuple[int, int]) -> np.ndarray:
    """Loss of every sequence, in batches of similar length; ``counted`` is (records
    scored before these, records in the whole job) for the progress messages."""
    import torch

    order = np.argsort([len(s.ids) for s in sequences], kind="stable")
    losses = np.zeros(len(sequences))
    before, whole = counted
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            reporter.check_cancel()
            chosen = order[start:start + batch_size]
            losses[chosen] = _batch_losses(model, [sequences[i] for i in chosen], pad_id)
            done = 2 * before + min(start + batch_size, len(order))
            reporter.report(done, 2 * whole, f"Scored {done // 2}/{whole} records")
    return losses


class _Scorer:
    """SmolLM2 (or another causal LM) and its tokenizer, loaded once for many records."""

    def __init__(self, folder: Path, dtype: str) -> None:
        self.tokenizer = load_tokenizer(folder)
        self.model = load_causal_lm(folder, dtype=cpu_dtype(dtype))
        pad = self.tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else self.tokenizer.eos_token_id

    def scores(self, records: list[dict], reporter: Reporter, batch_size: int,
               threads: int | None, counted: tuple[int, int]) -> np.ndarray:
        """IFD of each record (see :func:`ifd_scores`); ``counted`` as for ``_losses``."""
        sequences = [s for record in records for s in _sequences(self.tokenizer, record)]
        with torch_threads(threads):
            losses = _losses(self.model, sequences, self.pad_id, max(1, batch_size),
                             reporter, counted)
        conditioned, alone = losses[0::2], losses[1::2]
        scores = conditioned / np.maximum(alone, 1e-6)
        return np.where(np.isfinite(scores), scores, 1.0)


def ifd_scores(records: list[dict], folder: Path, reporter: Reporter | None = None, *,
               batch_size: int = 8, threads: int | None = None,
               dtype: str = "float32") -> np.ndarray:
    """Instruction-following difficulty of each instruction record.

    Args:
        records: records with string ``prompt`` and ``response``.
        folder: a local causal LM folder (loaded once).
        reporter: progress per batch; cancel between batches.
        batch_size: sequences per forward pass (1 = one at a time; same scores).
        threads: torch threads; None = the cores not busy with other work.
        dtype: the model's dtype; ``bfloat16`` about halves the time on a CPU with
            native bfloat16 (on others float32 runs instead: emulated bfloat16 was 7x
            slower) and moved scores by at most 0.004 (values near 0.9) on
            SmolLM2 in the benchmark's records.

    Returns:
        One float per record (1.0 where the response has a single token, so no
        response-alone loss exists).

    Raises:
        ValueError: if a record lacks ``prompt`` or ``response``.
        ModelRefused: if the folder is not a safe model folder.
        Cancelled: if cancel was asked for.
    """
    reporter = reporter or null_reporter()
    _check_records(records)
    if not records:
        return np.zeros(0)
    return _Scorer(folder, dtype).scores(records, reporter, batch_size, threads,
                                         (0, len(records)))


def ifd_scores_cached(db: sqlite_utils.Database, records: list[dict], folder: Path,
                      reporter: Reporter | None = None, *, batch_size: int = 8,
                      threads: int | None = None, dtype: str = "float32") -> np.ndarray:
    """:func:`ifd_scores` through the embeddings cache (a 1-value vector per record).

    Scores are stored every :data:`CACHE_EVERY` records, so a scoring that is cancelled
    or killed keeps what it finished, and the next run scores only the rest.
    """
    reporter = reporter or null_reporter()
    _check_records(records)
    dtype = cpu_dtype(dtype)
    model = f"score:ifd:{Path(folder).name}" + ("" if dtype == "float32" else f":{dtype}")
    hashes = [store.text_hash(store.pair_text(r)) for r in records]
    found = store.lookup(db, hashes, model)
    first: dict[str, int] = {}  # each text scored once, however often it appears
    for index, digest in enumerate(hashes):
        if digest not in found:
            first.setdefault(digest, index)
    todo = list(first.values())
    scorer = _Scorer(folder, dtype) if todo else None
    for start in range(0, len(todo), CACHE_EVERY):
        part = todo[start:start + CACHE_EVERY]
        fresh = scorer.scores([records[i] for i in part], reporter, batch_size, threads,
                              (start, len(todo)))
        store.store(db, [hashes[i] for i in part], model, fresh.reshape(-1, 1))
        found.update({hashes[i]: np.array([v], np.float16).astype(np.float32)  # as read back
                      for i, v in zip(part, fresh)})
    return np.array([float(found[h][0]) for h in hashes])
