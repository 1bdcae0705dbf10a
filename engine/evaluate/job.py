"""An evaluation run: base vs tuned (vs compressed variants) on the same test prompts,
scored and stored.

For every model side: greedy answers (stored as evaluation rows for side-by-side view and
expert review), perplexity on the reference answers, exact match, BLEU, chrF, ROUGE, and
per-group ROUGE-L / exact match when the records carry the group field. Test records that
also occur in the project's training data are left out and counted. When the project
redacts, test records (a file brought for the test too) are redacted before any model
sees them, and answers are stored redacted (see :mod:`engine.data.privacy`).
"""

from __future__ import annotations

import gc
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import sqlite_utils

from engine.config import Recipe, option
from engine.data.privacy import display_redactor, redact_records
from engine.evaluate import sources
from engine.evaluate.compare import parse_compare
from engine.evaluate.exact_match import exact_match
from engine.evaluate.fairness import score_fairness
from engine.evaluate.generation import generate_answers, prompt_messages, reference_answer
from engine.evaluate.text_overlap import bleu, chrf, rouge
from engine.jobs.registry import JobContext
from engine.metrics.perplexity import perplexity
from engine.models.loading import load_causal_lm, load_tokenizer
from engine.models.run_models import get_run
from engine.progress import Reporter
from engine.store import evaluations, runs


@dataclass
class EvalRecipe(Recipe):
    """What an evaluation does."""

    SECTION = "evaluate"

    run_id: int = field(metadata={"help": "the training run whose models are evaluated"})
    compare: str | None = field(default="base", metadata={
        "help": "models beside the tuned one, comma-separated: 'base', 'compressed' (every "
                "compressed variant of the run), a compression run id or a variant label"})
    test_file: str | None = field(default=None, metadata={"help": "JSONL test file"})
    limit: int = option(50, "test items evaluated at most", min=1)
    max_new_tokens: int = option(48, "tokens generated per answer", min=1)
    batch_size: int = option(8, "prompts per batch", min=1)
    max_length: int = option(256, "tokens per record for perplexity", min=8)
    group_field: str = field(default="kind", metadata={"help": "record field naming the group"})
    counterfactual: bool = field(default=False, metadata={
        "help": "also probe answers with demographic terms swapped in the prompts"})

    def check(self) -> None:
        parse_compare(self.compare)


def load_side(side: sources.ModelSide) -> tuple[Any, Any]:
    """Load a side's model (with its adapter on top, if any) and tokenizer; a compressed
    side loads as the compression measured it (quantized folder, dtype, or GGUF file)."""

    if side.compress_run is not None:
        from engine.compress.measure import load_variant

        return load_variant(side.folder, side.dtype or "float32")

    model = load_causal_lm(side.folder)
    if side.adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(side.adapter))
    return model, load_tokenizer(side.folder)


def item_scores(output: str, reference: str) -> dict[str, float]:
    """Per-item exact match and ROUGE-L (used for review sorting and fairness)."""

    return {"exact_match": exact_match([output], [reference]),
            "rougeL": rouge([output], [reference])["rougeL"]}


def corpus_scores(outputs: list[str], references: list[str]) -> dict[str, float]:
    """Exact match, BLEU, chrF and ROUGE-1/2/L over all items."""

    return {"exact_match": exact_match(outputs, references), "bleu": bleu(outputs, references),
            "chrf": chrf(outputs, references), **rouge(outputs, references)}


def evaluate_side(side: sources.ModelSide, records: list[dict], recipe: EvalRecipe,
                  reporter: Reporter, shown: Callable[[str], str] | None = None
                  ) -> tuple[list[str], dict]:
    """Generate and score one model; returns its answers and corpus metrics.

    ``shown`` (the project's redactor) is applied to the answers before they are scored
    and returned."""

    model, tokenizer = load_side(side)
    metrics: dict = {}
    started = time.time()
    answers = generate_answers(model, tokenizer, records, max_new_tokens=recipe.max_new_tokens,
                               batch_size=recipe.batch_size,
                               reporter=reporter.for_stage(f"generate {side.name}"))
    generate_s = time.time() - started
    if shown is not None:
        answers = [shown(answer) for answer in answers]
    ppl = perplexity(model, tokenizer, records, max_length=recipe.max_length,
                     batch_size=recipe.batch_size, reporter=reporter.for_stage(f"ppl {side.name}"))
    if recipe.counterfactual:
        from engine.evaluate.counterfactual import counterfactual_probe

        prompts = [m[-1]["content"] for m in map(prompt_messages, records)]
        metrics["counterfactual"] = counterfactual_probe(
            model, tokenizer, prompts, max_new_tokens=recipe.max_new_tokens,
            batch_size=recipe.batch_size)
        if shown is not None:
            metrics["counterfactual"]["examples"] = [
                {k: shown(v) for k, v in example.items()}
                for example in metrics["counterfactual"]["examples"]]
    del model
    gc.collect()
    references = [reference_answer(r) for r in records]
    return answers, {"perplexity": ppl.ppl, **corpus_scores(answers, references),
                     "generate_s": round(generate_s, 2), **metrics}


def _group_fairness(records: list[dict], scored: list[dict], group_field: str) -> dict | None:

    if not all(group_field in r for r in records):
        return None
    groups = [str(r[group_field]) for r in records]
    return score_fairness({name: [s[name] for s in scored] for name in scored[0]}, groups)


def run_evaluation(db: sqlite_utils.Database, project_id: int, recipe: EvalRecipe,
                   reporter: Reporter, job_id: int | None = None) -> dict:
    """Evaluate the models of ``recipe.run_id`` and store an ``evaluate`` run.

    Returns:
        The run's summary (``eval_run_id``, ``sides`` with metrics, ``fairness``, counts).

    Raises:
        ValueError: on a missing run, model or test data, or bad test records.
        Cancelled: when the reporter's stop flag is raised (nothing is stored).
    """

    from engine.evaluate.compare import compressed_sides, parse_compare

    with_base, selectors = parse_compare(recipe.compare)
    sides = sources.model_sides(db, recipe.run_id)
    if not with_base:
        sides.pop("base", None)
    sides.update(compressed_sides(db, recipe.run_id, selectors))
    records, source = sources.load_test_records(db, project_id, recipe.test_file,
                                                recipe.run_id)
    records = redact_records(db, project_id, records)
    shown = display_redactor(db, project_id)
    leaked = sources.contaminated(db, project_id, records)
    records = [r for i, r in enumerate(records) if i not in leaked][:recipe.limit]
    if not records:
        raise ValueError(f"every test record of {source} also occurs in the training data")
    references = [reference_answer(r, f"record {i}") for i, r in enumerate(records)]
    prompts = [prompt_messages(r)[-1]["content"] for r in records]
    metrics, fairness, rows = {}, {}, []
    for name, side in sides.items():
        answers, metrics[name] = evaluate_side(side, records, recipe, reporter, shown)
        scored = [item_scores(a, ref) for a, ref in zip(answers, references)]
        fairness[name] = _group_fairness(records, scored, recipe.group_field)
        rows += [{"item": i, "side": name, "prompt": prompts[i], "reference": references[i],
                  "output": answers[i], "group": records[i].get(recipe.group_field),
                  "scores": scored[i]} for i in range(len(records))]
    summary = {"source_run": recipe.run_id, "test": source, "items": len(records),
               "contaminated": len(leaked), "sides": metrics, "group_field": recipe.group_field,
               "fairness": fairness,
               "compressed": {name: {"run_id": side.compress_run, "path": str(side.folder)}
                              for name, side in sides.items() if side.compress_run}}
    run_id = runs.create(db, project_id, "evaluate", f"evaluate run {recipe.run_id}",
                         asdict(recipe), job_id)
    evaluations.add_outputs(db, run_id, rows)
    summary["eval_run_id"] = run_id
    runs.set_summary(db, run_id, summary)
    return summary


def evaluate_job(ctx: JobContext) -> dict:
    """Job entry point: params are the fields of :class:`EvalRecipe`."""
    recipe = EvalRecipe(**ctx.params)
    project_id = ctx.project_id
    if project_id is None:
        project_id = get_run(ctx.db, recipe.run_id)["project_id"]
    return run_evaluation(ctx.db, project_id, recipe, ctx.reporter, ctx.job_id)
