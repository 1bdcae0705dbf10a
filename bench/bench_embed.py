"""Embedding throughput: engine.models.encoder.embed_texts vs plain sentence-transformers.

Both embed the same generated sentences with the bundled all-MiniLM-L6-v2 in
the same process. Prints sentences/s of each and the ratio (ours / baseline).

    python bench/bench_embed.py [N]      # N sentences, default 2000
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np

import engine  # noqa: F401  (offline switches)
from engine.models.bundled import minilm_folder
from engine.models.encoder import embed_texts

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=2000, help="number of sentences")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    texts = sentences(args.n)

    from sentence_transformers import SentenceTransformer

    folder = minilm_folder()
    baseline_model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    embed_texts(texts[:8])  # warm-up: imports and first allocations
    baseline_model.encode(texts[:8])

    started = time.perf_counter()
    ours = embed_texts(texts, batch_size=args.batch_size)
    ours_seconds = time.perf_counter() - started
    started = time.perf_counter()
    reference = baseline_model.encode(texts, batch_size=args.batch_size,
                                      normalize_embeddings=True)
    baseline_seconds = time.perf_counter() - started

    min_cosine = float(np.min(np.sum(ours * reference, axis=1)))
    print(f"sentences: {len(texts)}  batch size: {args.batch_size}")
    print(f"embed_texts (incl. model load): {len(texts) / ours_seconds:8.1f} sentences/s")
    print(f"SentenceTransformer.encode:     {len(texts) / baseline_seconds:8.1f} sentences/s")
    print(f"ratio (ours / sentence-transformers): {baseline_seconds / ours_seconds:.2f}x")
    print(f"min cosine between the two: {min_cosine:.6f}")


if __name__ == "__main__":
    main()
