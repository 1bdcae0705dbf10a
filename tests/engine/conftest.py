"""Fixtures shared by the engine tests: a tiny Llama with the SmolLM2 tokenizer."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest


def _tiny_lm_module():
    name = "enclave_tests_tiny_lm"
    if name not in sys.modules:
        path = Path(__file__).parent / "train" / "tiny_lm.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def smollm2_tokenizer():
    return _tiny_lm_module().smollm2_tokenizer()


@pytest.fixture(scope="session")
def tiny_llama_folder(tmp_path_factory) -> Path:
    return _tiny_lm_module().build_tiny_llama(tmp_path_factory.mktemp("tiny_llama"))


@pytest.fixture(scope="session")
def tiny_records() -> list[dict]:
    return _tiny_lm_module().tiny_records()
