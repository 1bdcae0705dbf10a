"""The chat format of instruction tuning: the tokenizer's own template, or Enclave's plain one.

A model brings its chat template in ``tokenizer_config.json`` (or ``chat_template.jinja``) and
Enclave uses it as it is. A model without one (a base model, GPT-2, a home-made checkpoint)
is refused for instruction tuning unless the recipe sets ``chat_template_fallback``: then
chats are written in :data:`PLAIN_CHAT_TEMPLATE`::

    <system text>            (when there is a system turn)

    ### User:
    <question>

    ### Assistant:
    <answer><eos>

The template is saved with the trained adapter or model, so evaluation, the chat window and
GGUF export use the same format; it is never applied silently in place of a model's own.
"""

from __future__ import annotations

from typing import Any

PLAIN_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ message['content'] }}\n\n"
    "{% elif message['role'] == 'user' %}### User:\n{{ message['content'] }}\n\n"
    "{% else %}### Assistant:\n{{ message['content'] }}{{ eos_token }}\n\n{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}### Assistant:\n{% endif %}")


def ensure_chat_template(tokenizer: Any, folder: Any, fallback: bool) -> Any:
    """The tokenizer with a chat template: its own, or the plain one when ``fallback``.

    Raises:
        ValueError: when the tokenizer has none and ``fallback`` is off; the message names
            the folder and the recipe field that allows the plain format.
    """
    if getattr(tokenizer, "chat_template", None):
        return tokenizer
    if not fallback:
        raise ValueError(f"{folder}: the tokenizer has no chat template; instruction training "
                         "needs one. Set chat_template_fallback = true to use Enclave's plain "
                         "'### User: / ### Assistant:' format (saved with the result)")
    if tokenizer.eos_token is None:
        raise ValueError(f"{folder}: the tokenizer has neither a chat template nor an "
                         "end-of-sequence token to close the assistant's turns")
    tokenizer.chat_template = PLAIN_CHAT_TEMPLATE
    return tokenizer
