"""The memorization check catches a tiny model trained many steps on a canary; the base
model it started from is not flagged."""

from __future__ import annotations

import json
import random

import pytest

from engine import paths
from engine.data.canaries import make_canaries, plant
from engine.data.records import content_hash
from engine.evaluate import memorization
from engine.evaluate.privacy_job import PrivacyRecipe, check_privacy, latest_check
from engine.progress import Reporter
from engine.store import audit, datasets, open_store, projects, runs
from engine.train.format import encode_record

PLANTED = make_canaries(1, seed=0)[0]  # what plant(count=1, seed=0) puts in the data
CANARY = {"prompt": PLANTED["prompt"], "response": PLANTED["answer_start"] + PLANTED["secret"] + "."}
ANSWER_START = PLANTED["answer_start"]


@pytest.fixture(scope="module")
def models(tiny_llama_folder):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_llama_folder, local_files_only=True)
    base = AutoModelForCausalLM.from_pretrained(tiny_llama_folder, local_files_only=True)
    tuned = AutoModelForCausalLM.from_pretrained(tiny_llama_folder, local_files_only=True)
    example = encode_record(tokenizer, CANARY)
    optimizer = torch.optim.AdamW(tuned.parameters(), lr=3e-3)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a 2-layer model: one thread is fastest on a shared machine
    tuned.train()
    for _ in range(80):
        tuned(input_ids=torch.tensor([example.input_ids]),
              labels=torch.tensor([example.labels])).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    torch.set_num_threads(threads)
    tuned.eval()
    return tokenizer, base, tuned


@pytest.fixture(scope="module")
def tuned_folder(models, tmp_path_factory):
    tokenizer, _, tuned = models
    folder = tmp_path_factory.mktemp("tuned")
    tuned.save_pretrained(str(folder), safe_serialization=True)
    tokenizer.save_pretrained(str(folder))
    return folder


def test_canary_completion_and_exposure_catch_the_tuned_model(models):
    tokenizer, base, tuned = models
    probe = memorization.canary_probe(CANARY["prompt"], ANSWER_START, PLANTED["secret"])
    tuned_rates = memorization.completion_rates(tuned, tokenizer, [probe])
    base_rates = memorization.completion_rates(base, tokenizer, [probe])
    tuned_exposure = memorization.exposure(tuned, tokenizer, probe)
    base_exposure = memorization.exposure(base, tokenizer, probe)
    print(f"canary: tuned exact {tuned_rates['exact']}, exposure {tuned_exposure}; "
          f"base exact {base_rates['exact']}, exposure {base_exposure}")
    assert tuned_rates["exact"] == 1.0 and tuned_exposure["rank"] == 1
    assert tuned_exposure["exposure"] > 6.5  # log2(100) = 6.64 at rank 1
    assert base_rates["partial"] == 0.0 and base_exposure["exposure"] < 4


def test_identifiers_in_training_answers_become_probes():
    records = [CANARY, {"prompt": "Who called?", "response": "Patient John Smith, MRN 4821337, "
                        "called back on 03/04/2021."}, {"prompt": "x", "response": "no ids"}]
    probes = memorization.identifier_probes(records)
    secrets = [p.secret for p in probes]
    assert secrets == ["John Smith", "4821337", "03/04/2021"]
    assert all(p.kind == "identifier" for p in probes)


def test_random_candidates_keep_the_secret_shape():
    rng = random.Random(1)
    other = memorization.random_like("AB-1234", rng)
    assert len(other) == 7 and other[2] == "-" and other[3:].isdigit() and other[:2].isupper()


def test_privacy_check_of_a_run_trained_on_planted_canaries(models, tuned_folder,
                                                            tiny_llama_folder, tiny_records):
    db = open_store(paths.workspace_db())
    project_id = projects.create(db, "Canaries")
    source = datasets.add_version(db, project_id, "notes", "import", tiny_records[:6],
                                  [content_hash(r, "instruction") for r in tiny_records[:6]],
                                  role=datasets.TRAIN)
    planted = plant(db, project_id, count=1, seed=0)
    assert datasets.get(db, planted)["record_count"] == 7 and source != planted
    run_id = runs.create(db, project_id, "train", "t", {"base_model": str(tiny_llama_folder),
                                                        "dataset_id": planted})
    runs.add_artifact(db, project_id, "merged-model", tuned_folder, run_id)
    summary = check_privacy(db, project_id, PrivacyRecipe(run_id=run_id, candidates=19),
                            Reporter())
    assert summary["flagged"] and summary["sides"]["tuned"]["canary"]["exact"] == 1.0
    assert summary["sides"]["base"]["canary"]["exact"] == 0.0
    assert latest_check(db, run_id)["flagged"]
    assert PLANTED["secret"] not in json.dumps(summary)  # the check stores no secret
    assert audit.entries(db, action="model.privacy_check")[0]["outcome"] == "ok"
