"""GGUF export for Ollama and llama.cpp: Modelfile, stop tokens, settings, the card's commands."""

import json

from engine.compress.checksums import verify_export
from engine.compress.export import export_model
from engine.compress.ollama import (
    default_system,
    llama_cpp_command,
    modelfile,
    ollama_name,
    run_settings,
    template_family,
)


def _instructions(text: str) -> dict[str, list[str]]:
    """A Modelfile read the way Ollama reads it: instruction, then a value or a
    triple-quoted block."""
    found: dict[str, list[str]] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        name, _, value = line.partition(" ")
        if value.startswith('"""'):
            block = value[3:]
            while not block.endswith('"""'):
                block += "\n" + next(lines)
            value = block[:-3]
        found.setdefault(name, []).append(value)
    return found


def test_gguf_export_writes_a_modelfile_and_a_card_that_says_how_to_run_it(tiny_llama, tmp_path):
    out = export_model(tiny_llama, tmp_path / "Ward Model", "gguf", gguf_type="q8_0",
                       card="# Ward model\n")
    parsed = _instructions((out / "Modelfile").read_text())
    assert parsed["FROM"] == ["./model-q8_0.gguf"] and (out / "model-q8_0.gguf").is_file()
    template = parsed["TEMPLATE"][0]
    assert "{{ .Content }}<|im_end|>" in template and template.endswith("<|im_start|>assistant\n")
    params = [p.split(" ", 1) for p in parsed["PARAMETER"]]
    assert ["temperature", "0"] in params and ["stop", '"<|im_end|>"'] in params
    assert ["num_ctx", "256"] in params  # the tiny model's max_position_embeddings
    card = (out / "README.md").read_text()
    assert card.startswith("# Ward model") and "## Run it" in card
    assert "ollama create ward-model -f Modelfile" in card
    assert "llama-cli -m model-q8_0.gguf -cnv -c 256" in card and "--chat-template chatml" in card
    assert verify_export(out).ok  # the Modelfile is covered by SHA256SUMS


def test_sampling_settings_come_from_the_generation_config(tiny_llama, tmp_path):
    folder = tmp_path / "copy"
    folder.mkdir()
    for name in ("config.json", "tokenizer_config.json"):
        if (tiny_llama / name).exists():
            (folder / name).write_text((tiny_llama / name).read_text())
    (folder / "generation_config.json").write_text(json.dumps(
        {"do_sample": True, "temperature": 0.7, "top_p": 0.9, "max_new_tokens": 300}))
    settings = run_settings(folder)
    assert (settings.temperature, settings.top_p, settings.num_predict) == (0.7, 0.9, 300)
    text = modelfile("m.gguf", folder, settings)
    assert "PARAMETER temperature 0.7" in text and "PARAMETER top_p 0.9" in text
    assert "--top-p 0.9" in llama_cpp_command("m.gguf", settings)


def test_templates_of_known_families_and_an_unknown_one(smollm2_tokenizer, tmp_path):
    assert template_family(smollm2_tokenizer.chat_template)[0] == "chatml"
    assert default_system(smollm2_tokenizer.chat_template) == \
        "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
    assert template_family("<|start_header_id|>{{ x }}")[2][-1] == "<|eot_id|>"
    assert template_family("{{ messages }}") is None
    assert "TEMPLATE" not in modelfile("m.gguf", tmp_path)  # Ollama uses the GGUF's template
    assert ollama_name("Run 7 · Ward/Model") == "run-7-ward-model"
