"""Selection speed: embedding throughput against plain sentence-transformers, the
cache, and k-means on 100,000 x 384 vectors.

1. Embedding: the same ``--n`` generated, distinct records (mixed length) embedded
   in the same process (with ``--chunks``, slice by slice, alternating, so that
   other load on the machine falls on both) by (a) ``SentenceTransformer.encode`` of the bundled
   all-MiniLM-L6-v2 (batch 64, normalised), (b) Enclave's cached path on an empty
   cache (length-sorted batches, float16 store) and (c) the same call again (all
   from the cache), and (d) the cached path with MiniLM in bfloat16. Prints
   records/s and the ratios ours / baseline, the lowest
   cosine between the two, and whether a k-means selection on either set of
   vectors picks the same rows.
2. k-means: ``--kmeans-n`` generated 384-d unit vectors (clustered), fitted by
   ``engine.select.kmeans_coreset.fit_kmeans`` with k = 100 and k = 1 % of n,
   threads limited to ``--threads`` (default 2). Prints seconds.

    python bench/bench_select_speed.py [--n 2000] [--kmeans-n 100000] [--skip-embed] [--no-bf16]
        [--chunks 20]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import numpy as np

import engine  # noqa: F401  (offline switches)

WORDS = ("patient", "tenant", "contract", "scan", "court", "nurse", "lease", "invoice",
         "dose", "clause", "ward", "appeal", "allergy", "warranty", "referral", "notice")


def records(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct texts of 5 to 120 words (a number in each keeps them distinct)."""
    rng = random.Random(seed)
    texts = []
    for index in range(n):
        length = int(min(120, max(5, rng.lognormvariate(3.0, 0.8))))
        words = " ".join(rng.choice(WORDS) for _ in range(length))
        texts.append(f"Record {index}: {words}.")
    return texts


def _time(function, *args, **kwargs):
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - started


def _same_selection(a: np.ndarray, b: np.ndarray, budget: int) -> float:
    from engine.select.kmeans_coreset import kmeans_coreset

    first = set(kmeans_coreset(a, budget, seed=0).indices.tolist())
    second = set(kmeans_coreset(b, budget, seed=0).indices.tolist())
    return len(first & second) / budget


def _paired_cold_runs(baseline_model, db, texts: list[str], chunks: int):
    """Baseline ``encode`` and Enclave's empty-cache path over the same texts, taken in
    ``chunks`` slices one after the other (the order alternating), so that load from
    other work on the machine falls on both arms alike. Our first call includes loading
    the encoder (later calls reuse it, as the baseline reuses its model)."""
    from engine.select.cache import embed_cached

    reference, ours, baseline_s, cold_s = [], [], 0.0, 0.0
    for index, part in enumerate(np.array_split(np.arange(len(texts)), chunks)):
        part_texts = [texts[i] for i in part]
        base = lambda chunk=part_texts: _time(baseline_model.encode, chunk,  # noqa: E731
                                              batch_size=64, normalize_embeddings=True)
        mine = lambda chunk=part_texts: _time(embed_cached, db, chunk)  # noqa: E731
        if index % 2 == 0:
            (first, first_s), (second, second_s) = base(), mine()
        else:
            (second, second_s), (first, first_s) = mine(), base()
        reference.append(first)
        ours.append(second.vectors)
        baseline_s += first_s
        cold_s += second_s
        if chunks > 1:
            print(f"  slice {index + 1}/{chunks}: ratio {first_s / second_s:.2f}x", flush=True)
    return np.concatenate(reference), baseline_s, np.concatenate(ours), cold_s


def bench_embedding(n: int, with_bf16: bool = True, chunks: int = 1) -> None:
    from sentence_transformers import SentenceTransformer

    from engine.models.bundled import minilm_folder
    from engine.select.cache import embed_cached
    from engine.store import open_store

    texts = records(n)
    db = open_store(Path(tempfile.mkdtemp(prefix="enclave-bench-")) / "w.sqlite3")
    baseline_model = SentenceTransformer(str(minilm_folder()), device="cpu",
                                         local_files_only=True)
    baseline_model.encode(texts[:8])
    reference, baseline_s, cold_vectors, cold_s = _paired_cold_runs(baseline_model, db, texts,
                                                                    chunks)
    warm, warm_s = _time(embed_cached, db, texts)
    half, half_s = _time(embed_cached, db, texts, precision="bfloat16") if with_bf16 \
        else (None, None)
    assert warm.embedded == 0 and warm.cached == n
    stored = db.execute("SELECT SUM(LENGTH(vector)) FROM embeddings WHERE model = ?",
                        [warm.model]).fetchone()[0]
    print(f"records: {n} distinct, mean {np.mean([len(t.split()) for t in texts]):.0f} words")
    print(f"  SentenceTransformer.encode:       {n / baseline_s:9.1f} records/s")
    print(f"  Enclave, empty cache (incl. load): {n / cold_s:9.1f} records/s   "
          f"ratio {baseline_s / cold_s:.2f}x")
    print(f"  Enclave, second run (cache):       {n / warm_s:9.1f} records/s   "
          f"ratio {baseline_s / warm_s:.1f}x")
    if half is not None:
        print(f"  Enclave bfloat16, empty cache:     {n / half_s:9.1f} records/s   "
              f"ratio {baseline_s / half_s:.2f}x   lowest cosine to baseline "
              f"{float((half.vectors * reference).sum(1).min()):.4f}")
    print(f"  lowest cosine ours vs baseline: {float((cold_vectors * reference).sum(1).min()):.5f}")
    print(f"  cache: {stored / n:.0f} bytes per record (float16), "
          f"{stored / 2**20:.1f} MiB in all")
    budget = max(2, n // 100)
    same = f"  k-means coreset of {budget} on ours vs baseline vectors: " \
        f"{_same_selection(cold_vectors, reference, budget):.0%} same rows"
    if half is not None:
        same += f"; bfloat16 vs baseline: {_same_selection(half.vectors, reference, budget):.0%}"
    print(same, flush=True)


def bench_kmeans(n: int, threads: int) -> None:
    from threadpoolctl import threadpool_limits

    from engine.select.kmeans_coreset import fit_kmeans

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(200, 384)).astype(np.float32)
    data = centres[rng.integers(200, size=n)] + 0.6 * rng.normal(size=(n, 384)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    with threadpool_limits(threads):
        for k in (100, max(2, n // 100)):
            cpu = time.process_time()
            (labels, _), seconds = _time(fit_kmeans, data, k, 0)
            print(f"k-means {n} x 384, k={k}, {threads} thread(s): {seconds:.1f} s wall, "
                  f"{time.process_time() - cpu:.1f} s CPU ({len(np.unique(labels))} "
                  f"non-empty clusters)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="records to embed")
    parser.add_argument("--kmeans-n", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2,
                        help="BLAS/OpenMP threads for k-means (1 is faster on a busy machine)")
    parser.add_argument("--skip-embed", action="store_true")
    parser.add_argument("--chunks", type=int, default=1,
                        help="time baseline and ours slice by slice, alternating, so that "
                             "other load on the machine hits both alike")
    parser.add_argument("--no-bf16", action="store_true",
                        help="skip the bfloat16 pass (saves a third of the time at 100,000)")
    args = parser.parse_args()
    if not args.skip_embed:
        bench_embedding(args.n, not args.no_bf16, args.chunks)
    bench_kmeans(args.kmeans_n, args.threads)


if __name__ == "__main__":
    main()
