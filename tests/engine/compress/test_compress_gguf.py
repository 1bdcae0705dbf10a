import json
import shutil

import pytest
import torch

from engine.compress.gguf_export import export_gguf, gguf_tensor_name
from engine.compress.measure import load_variant
from engine.compress.recipe import CompressRequestError
from engine.models.loading import load_causal_lm, load_tokenizer

PROMPTS = ["The patient was discharged home", "Item 3 is blue."]


@pytest.fixture(scope="module")
def reference(tiny_llama):
    tokenizer = load_tokenizer(tiny_llama)
    batch = tokenizer(PROMPTS, return_tensors="pt", padding=True)
    with torch.inference_mode():
        return batch, load_causal_lm(tiny_llama)(**batch).logits


@pytest.mark.parametrize("gguf_type, atol", [("f32", 1e-4), ("f16", 2e-2)])
def test_gguf_round_trip_logits_match(tiny_llama, reference, tmp_path, gguf_type, atol):
    batch, expected = reference
    out = export_gguf(tiny_llama, tmp_path / f"tiny-{gguf_type}.gguf", gguf_type)
    model, tokenizer = load_variant(out)
    again = tokenizer(PROMPTS, return_tensors="pt", padding=True)
    assert torch.equal(again["input_ids"], batch["input_ids"])
    assert tokenizer.chat_template == load_tokenizer(tiny_llama).chat_template
    with torch.inference_mode():
        actual = model(**batch).logits
    assert torch.allclose(actual, expected, atol=atol)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_gguf_q8_0_is_smaller_and_close(tiny_llama, reference, tmp_path):
    batch, expected = reference
    f16 = export_gguf(tiny_llama, tmp_path / "f16.gguf", "f16")
    q8 = export_gguf(tiny_llama, tmp_path / "q8.gguf", "q8_0")
    assert _tensor_bytes(q8) < 0.6 * _tensor_bytes(f16)
    with torch.inference_mode():
        actual = load_variant(q8)[0](**batch).logits
    assert (actual.argmax(-1) == expected.argmax(-1)).float().mean() > 0.9


def _tensor_bytes(path) -> int:
    import gguf

    return sum(int(t.n_bytes) for t in gguf.GGUFReader(str(path)).tensors)


def test_gguf_file_has_llama_names_and_metadata(tiny_llama, tmp_path):
    import gguf

    out = export_gguf(tiny_llama, tmp_path / "tiny.gguf", "f16")
    reader = gguf.GGUFReader(str(out))
    names = {t.name: t for t in reader.tensors}
    assert {"token_embd.weight", "output_norm.weight", "blk.1.attn_q.weight",
            "blk.1.ffn_down.weight"} <= set(names)
    assert "output.weight" not in names  # tied to the embedding
    assert names["blk.0.attn_k.weight"].tensor_type.name == "F16"
    assert names["blk.0.attn_norm.weight"].tensor_type.name == "F32"
    field = reader.fields["llama.attention.head_count_kv"]
    assert int(field.parts[field.data[0]][0]) == 2
    field = reader.fields["tokenizer.ggml.model"]
    assert bytes(field.parts[field.data[0]]).decode() == "gpt2"


def test_tensor_names():
    assert gguf_tensor_name("model.layers.7.mlp.up_proj.weight") == "blk.7.ffn_up.weight"
    with pytest.raises(KeyError, match="no GGUF name"):
        gguf_tensor_name("model.layers.0.self_attn.rotary.inv_freq")


def test_unsupported_tokenizer_is_refused_before_writing(tiny_llama, tmp_path):
    folder = shutil.copytree(tiny_llama, tmp_path / "wordpiece")
    data = json.loads((folder / "tokenizer.json").read_text())
    data["model"]["type"] = "WordPiece"
    (folder / "tokenizer.json").write_text(json.dumps(data))
    with pytest.raises(CompressRequestError, match="only BPE tokenizers"):
        export_gguf(folder, tmp_path / "x.gguf")
    assert not list(tmp_path.glob("*.gguf"))


@pytest.mark.slow
def test_bundled_smollm2_gguf_round_trip(tmp_path):
    from engine.models.bundled import smollm2_folder

    folder = smollm2_folder()
    out = export_gguf(folder, tmp_path / "smollm2-f16.gguf", "f16")
    model, tokenizer = load_variant(out)
    batch = load_tokenizer(folder)(["The capital of France is"], return_tensors="pt")
    assert torch.equal(tokenizer(["The capital of France is"], return_tensors="pt")["input_ids"],
                       batch["input_ids"])
    with torch.inference_mode():
        expected = load_causal_lm(folder)(**batch).logits
        actual = model(**batch).logits
    assert torch.allclose(actual, expected, atol=0.1)
    assert torch.equal(actual.argmax(-1), expected.argmax(-1))
