"""Try a model: one prompt answered by one or two models of a training run, streamed.

The models are those an evaluation offers (:mod:`engine.evaluate.sources`): the base, the
tuned model and its compressed variants. The prompt is rendered with the model's own chat
template (the one training used) and the answer streams token by token
(transformers' ``TextIteratorStreamer``); each update is a progress event whose message is
the answer so far. In a project that redacts, every text leaves the job redacted, and the
stream is held back to the last finished sentence, so a name is never shown half-typed
before the redactor can recognise it.

Answers can be kept for expert review: :func:`send_to_review` stores them as items of an
evaluation run, which the Review tab lists like any other.
"""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable

import sqlite_utils

from engine.evaluate import sources
from engine.evaluate.compare import compressed_sides, compressed_variants, side_order
from engine.progress import Reporter
from engine.store import evaluations, runs
from engine.store.transactions import transaction

MAX_SIDES = 2
_SENTENCE_END = re.compile(r"[.!?:;\n]\s")


@dataclass
class ChatRecipe:
    """One prompt for one or two models of a training run.

    Fails (ValueError) on an empty prompt, more than two models, a temperature outside
    0–2 or a token budget outside 1–2048.
    """

    run_id: int = field(metadata={"help": "the training run whose models answer"})
    prompt: str = field(metadata={"help": "what the user asks"})
    sides: list[str] = field(default_factory=lambda: ["tuned"], metadata={
        "help": "models that answer: 'base', 'tuned' or a compressed variant ('tuned 8-bit')"})
    system: str = field(default="", metadata={"help": "system message put before the prompt"})
    temperature: float = field(default=0.0, metadata={
        "help": "0 always picks the likeliest word; higher values vary the answer (0–2)"})
    max_new_tokens: int = field(default=128, metadata={
        "help": "the answer stops after this many tokens (1–2048)"})
    seed: int = field(default=0, metadata={"help": "random seed when sampling"})

    def __post_init__(self) -> None:
        if not self.prompt.strip():
            raise ValueError("prompt: type a question for the model")
        if not 1 <= len(self.sides) <= MAX_SIDES:
            raise ValueError(f"sides: choose one or two models, got {len(self.sides)}")
        if not 0.0 <= self.temperature <= 2.0:
            raise ValueError(f"temperature must be from 0 to 2, got {self.temperature}")
        if not 1 <= self.max_new_tokens <= 2048:
            raise ValueError(f"max_new_tokens must be from 1 to 2048, got {self.max_new_tokens}")


def chat_sides(db: sqlite_utils.Database, run_id: int) -> dict[str, sources.ModelSide]:
    """Every model of a run that can answer, in display order (base, tuned, variants).

    Raises:
        ValueError: when the run has no tuned model (see :func:`sources.model_sides`).
    """
    found = sources.model_sides(db, run_id)
    found.update(compressed_sides(db, run_id, ["compressed"]) if _has_variants(db, run_id)
                 else {})
    return {name: found[name] for name in side_order(found)}


def _has_variants(db: sqlite_utils.Database, run_id: int) -> bool:

    return bool(compressed_variants(db, run_id))


def messages_for(recipe: ChatRecipe) -> list[dict[str, str]]:
    """The conversation sent to the chat template."""
    head = [{"role": "system", "content": recipe.system.strip()}] if recipe.system.strip() else []
    return [*head, {"role": "user", "content": recipe.prompt.strip()}]


def shown_prefix(text: str, redacts: bool, done: bool) -> str:
    """The part of a growing answer that may be shown: all of it, or up to the last
    finished sentence while a redacting project's answer is still being written."""
    if done or not redacts:
        return text
    ends = [match.end() for match in _SENTENCE_END.finditer(text)]
    return text[:ends[-1]] if ends else ""


def stream_answer(model: Any, tokenizer: Any, recipe: ChatRecipe,
                  on_text: Callable[[str], None], check_cancel: Callable[[], None]) -> str:
    """Generate one answer, calling ``on_text(answer so far)`` as tokens arrive.

    Returns:
        The whole answer (special tokens left out, stripped).

    Raises:
        Cancelled: from ``check_cancel`` (generation is stopped, the thread joined).
    """
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

    stop = threading.Event()

    class _Stop(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs) -> bool:  # noqa: ARG002
            return stop.is_set()

    text = tokenizer.apply_chat_template(messages_for(recipe), tokenize=False,
                                         add_generation_prompt=True)
    inputs = tokenizer(text, return_tensors="pt", add_special_tokens=False)
    device = model.get_input_embeddings().weight.device
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True,
                                    timeout=600.0)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None \
        else tokenizer.eos_token_id
    sampling = {"do_sample": True, "temperature": recipe.temperature} \
        if recipe.temperature > 0 else {"do_sample": False}
    torch.manual_seed(recipe.seed)
    errors: list[BaseException] = []

    def generate() -> None:
        try:
            with torch.inference_mode():
                model.generate(**{k: v.to(device) for k, v in inputs.items()},
                               max_new_tokens=recipe.max_new_tokens, pad_token_id=pad_id,
                               streamer=streamer,
                               stopping_criteria=StoppingCriteriaList([_Stop()]), **sampling)
        except BaseException as exc:  # noqa: BLE001 - raised again on the job's thread
            errors.append(exc)
            streamer.end()

    worker = threading.Thread(target=generate, name="chat-generate", daemon=True)
    worker.start()
    answer = ""
    try:
        for piece in streamer:
            answer += piece
            on_text(answer)
            check_cancel()
    finally:
        stop.set()
        worker.join()
    if errors:
        raise errors[0]
    return answer.strip()


def run_chat(db: sqlite_utils.Database, recipe: ChatRecipe,
             reporter: Reporter, load: Callable[[sources.ModelSide], tuple[Any, Any]],
             shown: Callable[[str], str] | None = None) -> dict:
    """Answer ``recipe.prompt`` with each chosen model, one after the other.

    In a redacting project (``shown`` given) the model gets the prompt redacted.

    Progress: one event per update, ``stage`` = the side, ``message`` = the answer so far
    (redacted by ``shown``), ``step``/``total`` = tokens so far / the token budget.

    Returns:
        ``{"run_id", "prompt", "answers": {side: text}}`` (prompt and answers as shown).

    Raises:
        ValueError: naming a side the run does not have.
        Cancelled: when the user stopped it.
    """
    available = chat_sides(db, recipe.run_id)
    unknown = [name for name in recipe.sides if name not in available]
    if unknown:
        raise ValueError(f"run {recipe.run_id} has no model {unknown[0]!r}; it has: "
                         f"{', '.join(available)}")
    redacts = shown is not None
    show = shown or (lambda text: text)
    if redacts:  # the model sees what it was trained on: redacted text
        recipe = replace(recipe, prompt=show(recipe.prompt), system=show(recipe.system))
    answers: dict[str, str] = {}
    for name in recipe.sides:
        reporter.report(0, recipe.max_new_tokens, "", stage=name)
        model, tokenizer = load(available[name])
        state = {"n": 0, "prefix": None, "shown": ""}

        def on_text(so_far: str, side: str = name, state: dict = state) -> None:
            state["n"] += 1
            prefix = shown_prefix(so_far, redacts, False)
            if prefix != state["prefix"]:  # the redactor runs only when the shown text grew
                state["prefix"], state["shown"] = prefix, show(prefix)
            reporter.report(min(state["n"], recipe.max_new_tokens - 1), recipe.max_new_tokens,
                            state["shown"], stage=side)

        answer = stream_answer(model, tokenizer, recipe, on_text, reporter.check_cancel)
        answers[name] = show(answer)
        reporter.report(recipe.max_new_tokens, recipe.max_new_tokens, answers[name],
                        stage=name, done=1.0)
        del model
    return {"run_id": recipe.run_id, "prompt": show(recipe.prompt.strip()), "answers": answers,
            "settings": {k: v for k, v in asdict(recipe).items() if k not in ("prompt",)}}


def send_to_review(db: sqlite_utils.Database, project_id: int, source_run_id: int,
                   prompt: str, answers: dict[str, str], review_run_id: int | None = None) -> int:
    """Keep chat answers as one review item: appended to ``review_run_id`` (an evaluation
    run made by this function before) or to a new one.

    Args:
        prompt: the prompt as shown (redacted in a redacting project).
        answers: side → answer, as shown.

    Returns:
        The evaluation run that holds the item (the Review tab lists it).

    Raises:
        ValueError: when there is no answer to keep.
    """
    kept = {side: text for side, text in answers.items() if text.strip()}
    if not kept:
        raise ValueError("no answer to send to review yet")
    with transaction(db):
        if review_run_id is None:
            review_run_id = runs.create(db, project_id, "evaluate", "chat answers",
                                        {"source": "chat", "run_id": source_run_id})
        found = db.execute("SELECT max(item) FROM eval_outputs WHERE run_id = ?",
                           [review_run_id]).fetchone()
        item = 0 if found[0] is None else found[0] + 1
        runs.set_summary(db, review_run_id, {"source_run": source_run_id, "items": item + 1,
                                             "test": "answers from the Chat tab", "sides": {}})
    evaluations.add_outputs(db, review_run_id, [
        {"item": item, "side": side, "prompt": prompt, "reference": "", "output": text}
        for side, text in kept.items()])
    return review_run_id
