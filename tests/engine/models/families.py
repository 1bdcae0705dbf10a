"""Tiny random-weight models of the common families, built from configs (nothing downloaded).

Each is saved as a local safetensors folder with a tokenizer trained here with the
``tokenizers`` library: byte-level BPE for the causal families (with a ChatML template,
except GPT-2, which like the real one has none), WordPiece for the encoders.
"""

from __future__ import annotations

import functools
from pathlib import Path

CORPUS = [f"Item {i} is {c}. What colour is item {i}? The patient in bed {i} is stable."
          for i in range(60) for c in ("red", "blue", "green", "white")]
CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + "
          "message['content'] + '<|im_end|>' + '\n' }}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
SIZE = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4}

CAUSAL = ("llama", "mistral", "qwen2", "gemma2", "phi3", "gpt2")
ENCODERS = ("bert", "roberta", "deberta-v2", "modernbert")


@functools.lru_cache(maxsize=2)
def bpe_tokenizer(chat: bool):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    core.train_from_iterator(CORPUS, trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token="<|endoftext|>", pad_token="<|endoftext|>",
        eos_token="<|im_end|>" if chat else "<|endoftext|>")
    if chat:
        tokenizer.chat_template = CHATML
    return tokenizer


@functools.lru_cache(maxsize=1)
def wordpiece_tokenizer():
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    core = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    core.normalizer = normalizers.BertNormalizer(lowercase=True)
    core.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    core.train_from_iterator(CORPUS, trainers.WordPieceTrainer(vocab_size=300,
                                                               special_tokens=specials))
    core.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    return PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")


def _causal_model(family: str, tokenizer):
    import transformers as tf

    ids = {"vocab_size": len(tokenizer), "bos_token_id": tokenizer.bos_token_id,
           "eos_token_id": tokenizer.eos_token_id, "pad_token_id": tokenizer.pad_token_id}
    common = {**SIZE, **ids, "max_position_embeddings": 256, "num_key_value_heads": 2}
    if family == "llama":
        return tf.LlamaForCausalLM(tf.LlamaConfig(**common, tie_word_embeddings=True))
    if family == "mistral":
        return tf.MistralForCausalLM(tf.MistralConfig(**common, sliding_window=None))
    if family == "qwen2":
        return tf.Qwen2ForCausalLM(tf.Qwen2Config(**common))
    if family == "gemma2":
        return tf.Gemma2ForCausalLM(tf.Gemma2Config(**common, head_dim=16,
                                                    sliding_window=64))
    if family == "phi3":
        return tf.Phi3ForCausalLM(tf.Phi3Config(**common))
    return tf.GPT2LMHeadModel(tf.GPT2Config(vocab_size=len(tokenizer), n_embd=64, n_layer=2,
                                            n_head=4, n_positions=256,
                                            bos_token_id=ids["bos_token_id"],
                                            eos_token_id=ids["eos_token_id"]))


def _encoder_model(family: str, tokenizer):
    import transformers as tf

    common = {**SIZE, "vocab_size": len(tokenizer), "pad_token_id": tokenizer.pad_token_id,
              "max_position_embeddings": 300}
    if family == "bert":
        return tf.BertModel(tf.BertConfig(**common))
    if family == "roberta":
        return tf.RobertaModel(tf.RobertaConfig(**common))
    if family == "deberta-v2":
        return tf.DebertaV2Model(tf.DebertaV2Config(**common, relative_attention=True,
                                                    pos_att_type=["p2c", "c2p"]))
    return tf.ModernBertModel(tf.ModernBertConfig(
        **common, cls_token_id=tokenizer.cls_token_id, sep_token_id=tokenizer.sep_token_id,
        global_attn_every_n_layers=1, local_attention=64))


def build(family: str, folder: Path) -> Path:
    """Save a tiny random ``family`` model and its tokenizer to ``folder``."""
    import torch

    torch.manual_seed(0)
    if family in CAUSAL:
        tokenizer = bpe_tokenizer(chat=family != "gpt2")
        model = _causal_model(family, tokenizer)
    else:
        tokenizer = wordpiece_tokenizer()
        model = _encoder_model(family, tokenizer)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder), safe_serialization=True)
    tokenizer.save_pretrained(str(folder))
    return folder


def chat_records(count: int = 8) -> list[dict]:
    colours = ("red", "blue", "green", "white")
    return [{"prompt": f"What colour is item {i}?", "response": f"Item {i} is {colours[i % 4]}."}
            for i in range(count)]


def label_records(count: int = 8) -> list[dict]:
    return [{"text": f"The patient in bed {i} is stable.", "label": "stable" if i % 2 else
             "watch"} for i in range(count)]
