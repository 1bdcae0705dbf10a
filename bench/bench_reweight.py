"""Re-weighting training samples by group: its effect on a classifier's fairness.

A generated triage set: referrals from two clinics, labelled ``urgent`` or ``routine``. Clinic
B is rare (``--minority`` of the training records) and its labels are skewed (mostly
routine). Half of the referrals name a clear symptom of their label; the other half name an
ambiguous one, where only the clinic hints at the label, so a model trained on these records
learns "clinic B → routine" and misses clinic B's urgent cases. The same classifier (the
bundled all-MiniLM-L6-v2, fine-tuned, CPU) is trained without and with ``reweight_by =
"clinic"`` (Kamiran & Calders weights, :mod:`engine.train.weights`) and scored on a held-out
set with as many referrals from each clinic, by :mod:`engine.evaluate.fairness`.

    python bench/bench_reweight.py            # three seeds: about 4 minutes on 2 idle cores
    python bench/bench_reweight.py --seeds 1  # one seed: about 80 seconds

Prints per-clinic accuracy, true and false positive rates, and the equal-opportunity and
equalized-odds differences (lower is fairer) of both runs, as means over the training seeds
(each seed's equal-opportunity difference too).
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path

import engine  # noqa: F401  (offline switches before any model library)

URGENT = ["crushing chest pain", "sudden slurred speech", "coughing up blood",
          "fainting at rest", "severe shortness of breath"]
ROUTINE = ["a mild skin rash", "a repeat prescription", "a routine blood pressure check",
           "a minor ankle sprain", "seasonal hay fever"]
AMBIGUOUS = ["a headache", "tiredness", "back pain", "dizziness", "a persistent cough"]


def referrals(count: int, minority: float, seed: int, skewed: bool = True) -> list[dict]:
    """Generated referrals; clinic B is ``minority`` of them, 15 % urgent if ``skewed``."""
    rng = random.Random(seed)
    records = []
    for _ in range(count):
        clinic = "B" if rng.random() < minority else "A"
        urgent_share = 0.15 if clinic == "B" and skewed else 0.5
        label = "urgent" if rng.random() < urgent_share else "routine"
        clear = rng.random() < 0.5
        symptom = rng.choice((URGENT if label == "urgent" else ROUTINE) if clear else AMBIGUOUS)
        age = rng.randint(18, 90)
        records.append({"text": f"Referral from clinic {clinic}: patient aged {age} with "
                                f"{symptom}.", "label": label, "clinic": clinic})
    return records


def balanced_test_set(per_clinic: int, seed: int) -> list[dict]:
    """Held-out referrals: ``per_clinic`` from each clinic, half of them urgent.

    The rates (TPR, FPR) are per label, so an even mix measures them as well for both clinics.
    """
    pool = referrals(per_clinic * 3, 0.5, seed, skewed=False)
    return [r for r in pool if r["clinic"] == "A"][:per_clinic] + \
        [r for r in pool if r["clinic"] == "B"][:per_clinic]


def predict(folder: Path, records: list[dict]) -> list[str]:
    """Labels predicted by the trained classifier saved in ``folder``."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        str(folder), local_files_only=True, use_safetensors=True)
    model.eval()
    labels = []
    with torch.no_grad():
        for start in range(0, len(records), 64):
            texts = [r["text"] for r in records[start:start + 64]]
            inputs = tokenizer(texts, padding=True, truncation=True, max_length=64,
                               return_tensors="pt")
            labels += [model.config.id2label[int(i)] for i in model(**inputs).logits.argmax(-1)]
    return labels


def run(train_records: list[dict], test_records: list[dict], seed: int, steps: int,
        reweight: bool) -> dict:
    """Train one classifier and score its fairness on ``test_records``."""
    from engine.evaluate.fairness import classifier_fairness
    from engine.models.bundled import minilm_folder
    from engine.train.loop import train
    from engine.train.recipe import TrainRecipe

    recipe = TrainRecipe(method="full", task="classification", learning_rate=1e-4,
                         max_steps=steps, batch_size=16, max_length=64, seed=seed,
                         warmup_ratio=0.1, checkpoint_every=0,
                         reweight_by="clinic" if reweight else "")
    with tempfile.TemporaryDirectory() as scratch:
        result = train(minilm_folder(), train_records, recipe, Path(scratch) / "model")
        predicted = predict(result.adapter_dir, test_records)
    scores = classifier_fairness([r["label"] for r in test_records], predicted,
                                 [r["clinic"] for r in test_records], pos_label="urgent")
    scores["seconds"] = result.seconds
    return scores


def _mean(runs: list[dict]) -> dict:
    """Mean of the numeric scores of several runs (per group too)."""
    first = runs[0]
    mean = {key: sum(r[key] for r in runs) / len(runs)
            for key, value in first.items() if isinstance(value, float)}
    mean["by_group"] = {group: {name: sum(r["by_group"][group][name] for r in runs) / len(runs)
                                for name in first["by_group"][group]}
                        for group in first["by_group"]}
    return mean


def _print_table(results: dict[str, dict]) -> None:
    print(f"{'run':<12}{'accuracy A/B':>15}{'TPR A/B':>15}{'FPR A/B':>15}"
          f"{'EO diff':>9}{'EOdds diff':>12}{'DP diff':>9}{'train s':>9}")
    for name, scores in results.items():
        a, b = scores["by_group"]["A"], scores["by_group"]["B"]
        cells = [f"{a[key]:.2f}/{b[key]:.2f}" for key in ("accuracy", "tpr", "fpr")]
        print(f"{name:<12}{cells[0]:>15}{cells[1]:>15}{cells[2]:>15}"
              f"{scores['equal_opportunity_difference']:>9.3f}"
              f"{scores['equalized_odds_difference']:>12.3f}"
              f"{scores['demographic_parity_difference']:>9.3f}{scores['seconds']:>9.1f}")


def _print_weights(train_records: list[dict]) -> None:
    from engine.train.weights import example_weights, weight_table

    weights = example_weights(train_records, "clinic", "classification")
    rows = weight_table(train_records, "clinic", "classification", weights)
    print("training weights: " + ", ".join(
        f"clinic {row['group']} {row['label']} ×{row['weight']:.2f} (n={row['count']})"
        for row in rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=480)
    parser.add_argument("--minority", type=float, default=0.15)
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--test-per-clinic", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()  # the new head's "newly initialized" report
    train_records = referrals(args.records, args.minority, seed=0)
    test_records = balanced_test_set(args.test_per_clinic, seed=1)
    results: dict[str, list[dict]] = {"plain": [], "reweighted": []}
    for seed in range(args.seeds):
        for name in results:
            results[name].append(run(train_records, test_records, seed, args.steps,
                                     name == "reweighted"))
    share_b = sum(r["clinic"] == "B" for r in train_records) / len(train_records)
    print(f"MiniLM classifier, full fine-tuning, {args.steps} steps of 16, "
          f"{len(train_records)} training referrals (clinic B {share_b:.0%}, mostly routine); "
          f"test: {args.test_per_clinic} per clinic, half urgent; positive label 'urgent'; "
          f"{args.seeds} seed(s)")
    _print_weights(train_records)
    _print_table({name: _mean(runs) for name, runs in results.items()})
    if args.seeds > 1:
        print("per seed, equal-opportunity difference: " + "; ".join(
            f"{name} " + " ".join(f"{r['equal_opportunity_difference']:.3f}" for r in runs)
            for name, runs in results.items()))
    plain, weighted = (_mean(results[name]) for name in ("plain", "reweighted"))
    print(f"equal-opportunity difference {plain['equal_opportunity_difference']:.3f} → "
          f"{weighted['equal_opportunity_difference']:.3f}; equalized-odds difference "
          f"{plain['equalized_odds_difference']:.3f} → "
          f"{weighted['equalized_odds_difference']:.3f} (lower is fairer)")


if __name__ == "__main__":
    main()
