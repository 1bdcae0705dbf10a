"""A tiny BERT encoder (random weights, the bundled MiniLM's tokenizer) and clause records,
for classifier distillation tests."""

from __future__ import annotations

import random
from pathlib import Path

LABELS = ("confidentiality", "payment_terms", "termination")


def clause_records(n: int, seed: int = 0) -> list[dict]:
    """``n`` demo legal clauses of three types: ``{"text", "label"}``."""
    from engine.data.demo_legal import legal_record

    rng, found = random.Random(seed), []
    while len(found) < n:
        record = legal_record(rng)
        if record["label"] in LABELS:
            found.append({"text": record["text"], "label": record["label"]})
    return found


def _small_tokenizer(folder: Path, records: list[dict]):
    """MiniLM's WordPiece tokenizer cut down to the pieces ``records`` use (same splits on
    these texts, a vocabulary of a few hundred instead of 30,522)."""
    from transformers import AutoTokenizer, BertTokenizerFast

    from engine.models.bundled import minilm_folder

    full = AutoTokenizer.from_pretrained(str(minilm_folder()), local_files_only=True)
    used = {piece for r in records for piece in full.tokenize(r["text"])}
    vocab = [*full.all_special_tokens, *sorted(used - set(full.all_special_tokens))]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=True)


def build_tiny_bert(folder: Path, records: list[dict], layers: int = 4,
                    labels: tuple[str, ...] = (), seed: int = 0) -> Path:
    """Save a tiny BERT (hidden 32) with a small WordPiece vocabulary for ``records``; with
    ``labels`` it is a sequence classifier (random head), otherwise a plain encoder."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertModel

    torch.manual_seed(seed)
    folder = Path(folder)
    tokenizer = _small_tokenizer(folder, records)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=layers,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    if labels:
        config.num_labels = len(labels)
        config.id2label = dict(enumerate(labels))
        config.label2id = {name: i for i, name in enumerate(labels)}
        model = BertForSequenceClassification(config)
    else:
        model = BertModel(config)
    model.save_pretrained(str(folder), safe_serialization=True)
    tokenizer.save_pretrained(str(folder))
    return folder


def confident_tiny_classifier(folder: Path, records: list[dict], labels: tuple[str, ...],
                              layers: int = 4, sharpen: float = 40.0) -> Path:
    """A tiny BERT classifier whose head is scaled up so that its answers are confident and
    depend on the text: a teacher with something to pass on, without a training run."""
    from safetensors.torch import load_file, save_file

    folder = build_tiny_bert(folder, records, layers, labels)
    weights = folder / "model.safetensors"
    state = load_file(str(weights))
    state["classifier.weight"] = state["classifier.weight"] * sharpen
    state["bert.pooler.dense.weight"] = state["bert.pooler.dense.weight"] * 4
    save_file({k: v.contiguous() for k, v in state.items()}, str(weights),
              metadata={"format": "pt"})
    return folder
