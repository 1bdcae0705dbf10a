"""A tiny Llama with a small byte-level BPE tokenizer (ChatML), for fast compression tests.

Shared by tests/engine/compress and tests/gui/test_gui_compress.py (loaded by path).
"""

from __future__ import annotations

from pathlib import Path

CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
          "message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def small_bpe_tokenizer(texts: list[str]):
    """A byte-level BPE tokenizer (vocab 400) trained on ``texts``, with ChatML.

    Small on purpose: GGUF files then carry a short token list, so they are
    written and read back in a second.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    core.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=400, special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<|im_start|>",
                                   eos_token="<|im_end|>", unk_token="<|endoftext|>",
                                   pad_token="<|im_end|>", chat_template=CHATML)


def build_tiny_bpe_llama(folder: Path, records: list[dict]) -> Path:
    """Save a 2-layer random Llama (hidden 64) with a BPE tokenizer trained on ``records``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    texts = [f"{r['prompt']} {r['response']}" for r in records] * 4 + [
        "The patient was discharged home. List three things to do after leaving hospital."]
    tokenizer = small_bpe_tokenizer(texts)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=256, tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(1234)
    LlamaForCausalLM(config).save_pretrained(str(folder), safe_serialization=True)
    tokenizer.save_pretrained(str(folder))
    return folder
