"""The causal loss projects only labelled positions, and equals the full-logits loss.

The model gets a boolean ``logits_to_keep`` mask; the summed loss and the gradients must be
those of the plain path (full ``(batch, seq, vocab)`` logits, then cross-entropy with -100
ignored), for LoRA, QLoRA and full fine-tuning, and for a model without the mask argument.
"""

from __future__ import annotations

import pytest
import torch

from engine.train.build import build_model
from engine.train.format import collate, encode_records, token_nll
from engine.train.losses import causal_summed_loss, keeps_position_mask
from engine.train.recipe import TrainRecipe


class FullLogitsOnly(torch.nn.Module):
    """A causal LM whose forward has no ``logits_to_keep`` (like some older architectures)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, use_cache=None):
        return self.model(input_ids=input_ids, attention_mask=attention_mask)


@pytest.fixture(scope="module")
def batch(smollm2_tokenizer, tiny_records):
    examples = encode_records(smollm2_tokenizer, tiny_records[:6], 48)
    return collate(examples, smollm2_tokenizer.pad_token_id)


def _plain_loss(model, batch):
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    return token_nll(logits, batch["labels"])[0]


def _loss_and_grads(model, loss_function, batch):
    model.zero_grad(set_to_none=True)
    loss = loss_function(model, batch)
    loss.backward()
    grads = {name: p.grad.detach().clone() for name, p in model.named_parameters()
             if p.requires_grad and p.grad is not None}
    return loss.detach(), grads


@pytest.mark.parametrize("method", ["lora", "qlora", "full"])
def test_masked_loss_and_gradients_equal_the_full_logits_ones(tiny_llama_folder, batch, method):
    torch.manual_seed(0)
    model = build_model(tiny_llama_folder, TrainRecipe(method=method, dropout=0.0), [])
    assert keeps_position_mask(model)
    masked, masked_grads = _loss_and_grads(model, causal_summed_loss, batch)
    plain, plain_grads = _loss_and_grads(model, _plain_loss, batch)

    assert float(masked) == pytest.approx(float(plain), rel=1e-5)
    assert masked_grads.keys() == plain_grads.keys() and masked_grads
    for name, grad in plain_grads.items():
        torch.testing.assert_close(masked_grads[name], grad, rtol=1e-4, atol=1e-6)


def test_a_model_without_the_mask_argument_falls_back_to_full_logits(tiny_llama_folder, batch):
    from transformers import AutoModelForCausalLM

    model = FullLogitsOnly(AutoModelForCausalLM.from_pretrained(str(tiny_llama_folder)))
    assert not keeps_position_mask(model)
    with torch.no_grad():
        assert float(causal_summed_loss(model, batch)) == pytest.approx(
            float(_plain_loss(model, batch)), rel=1e-5)


def test_weighted_loss_weighs_each_rows_tokens(tiny_llama_folder, batch):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(tiny_llama_folder))
    weights = torch.tensor([0.5, 2.0, 1.0, 0.25, 1.5, 0.75])
    with torch.no_grad():
        weighted = causal_summed_loss(model, {**batch, "weights": weights})
        by_row = [_plain_loss(model, {key: value[row:row + 1] for key, value in batch.items()})
                  for row in range(len(weights))]
    expected = sum(float(w) * float(loss) for w, loss in zip(weights, by_row))
    assert float(weighted) == pytest.approx(expected, rel=1e-5)
