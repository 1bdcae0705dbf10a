import pytest
import torch

from engine.compress.checksums import CHECKSUMS_FILE, verify_export
from engine.compress.export import export_model
from engine.compress.recipe import CompressRequestError
from engine.models.loading import load_causal_lm


def test_safetensors_export_verifies_and_detects_tampering(tiny_llama, tmp_path):
    out = export_model(tiny_llama, tmp_path / "export", "safetensors", dtype="float16",
                       card="# Tiny\n")
    names = {p.name for p in out.iterdir()}
    assert {"model.safetensors", "tokenizer.json", "README.md", CHECKSUMS_FILE} <= names
    result = verify_export(out)
    assert result.ok and result.files == len(names) - 1
    assert load_causal_lm(out, dtype="float16").dtype == torch.float16
    with open(out / "model.safetensors", "r+b") as handle:
        handle.seek(-4, 2)
        handle.write(b"\x00\x01\x02\x03")
    (out / "extra.txt").write_text("added later")
    (out / "README.md").unlink()
    problems = "\n".join(verify_export(out).problems)
    assert "model.safetensors: content differs" in problems
    assert "README.md: listed but missing" in problems
    assert "extra.txt: present but not listed" in problems


def test_gguf_export_folder_verifies(tiny_llama, tmp_path):
    out = export_model(tiny_llama, tmp_path / "gguf", "gguf", gguf_type="q8_0")
    assert (out / "model-q8_0.gguf").is_file() and verify_export(out).ok


def test_bad_export_requests_are_refused_before_work(tiny_llama, tmp_path):
    with pytest.raises(CompressRequestError, match="format 'onnx'"):
        export_model(tiny_llama, tmp_path / "a", "onnx")
    with pytest.raises(CompressRequestError, match="already exists"):
        export_model(tiny_llama, tmp_path, "safetensors")
    with pytest.raises(FileNotFoundError, match="SHA256SUMS is missing"):
        verify_export(tiny_llama)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / CHECKSUMS_FILE).write_text("abc  x\n")
    with pytest.raises(ValueError, match="SHA256SUMS line 1"):
        verify_export(tmp_path / "bad")
