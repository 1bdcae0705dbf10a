"""Embedding throughput: engine.models.encoder.embed_texts vs plain sentence-transformers.

All arms embed the same generated sentences with the bundled all-MiniLM-L6-v2 in the
same process, model load included in every arm (sentence-transformers builds its
model, ours drops its kept model first): sentence-transformers' ``encode`` (the
baseline), ``embed_texts`` in float32 (PyTorch) and in int8 (ONNX Runtime; its export
into the models folder happens once, before the timing, as on a user's first run).
Mixed, short (5-15 words) and long (60-120 words) texts are timed apart; each arm runs
--repeats times, interleaved, and its fastest run counts, so that other work on a
shared machine does not decide the ratio. Then the int8 vectors are checked against
float32: cosine per row, and the selection ``auto`` makes on the 32-label clinical
topic proof set (rows in common, and the probe accuracy of each selection).

    python bench/bench_embed.py [N] [--repeats 3] [--batch-size 64] [--sets mixed,short,long]
        [--no-selection]
"""

from __future__ import annotations

import argparse
import random
import sys
import time

import numpy as np

import engine  # noqa: F401  (offline switches)
from engine.models.bundled import minilm_folder
from engine.models.encoder import _load_encoder, embed_texts

SUBJECTS = ["The patient", "The tenant", "Our client", "The radiology report", "The court",
            "The nurse on duty", "The second defendant", "A follow-up scan"]
VERBS = ["noted", "confirmed", "disputed", "recorded", "described", "requested", "rejected"]
OBJECTS = ["mild swelling of the left ankle", "a breach of the lease agreement",
           "no abnormality", "an appeal against the ruling", "elevated blood pressure",
           "the payment schedule agreed in March", "a history of asthma since childhood"]
TAILS = ["", " after the visit.", " during the hearing on Tuesday.",
         " and asked for a second opinion from a specialist at the regional hospital.",
         " which the parties had already discussed at length in earlier correspondence, "
         "including the letters of 3 and 17 June and the minutes of the meeting."]


def sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` varied sentences of mixed length."""
    rng = random.Random(seed)
    return [f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
            f"{rng.choice(TAILS)}" for _ in range(n)]


def long_texts(n: int, seed: int = 1) -> list[str]:
    """``n`` texts of about 60-120 words (several sentences each)."""
    rng = random.Random(seed)
    pool = sentences(8 * n, seed)
    return [" ".join(rng.sample(pool, rng.randint(4, 7))) for _ in range(n)]


def short_texts(n: int, seed: int = 2) -> list[str]:
    """``n`` texts of about 5-15 words."""
    rng = random.Random(seed)
    return [f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}."
            for _ in range(n)]


def _time_arms(texts: list[str], batch_size: int, repeats: int) -> dict[str, tuple]:
    from sentence_transformers import SentenceTransformer

    from engine.models.onnx_encoder import load_int8

    def baseline():
        model = SentenceTransformer(str(minilm_folder()), device="cpu", local_files_only=True)
        return model.encode(texts, batch_size=batch_size, normalize_embeddings=True)

    def ours(precision):
        _load_encoder.cache_clear()
        load_int8.cache_clear()
        return embed_texts(texts, batch_size=batch_size, precision=precision)

    arms = {"sentence-transformers": baseline, "float32": lambda: ours("float32"),
            "int8": lambda: ours("int8")}
    best = {name: (np.inf, None) for name in arms}
    for _ in range(repeats):
        for name, run in arms.items():
            started = time.perf_counter()
            vectors = run()
            seconds = time.perf_counter() - started
            if seconds < best[name][0]:
                best[name] = (seconds, vectors)
    return best


def speed_table(label: str, texts: list[str], batch_size: int, repeats: int) -> np.ndarray:
    """Print texts/s and ratios of every arm; return the int8 vs float32 cosines."""
    best = _time_arms(texts, batch_size, repeats)
    base = best["sentence-transformers"][0]
    words = np.mean([len(t.split()) for t in texts])
    print(f"{label}: {len(texts)} texts, {words:.0f} words on average, best of {repeats}")
    for name, (seconds, _) in best.items():
        print(f"  {name:<22} {len(texts) / seconds:8.1f} texts/s   "
              f"{base / seconds:5.2f}x sentence-transformers")
    cosine = np.sum(best["int8"][1] * best["float32"][1], axis=1)
    reference = np.sum(best["float32"][1] * best["sentence-transformers"][1], axis=1)
    print(f"  cosine int8 vs float32: min {cosine.min():.4f}, mean {cosine.mean():.4f}, "
          f"rows under 0.99: {int((cosine < 0.99).sum())}; float32 vs "
          f"sentence-transformers: min {reference.min():.6f}")
    return cosine


def selection_check() -> None:
    """``auto`` on the clinical topic proof set with float32 and with int8 vectors."""
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from bench_select_proof import probe
    from bench_select_sets import clinical_topics
    from sklearn.model_selection import train_test_split

    from engine.select.methods import MethodInput, resolve_method, run_method

    records = clinical_topics(1100)
    texts = [r["text"] for r in records]
    labels = np.array([r["label"] for r in records], dtype=object)
    full = embed_texts(texts)
    fast = embed_texts(texts, precision="int8")
    cosine = np.sum(full * fast, axis=1)
    pool, test = train_test_split(np.arange(len(texts)), test_size=0.3, random_state=0,
                                  stratify=labels)
    method = resolve_method("auto", list(labels[pool]))
    print(f"proof set (clinical topics, {len(texts)} texts): cosine int8 vs float32 min "
          f"{cosine.min():.4f}, rows under 0.99: {int((cosine < 0.99).sum())}")
    for percent in (1, 5, 10, 20):
        budget = round(len(pool) * percent / 100)
        picks = {name: pool[run_method(method, MethodInput(vectors[pool], budget, 0,
                                                           labels=list(labels[pool]))).indices]
                 for name, vectors in (("float32", full), ("int8", fast))}
        common = len(np.intersect1d(picks["float32"], picks["int8"]))
        scores = {name: probe(full[rows], labels[rows], full[test], labels[test])[0]
                  for name, rows in picks.items()}
        print(f"  {method} {percent:>2} % ({budget} rows): {common}/{budget} rows in common; "
              f"probe accuracy (float32 vectors) on the float32 picks {scores['float32']:.2f}, "
              f"on the int8 picks {scores['int8']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=2000, help="texts per length")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-selection", action="store_true", help="skip the proof-set check")
    parser.add_argument("--sets", default="mixed,short,long",
                        help="which text sets to time (comma-separated)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    from engine.models.onnx_encoder import int8_model_path

    started = time.perf_counter()
    int8_model_path(minilm_folder())
    print(f"int8 ONNX model ready in {time.perf_counter() - started:.1f} s (exported on the "
          "first run only, then kept in the models folder)")
    embed_texts(["warm-up"]), embed_texts(["warm-up"], precision="int8")  # imports
    sets = {"mixed": ("mixed sentences", lambda: sentences(args.n)),
            "short": ("short texts", lambda: short_texts(args.n)),
            "long": ("long texts", lambda: long_texts(args.n // 4))}
    for name in args.sets.split(","):
        label, texts = sets[name]
        speed_table(label, texts(), args.batch_size, args.repeats)
    if not args.no_selection:
        selection_check()


if __name__ == "__main__":
    main()
