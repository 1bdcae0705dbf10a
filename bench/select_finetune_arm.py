"""Fine-tune arm of bench_select_proof: the MiniLM encoder with a classification head.

Every arm gets the same compute (``steps`` optimizer steps of ``batch`` rows drawn
from its subset), so the comparison is about which rows, not how many steps.
"""

from __future__ import annotations

import numpy as np


def finetune_accuracy(train_texts: list[str], train_labels: list[str], test_texts: list[str],
                      test_labels: list[str], names: list[str], seed: int, steps: int = 30,
                      batch: int = 16, learning_rate: float = 1e-4) -> float:
    """Test accuracy (%) of all-MiniLM-L6-v2 + linear head fine-tuned on the subset."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from engine.models.bundled import minilm_folder
    from engine.offline import refuse_remote_code

    hf_logging.set_verbosity_error()  # the new head's "missing weights" report, per arm
    torch.manual_seed(seed)
    folder = str(minilm_folder())
    tokenizer = AutoTokenizer.from_pretrained(folder, **refuse_remote_code({}))
    model = AutoModelForSequenceClassification.from_pretrained(
        folder, num_labels=len(names), use_safetensors=True, **refuse_remote_code({}))
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    target = torch.tensor([names.index(label) for label in train_labels])
    rng = np.random.default_rng(seed)
    model.train()
    for _ in range(steps):
        rows = rng.choice(len(train_texts), size=min(batch, len(train_texts)), replace=False)
        encoded = tokenizer([train_texts[i] for i in rows], padding=True, truncation=True,
                            max_length=128, return_tensors="pt")
        loss = model(**encoded, labels=target[rows]).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    correct = 0
    with torch.inference_mode():
        for start in range(0, len(test_texts), 64):
            encoded = tokenizer(test_texts[start:start + 64], padding=True, truncation=True,
                                max_length=128, return_tensors="pt")
            predicted = model(**encoded).logits.argmax(-1).tolist()
            correct += sum(names[p] == gold for p, gold in
                           zip(predicted, test_labels[start:start + 64]))
    return 100 * correct / len(test_texts)
