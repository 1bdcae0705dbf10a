import math

import pytest
import torch

from engine.compress.sizes import model_footprint
from engine.fsutil import folder_size
from engine.models.loading import load_causal_lm, load_tokenizer
from engine.offline import RemoteCodeRefused, refuse_remote_code


def _loss(model, tokenizer, text="The capital of France is Paris."):
    batch = tokenizer(text, return_tensors="pt")
    with torch.inference_mode():
        return model(**batch, labels=batch["input_ids"]).loss.item()


@pytest.fixture(scope="module")
def smollm2_8bit(smollm2_dir):
    return load_causal_lm(smollm2_dir, quantize="8bit"), load_tokenizer(smollm2_dir)


@pytest.mark.slow
def test_8bit_load_gives_finite_loss_and_smaller_footprint(smollm2_dir, smollm2_8bit, caplog):
    model, tokenizer = smollm2_8bit
    assert tokenizer.pad_token is not None
    loss = _loss(model, tokenizer)
    assert math.isfinite(loss) and loss < 6
    assert model_footprint(model) < 0.6 * folder_size(smollm2_dir)
    assert not [r for r in caplog.records if "MatMul8bitLt" in r.getMessage()]


def test_unknown_quantize_is_refused(smollm2_dir):
    with pytest.raises(ValueError, match="quantize must be"):
        load_causal_lm(smollm2_dir, quantize="3bit")


def test_remote_code_request_is_refused():
    with pytest.raises(RemoteCodeRefused):
        refuse_remote_code({"trust_remote_code": True})
