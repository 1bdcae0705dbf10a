"""Run an exported GGUF where people run models: an Ollama Modelfile and llama.cpp commands.

The Modelfile names the GGUF file, turns the model's chat template (a Jinja template in
the tokenizer) into Ollama's Go-template ``TEMPLATE`` for the families Enclave's bundled
and usual models use (ChatML, Llama 3, ``[INST]``), adds the template's stop tokens and the
model's default system message, and writes ``PARAMETER`` lines from the model's generation
settings (``generation_config.json``) and context length. An unknown template is left to
the runtime, which reads the GGUF's own ``tokenizer.chat_template``; the Modelfile says so.
The model card gets a "Run it" section with the ``ollama`` and ``llama.cpp`` commands.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

MODELFILE = "Modelfile"
MAX_CONTEXT = 8192

_CHATML = ('{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}'
           '{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n'
           '{{ end }}<|im_start|>assistant\n')
_LLAMA3 = ('{{- if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}'
           '<|eot_id|>{{ end }}{{- range .Messages }}<|start_header_id|>{{ .Role }}'
           '<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}'
           '<|start_header_id|>assistant<|end_header_id|>\n\n')
_INST = ('{{- range .Messages }}{{- if eq .Role "user" }}[INST] {{ if .System }}{{ .System }}'
         '\n\n{{ end }}{{ .Content }} [/INST]{{ else if eq .Role "assistant" }} {{ .Content }}'
         '</s>{{ end }}{{ end }}')
# marker in the Jinja template → (family, Go template, stop tokens)
FAMILIES = (("<|im_start|>", "chatml", _CHATML, ("<|im_start|>", "<|im_end|>")),
            ("<|start_header_id|>", "llama3", _LLAMA3, ("<|start_header_id|>", "<|eot_id|>")),
            ("[INST]", "inst", _INST, ("[INST]", "[/INST]", "</s>")))
_DEFAULT_SYSTEM = re.compile(r"<\|im_start\|>system(?:\\n|\n)([^{}']+?)<\|im_end\|>", re.S)


@dataclass
class RunSettings:
    """How the exported model should generate, as Ollama and llama.cpp take it."""

    temperature: float = 0.0
    top_p: float | None = None
    top_k: int | None = None
    repeat_penalty: float | None = None
    num_predict: int = 256
    num_ctx: int = 2048
    stops: list[str] = field(default_factory=list)


def chat_template(folder: Path) -> str:
    """The Jinja chat template of a model folder ("" when it has none)."""
    jinja = folder / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    try:
        config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    template = config.get("chat_template") or ""
    return template if isinstance(template, str) else ""


def template_family(jinja: str) -> tuple[str, str, tuple[str, ...]] | None:
    """(family, Ollama template, stop tokens) of a Jinja chat template, or None."""
    for marker, family, template, stops in FAMILIES:
        if marker in jinja:
            return family, template, stops
    return None


def default_system(jinja: str) -> str:
    """The system message a ChatML template puts in when the conversation has none."""
    found = _DEFAULT_SYSTEM.search(jinja)
    return found.group(1).strip() if found else ""


def run_settings(folder: Path) -> RunSettings:
    """Generation settings from ``generation_config.json`` and ``config.json``: greedy
    (temperature 0) unless the model samples by default."""
    def read(name: str) -> dict:
        try:
            return json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    generation, config = read("generation_config.json"), read("config.json")
    sampling = bool(generation.get("do_sample"))
    family = template_family(chat_template(folder))
    return RunSettings(
        temperature=float(generation.get("temperature", 1.0)) if sampling else 0.0,
        top_p=generation.get("top_p") if sampling else None,
        top_k=generation.get("top_k") if sampling else None,
        repeat_penalty=generation.get("repetition_penalty"),
        num_predict=int(generation.get("max_new_tokens") or 256),
        num_ctx=min(int(config.get("max_position_embeddings") or 2048), MAX_CONTEXT),
        stops=list(family[2]) if family else [])


def _quoted(text: str) -> str:
    return '"""' + text.replace('"""', '\\"\\"\\"') + '"""'


def modelfile(gguf_name: str, folder: Path, settings: RunSettings | None = None) -> str:
    """The Ollama Modelfile of an exported GGUF file.

    Args:
        gguf_name: the GGUF file's name, beside the Modelfile.
        folder: the model folder the GGUF was written from (chat template, settings).
        settings: overrides :func:`run_settings`.
    """
    jinja = chat_template(folder)
    family = template_family(jinja)
    settings = settings or run_settings(folder)
    lines = [f"# Ollama: ollama create <name> -f {MODELFILE}", f"FROM ./{gguf_name}", ""]
    if family is not None:
        lines.append(f"# chat template: {family[0]} (from the model's tokenizer)")
        lines.append(f"TEMPLATE {_quoted(family[1])}")
        system = default_system(jinja)
        if system:
            lines.append(f"SYSTEM {_quoted(system)}")
    else:
        lines.append("# chat template: not a known family; Ollama reads the GGUF's own "
                     "tokenizer.chat_template")
    lines.append("")
    lines.append(f"PARAMETER temperature {settings.temperature:g}")
    for name, value in (("top_p", settings.top_p), ("top_k", settings.top_k),
                        ("repeat_penalty", settings.repeat_penalty)):
        if value is not None:
            lines.append(f"PARAMETER {name} {value:g}")
    lines.append(f"PARAMETER num_ctx {settings.num_ctx}")
    lines.append(f"PARAMETER num_predict {settings.num_predict}")
    lines += [f'PARAMETER stop "{stop}"' for stop in settings.stops]
    return "\n".join(lines) + "\n"


def ollama_name(folder_name: str) -> str:
    """A model name Ollama accepts, from the export folder's name."""
    return re.sub(r"[^a-z0-9._-]+", "-", folder_name.lower()).strip("-._") or "enclave-model"


def llama_cpp_command(gguf_name: str, settings: RunSettings, jinja: str = "") -> str:
    """The llama.cpp command line that chats with the file, with the same settings."""
    family = template_family(jinja)
    parts = ["llama-cli", "-m", gguf_name, "-cnv", "-c", str(settings.num_ctx),
             "-n", str(settings.num_predict), "--temp", f"{settings.temperature:g}"]
    if settings.top_p is not None:
        parts += ["--top-p", f"{settings.top_p:g}"]
    if family is not None and family[0] in ("chatml", "llama3"):
        parts += ["--chat-template", family[0]]
    return " ".join(parts)


def run_section(gguf_name: str, folder: Path, export_name: str) -> str:
    """The model card's "Run it" section: Ollama and llama.cpp, offline, from this folder."""
    settings = run_settings(folder)
    name = ollama_name(export_name)
    command = llama_cpp_command(gguf_name, settings, chat_template(folder))
    return "\n".join([
        "## Run it", "",
        "From this folder, on a machine with Ollama or llama.cpp (no network needed):", "",
        "```sh", f"ollama create {name} -f {MODELFILE}", f"ollama run {name}", "```", "",
        "```sh", command,
        f"llama-server -m {gguf_name} -c {settings.num_ctx}   # an HTTP endpoint on port 8080",
        "```", "",
        f"`{MODELFILE}` holds the chat template and generation settings "
        f"(temperature {settings.temperature:g}, at most {settings.num_predict} tokens per "
        f"answer, context {settings.num_ctx} tokens).", ""])
