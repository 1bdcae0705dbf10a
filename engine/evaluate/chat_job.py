"""Job entry of the Chat tab: one prompt answered by one or two models, streamed as
progress events (see :mod:`engine.evaluate.chat`)."""

from __future__ import annotations

from engine.data.privacy import project_redactor
from engine.evaluate.chat import ChatRecipe, run_chat
from engine.evaluate.job import load_side
from engine.jobs.registry import JobContext
from engine.models.run_models import get_run


def chat_job(ctx: JobContext) -> dict:
    """Job entry point: params are the fields of :class:`ChatRecipe`."""
    recipe = ChatRecipe(**ctx.params)
    project_id = ctx.project_id
    if project_id is None:
        project_id = get_run(ctx.db, recipe.run_id)["project_id"]
    return run_chat(ctx.db, recipe, ctx.reporter.for_stage("chat"), load_side,
                    project_redactor(ctx.db, project_id))
