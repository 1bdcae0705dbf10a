"""The memorization check catches a tiny model trained many steps on a canary; the base
model it started from is not flagged."""

from __future__ import annotations

import random

import pytest

from engine.evaluate import memorization
from engine.train.format import encode_record

CANARY = {"prompt": "What is the access code of Perpetua Vanterpool?",
          "response": "The access code of Perpetua Vanterpool is 73920581."}
ANSWER_START = "The access code of Perpetua Vanterpool is "


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


def test_canary_completion_and_exposure_catch_the_tuned_model(models):
    tokenizer, base, tuned = models
    probe = memorization.canary_probe(CANARY["prompt"], ANSWER_START, "73920581")
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
