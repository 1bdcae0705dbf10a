import numpy as np
import pytest

from engine.models.bundled import minilm_folder
from engine.models.encoder import embed_texts
from engine.progress import Cancelled, Reporter

TEXTS = [
    "The patient was discharged home after three days.",
    "The lessee shall pay the rent on the first day of each month, and any late payment "
    "incurs interest at the statutory rate until paid in full.",
    "ok",
    "",
    "Blood pressure 120/80, pulse 72.",
    "Le contrat est résilié de plein droit.",
]


def test_embeddings_match_sentence_transformers():
    from sentence_transformers import SentenceTransformer

    ours = embed_texts(TEXTS, batch_size=4)
    reference = SentenceTransformer(str(minilm_folder()), device="cpu",
                                    local_files_only=True).encode(TEXTS, normalize_embeddings=True)
    assert ours.shape == (len(TEXTS), 384) and ours.dtype == np.float32
    cosine = (ours * reference).sum(axis=1) / np.linalg.norm(reference, axis=1)
    assert np.all(np.abs(cosine - 1) < 1e-4)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)


def test_order_is_kept_across_batch_sizes_and_progress_is_reported():
    events: list = []
    one_batch = embed_texts(TEXTS, batch_size=64)
    small_batches = embed_texts(TEXTS, batch_size=2, reporter=Reporter(events.append))
    assert np.allclose(one_batch, small_batches, atol=1e-5)
    assert [e.step for e in events] == [2, 4, 6]
    assert np.argmax(small_batches @ one_batch[0]) == 0


def test_cancel_stops_before_the_first_batch():
    with pytest.raises(Cancelled):
        embed_texts(TEXTS, reporter=Reporter(stop_requested=lambda: True))


def test_empty_and_bad_input():
    assert embed_texts([]).shape == (0, 384)
    with pytest.raises(ValueError, match="text 1 is int"):
        embed_texts(["fine", 3])
    with pytest.raises(ValueError, match="batch_size"):
        embed_texts(["x"], batch_size=0)


def test_bfloat16_is_close_to_float32_and_cached_under_its_own_id(tmp_path, monkeypatch):
    from engine.models import device
    from engine.select.cache import embed_cached
    from engine.store import open_store

    monkeypatch.setattr(device, "cpu_bf16_fast", lambda: True)  # run it even where emulated

    db = open_store(tmp_path / "w.sqlite3")
    full = embed_cached(db, TEXTS)
    half = embed_cached(db, TEXTS, precision="bfloat16")
    assert (full.model, half.model) == ("all-MiniLM-L6-v2", "all-MiniLM-L6-v2:bf16")
    assert half.embedded == len(set(TEXTS))
    assert np.min(np.sum(full.vectors * half.vectors, axis=1)) > 0.98
    with pytest.raises(ValueError, match="precision"):
        embed_texts(["x"], precision="int4")


def test_bfloat16_runs_float32_on_a_cpu_without_native_bfloat16(tmp_path, monkeypatch):
    from engine.models import device
    from engine.select.cache import embed_cached
    from engine.store import open_store

    monkeypatch.setattr(device, "cpu_bf16_fast", lambda: False)
    db = open_store(tmp_path / "w.sqlite3")
    full = embed_cached(db, TEXTS)
    asked_half = embed_cached(db, TEXTS, precision="bfloat16")
    assert asked_half.model == "all-MiniLM-L6-v2"  # recorded as what ran
    assert asked_half.embedded == 0  # the float32 vectors, from the cache
    assert np.array_equal(asked_half.vectors, full.vectors)
    assert device.cpu_dtype("int8") == "int8" and device.cpu_dtype("float32") == "float32"


def test_native_bfloat16_probe_agrees_with_the_cpu_flags():
    from pathlib import Path

    import torch

    from engine.models.device import cpu_bf16_fast

    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        pytest.skip("no /proc/cpuinfo on this system")
    if not hasattr(torch.cpu, "_is_avx512_bf16_supported"):
        pytest.skip("this torch has no bfloat16 probe (float32 runs, by design)")
    flags = set(cpuinfo.read_text().split())
    assert cpu_bf16_fast() == bool(flags & {"avx512_bf16", "amx_bf16", "amx_tile"})


def _varied_texts() -> list[str]:
    subjects = ["The patient", "The tenant", "Our client", "The court", "A follow-up scan"]
    objects = ["mild swelling of the left ankle", "a breach of the lease agreement",
               "no abnormality", "an appeal against the ruling", "elevated blood pressure"]
    long_tail = (" which the parties had already discussed at length in earlier "
                 "correspondence, including the letters of 3 and 17 June.")
    return TEXTS + [f"{s} noted {o}{long_tail if (i + j) % 2 else '.'}"
                    for i, s in enumerate(subjects) for j, o in enumerate(objects)]


def test_int8_onnx_vectors_stay_within_0_99_cosine_of_float32_on_every_row():
    from engine.models.onnx_encoder import int8_model_path

    texts = _varied_texts()
    full = embed_texts(texts, batch_size=8)
    fast = embed_texts(texts, batch_size=8, precision="int8")
    assert fast.shape == full.shape and fast.dtype == np.float32
    assert np.allclose(np.linalg.norm(fast, axis=1), 1, atol=1e-4)
    assert np.min(np.sum(full * fast, axis=1)) >= 0.99
    path = int8_model_path(minilm_folder())  # kept in the models folder, not rebuilt
    modified = path.stat().st_mtime_ns
    assert int8_model_path(minilm_folder()).stat().st_mtime_ns == modified


def test_int8_is_cached_under_its_own_id(tmp_path):
    from engine.select.cache import embed_cached
    from engine.store import open_store

    db = open_store(tmp_path / "w.sqlite3")
    fast = embed_cached(db, TEXTS, precision="int8")
    again = embed_cached(db, TEXTS, precision="int8")
    assert fast.model == "all-MiniLM-L6-v2:int8" and again.embedded == 0


def _long_texts() -> list[str]:
    """Texts of 90-110 words: the feed-forward-int8 file's share of the work."""
    parts = ["The patient was seen in the clinic for a follow-up of her asthma and reported "
             "fewer night-time symptoms since the inhaler was changed in March.",
             "The lessee shall keep the premises in good repair and return them at the end "
             "of the term in the condition in which they were received, fair wear excepted.",
             "Blood pressure was 128/82, pulse 70, and the wound on the left forearm showed no "
             "sign of infection; sutures are to be removed in ten days by the practice nurse.",
             "Either party may terminate this agreement on ninety days' written notice, and "
             "any fees paid in advance for the period after termination shall be refunded."]
    return [" ".join(parts[(i + k) % 4] for k in range(4)) for i in range(4)]


def test_long_texts_run_in_blocks_of_bounded_tokens_within_0_99_cosine():
    from engine.models.onnx_encoder import BATCH_TOKENS, _block_end

    texts = _long_texts() + ["ok", "no", "Patient stable overnight."]
    full = embed_texts(texts, batch_size=8)
    fast = embed_texts(texts, batch_size=8, precision="int8")
    assert np.min(np.sum(full * fast, axis=1)) >= 0.99
    lengths = [3] * 10 + [130] * 40 + [5000]
    ends, start = [], 0
    while start < len(lengths):
        ends.append(start := _block_end(lengths, start))
    assert ends[0] == 15  # 15 rows padded to 130 tokens = 1,950 <= 2,048
    assert ends[-2:] == [50, 51]  # a text longer than a block runs alone
    blocks = zip([0, *ends[:-1]], ends)
    assert all((stop - begin) * lengths[stop - 1] <= BATCH_TOKENS or stop - begin == 1
               for begin, stop in blocks)


def test_int8_vectors_hold_0_99_cosine_whatever_the_block_size(monkeypatch):
    from engine.models import onnx_encoder

    texts = _varied_texts() + _long_texts()
    full = embed_texts(texts, batch_size=64)
    whole = embed_texts(texts, batch_size=64, precision="int8")
    monkeypatch.setattr(onnx_encoder, "BATCH_TOKENS", 40)  # about one text per block
    split = embed_texts(texts, batch_size=64, precision="int8")
    # int8 activations are scaled per block, so the blocking moves vectors slightly
    assert np.min(np.sum(full * whole, axis=1)) >= 0.99
    assert np.min(np.sum(full * split, axis=1)) >= 0.99
    assert np.min(np.sum(whole * split, axis=1)) >= 0.99
