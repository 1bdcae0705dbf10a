"""Drift: a shifted fixture is flagged, an unshifted one passes; PSI by hand."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from engine.data.demo_clinical import clinical_record
from engine.evaluate.drift import detect_drift, model_drift, psi


def _clinical(count: int, seed: int, only: str | None = None) -> list[dict]:
    rng, out = random.Random(seed), []
    while len(out) < count:
        record = clinical_record(rng)
        if only is None or record["kind"] == only:
            out.append(record)
    return out


@pytest.fixture(scope="module")
def embed():
    from engine.models.encoder import embed_texts

    cache: dict[str, np.ndarray] = {}

    def cached(texts):
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            cache.update(zip(missing, embed_texts(missing)))
        return np.stack([cache[t] for t in texts])
    return cached


def test_psi_by_hand():
    expected = 0.25 * math.log(1.5) - 0.25 * math.log(0.5)
    assert psi(list("aabb"), list("aaab"), bins=None) == pytest.approx(expected)
    assert psi([1, 2, 3, 4] * 5, [1, 2, 3, 4] * 5) == pytest.approx(0.0)


def test_unshifted_data_passes(embed):
    result = detect_drift(_clinical(80, seed=1), _clinical(60, seed=2), label_field="kind",
                          embed=embed)
    assert not result.drifted, result.reasons
    assert result.embedding["auc"] < 0.65 and result.drivers == []


def test_shifted_data_is_flagged_with_its_drivers(embed):
    result = detect_drift(_clinical(80, seed=1), _clinical(60, seed=3, only="triage"),
                          label_field="kind", embed=embed)
    assert result.drifted
    assert any("content shifted" in reason for reason in result.reasons)
    assert result.labels["new"] == {"triage": 1.0}
    assert len(result.drivers) == 5 and all(d["score"] > 0.5 for d in result.drivers)


def test_too_few_records_and_model_drift():
    with pytest.raises(ValueError, match="at least 5"):
        detect_drift(_clinical(3, 0), _clinical(10, 1))
    assert model_drift(10.0, 13.0)["drifted"] is True
    assert model_drift(10.0, 10.5)["drifted"] is False
    assert model_drift(0.8, 0.5, metric="rougeL")["drifted"] is True
