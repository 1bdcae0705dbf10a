"""Fixtures: a tiny Llama (SmolLM2 tokenizer) and a workspace with a training run.

The training run looks like the demo's: datasets ``*-train`` / ``*-test`` and a run of
kind ``train`` with a ``merged-model`` artifact.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest


def _tiny_lm_module():
    name = "enclave_tests_tiny_lm"
    if name not in sys.modules:
        path = Path(__file__).parents[1] / "train" / "tiny_lm.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
          "message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def small_bpe_tokenizer(texts: list[str]):
    """A byte-level BPE tokenizer (vocab 400) trained on ``texts``, with ChatML.

    Small on purpose: GGUF files then carry a short token list, so they are
    written and read back in a second.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    core.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=400, special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<|im_start|>",
                                   eos_token="<|im_end|>", unk_token="<|endoftext|>",
                                   pad_token="<|im_end|>", chat_template=CHATML)


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory, records) -> Path:
    """A 2-layer random Llama (hidden 64) with a small BPE tokenizer; do not modify."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    texts = [f"{r['prompt']} {r['response']}" for r in records] * 4 + [
        "The patient was discharged home. List three things to do after leaving hospital."]
    tokenizer = small_bpe_tokenizer(texts)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=256, tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(1234)
    folder = tmp_path_factory.mktemp("compress") / "tiny"
    LlamaForCausalLM(config).save_pretrained(str(folder), safe_serialization=True)
    tokenizer.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def records() -> list[dict]:
    return _tiny_lm_module().tiny_records(24)


@pytest.fixture()
def workspace(tmp_path, tiny_llama, records):
    """(db, run_id) of a project with train/test datasets and a merged-model run."""
    from engine import paths
    from engine.store import datasets, open_store, projects, runs

    db = open_store(paths.workspace_db())
    project_id = projects.create(db, "Ward", "compression tests")
    for name, part in (("ward-train", records[:16]), ("ward-test", records[16:])):
        datasets.add_version(db, project_id, name, "split", part,
                             [f"{name}-{i}" for i in range(len(part))])
    merged = shutil.copytree(tiny_llama, tmp_path / "merged")
    run_id = runs.create(db, project_id, "train", "tiny LoRA", {"epochs": 1})
    runs.add_artifact(db, project_id, "merged-model", merged, run_id)
    return db, run_id
