"""`enclave eval`, `drift`, `report` and `review-export`: evaluation from the command line."""

from __future__ import annotations

import argparse

from engine.cli.errors import CommandError
from engine.cli.jobs import run_job
from engine.cli.parser import add_command as add
from engine.cli.workspace import find_project, open_workspace
from engine.evaluate.compare import check_compare, format_side_table
from engine.evaluate.corrections import export_corrections
from engine.evaluate.display import shown_drift
from engine.evaluate.report import write_html
from engine.evaluate.report_pdf import write_pdf
from engine.models.run_models import get_run


def register(sub) -> None:
    """Add the evaluation commands."""
    add(sub, "eval", "evaluate a training run's tuned model (beside its base and compressed "
        "variants) on test prompts",
        evaluate, (("run",), {"type": int, "help": "training run id"}),
        (("--compare",), {"default": "base", "metavar": "SIDES",
                          "help": "models beside the tuned one, comma-separated: base "
                                  "(default), compressed (every compressed variant of the "
                                  "run), a compression run id or variant label, or none"}),
        (("--test",), {"help": "JSONL test file (default: the project's held-out split)"}),
        (("--limit",), {"type": int, "default": 50, "help": "test items at most"}),
        (("--max-new-tokens",), {"type": int, "default": 48}),
        (("--group",), {"default": "kind", "help": "record field naming the fairness group"}),
        (("--counterfactual",), {"action": "store_true",
                                 "help": "probe answers with demographic terms swapped"}),
        (("--privacy",), {"action": "store_true",
                          "help": "memorization check instead: how often the tuned model "
                                  "completes identifiers and planted canaries of its "
                                  "training data"}))
    add(sub, "drift", "check new data for drift against a project's training data", drift,
        (("project",), {"help": "project name"}), (("file",), {"help": "JSONL of new records"}),
        (("--label-field",), {"help": "categorical field to compare (default: label / kind)"}),
        (("--run",), {"type": int, "help": "training run: also check its model on the new data"}))
    add(sub, "report", "write an evaluation run's report", report,
        (("run",), {"type": int, "help": "evaluation run id"}),
        (("--html",), {"help": "HTML file to write"}), (("--pdf",), {"help": "PDF file to write"}))
    add(sub, "review-export", "store an evaluation's expert corrections as a dataset version",
        review_export, (("run",), {"type": int, "help": "evaluation run id"}),
        (("--name",), {"default": "expert-corrections", "help": "dataset name"}))



def _run_job(kind: str, params: dict, project_id: int, quiet: bool) -> tuple[int, dict]:
    return run_job(kind, params, project_id, quiet=quiet)


def _project_of_run(run_id: int) -> int:
    try:
        return get_run(open_workspace(), run_id)["project_id"]
    except ValueError as exc:
        raise CommandError(str(exc)) from exc


def evaluate(args: argparse.Namespace) -> dict:

    project_id = _project_of_run(args.run)
    if args.privacy:
        return privacy_check(args, project_id)
    try:
        check_compare(open_workspace(), args.run, args.compare)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    params = {"run_id": args.run, "compare": None if args.compare == "none" else args.compare,
              "test_file": args.test, "limit": args.limit,
              "max_new_tokens": args.max_new_tokens, "group_field": args.group,
              "counterfactual": args.counterfactual}
    job_id, summary = _run_job("evaluate", params, project_id, args.json)
    if not args.json:
        _print_eval(summary)
    return {"ok": True, "job_id": job_id, **summary}


def privacy_check(args: argparse.Namespace, project_id: int) -> dict:
    """`enclave eval RUN --privacy`: the memorization check of a run's tuned model."""
    job_id, summary = _run_job("evaluate.privacy", {"run_id": args.run, "limit": args.limit},
                               project_id, args.json)
    if not args.json:
        print(format_privacy(summary))
    return {"ok": True, "job_id": job_id, **summary}


def format_privacy(s: dict) -> str:
    """The memorization check as a plain-text table."""
    lines = [f"memorization check {s['privacy_run_id']} of run {s['source_run']}: "
             + ("FLAGGED, the tuned model repeats training identifiers" if s["flagged"]
                else "not flagged"),
             f"{'model':<8} {'id probes':>9} {'exact':>7} {'partial':>8} {'canaries':>9} "
             f"{'exact':>7} {'exposure':>9}"]
    for name, side in s["sides"].items():
        ids, canary = side["identifier"], side["canary"]
        lines.append(f"{name:<8} {ids['probes']:>9} {ids['exact']:>7.1%} {ids['partial']:>8.1%} "
                     f"{canary['probes']:>9} {canary['exact']:>7.1%} "
                     f"{canary['exposure_max']:>9.2f}")
    return "\n".join(lines)


def _print_eval(s: dict) -> None:

    print(f"evaluation run {s['eval_run_id']}: {s['items']} items from {s['test']} "
          f"({s['contaminated']} left out: also in the training data)")
    print(format_side_table(s))
    fairness = (s.get("fairness") or {}).get("tuned")
    if fairness:
        gaps = ", ".join(f"{k} {v:.3f}" for k, v in fairness["difference"].items())
        print(f"  fairness by {s['group_field']}: largest gap {gaps}")
    probe = s["sides"].get("tuned", {}).get("counterfactual")
    if probe and probe["probed"]:
        print(f"  counterfactual probes: {probe['probed']} prompts, {probe['changed']:.0%} of "
              f"answers change when demographic terms are swapped (chrF {probe['similarity']:.1f})")


def drift(args: argparse.Namespace) -> dict:
    project = find_project(open_workspace(), args.project)
    params = {"file": args.file, "label_field": args.label_field, "run_id": args.run}
    job_id, summary = _run_job("drift", params, project["id"], args.json)
    summary = shown_drift(open_workspace(), project["id"], summary)
    if not args.json:
        print("DRIFT" if summary["drifted"] else "no drift", f"in {args.file} "
              f"(embedding AUC {summary['embedding']['auc']:.2f}, p={summary['embedding']['p_value']:.2g})")
        for reason in summary["reasons"]:
            print(f"  - {reason}")
        for driver in summary["drivers"][:3]:
            print(f"  driving sample (score {driver['score']:.2f}): {driver['text'][:100]}")
    return {"ok": True, "job_id": job_id, **summary}


def report(args: argparse.Namespace) -> dict:

    if not args.html and not args.pdf:
        raise CommandError("Say where the report goes: --html OUT and/or --pdf OUT.")
    db, written = open_workspace(), {}
    try:
        if args.html:
            written["html"] = str(write_html(db, args.run, args.html))
        if args.pdf:
            written["pdf"] = str(write_pdf(db, args.run, args.pdf))
    except (ValueError, OSError) as exc:
        raise CommandError(str(exc)) from exc
    if not args.json:
        for path in written.values():
            print(f"wrote {path}")
    return {"ok": True, **written}


def review_export(args: argparse.Namespace) -> dict:
    db = open_workspace()
    try:
        dataset_id = export_corrections(db, _project_of_run(args.run), args.run,
                                                    args.name)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    if not args.json:
        print(f"stored the corrections of run {args.run} as dataset {dataset_id} ({args.name})")
    return {"ok": True, "dataset_id": dataset_id}
