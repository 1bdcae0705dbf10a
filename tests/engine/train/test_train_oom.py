"""Out-of-memory errors become advice on what to lower."""

from __future__ import annotations

import pytest

from engine.train.loop import is_out_of_memory, oom_message
from engine.train.recipe import TrainRecipe


def test_a_real_allocation_failure_is_explained():
    import torch

    with pytest.raises(RuntimeError) as caught:
        torch.empty(2 ** 50, dtype=torch.uint8)
    assert is_out_of_memory(caught.value)
    message = oom_message(TrainRecipe(method="lora", batch_size=8, max_length=512), caught.value)
    assert "more memory than the device has" in message and "batch_size (now 8" in message
    assert "max_length (now 512)" in message and "gradient_checkpointing" in message
    assert "qlora" in message and "Resume continues" in message


def test_other_errors_are_not_taken_for_memory():
    assert not is_out_of_memory(ValueError("record 3: field 'text' must be a string"))
