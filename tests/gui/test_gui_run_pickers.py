"""Run pickers (Evaluate, Compress, Review, DPO) offer only runs that finished with a model."""

from engine.store import datasets, evaluations, jobs, projects, runs


def _job(db, project_id, state):
    job_id = jobs.create(db, "train", {}, project_id)
    jobs.finish(db, job_id, state)
    return job_id


def _train_run(db, project_id, tmp_path, name, state, dataset_id):
    run_id = runs.create(db, project_id, "train", name,
                         {"dataset_id": dataset_id, "train": {"method": "lora"}},
                         _job(db, project_id, state))
    folder = tmp_path / f"adapter-{run_id}"
    folder.mkdir()
    runs.add_artifact(db, project_id, "lora-adapter", folder, run_id)
    return run_id


def _project(db, tmp_path) -> dict:
    pid = projects.create(db, "Ward pickers")
    data = datasets.add_version(db, pid, "ward-train", "split", [{"prompt": "a"}], ["h"],
                                role="train")
    ids = {"old": _train_run(db, pid, tmp_path, "old", "succeeded", data),
           "new": _train_run(db, pid, tmp_path, "new", "succeeded", data),
           "failed": _train_run(db, pid, tmp_path, "failed", "failed", data),
           "no model": runs.create(db, pid, "train", "no model", {}, _job(db, pid, "succeeded")),
           "cancelled": _train_run(db, pid, tmp_path, "cancelled", "cancelled", data)}
    ids["evaluation"] = runs.create(db, pid, "evaluate", "evaluate run 2", {},
                                    _job(db, pid, "succeeded"))
    runs.set_summary(db, ids["evaluation"], {"source_run": ids["new"], "items": 1,
                                             "test": "ward-test v1"})
    evaluations.add_outputs(db, ids["evaluation"], [
        {"item": 0, "side": side, "prompt": "p", "output": side} for side in ("base", "tuned")])
    ids["cancelled evaluation"] = runs.create(db, pid, "evaluate", "evaluate run 1", {},
                                              _job(db, pid, "cancelled"))
    ids["project"] = pid
    return ids


def _items(combo) -> list[tuple[object, str]]:
    return [(combo.itemData(i), combo.itemText(i)) for i in range(combo.count())]


def test_pickers_list_only_finished_runs_newest_first_with_one_label(qtbot, window, db,
                                                                     tmp_path):
    ids = _project(db, tmp_path)
    window.refresh_projects()
    window.open_project(ids["project"])
    panels = dict(window.stage_panels)
    usable = [(r["id"], r["label"]) for r in runs.usable_runs(db, ids["project"])]
    assert [run_id for run_id, _ in usable] == [ids["new"], ids["old"]]
    label = usable[0][1]
    assert label.startswith(f"Run {ids['new']}: lora · ward-train v1 · finished · ")

    assert _items(panels["Evaluate"].train_combo) == usable
    assert _items(panels["Compress"].run_combo) == usable
    assert panels["Compress"].selected_run() == ids["new"]
    dpo = panels["Training"].dpo_options.start_combo
    assert _items(dpo)[1:] == usable and dpo.itemData(0) is None
    review = panels["Review"].run_combo
    assert [review.itemData(i) for i in range(review.count())] == [ids["evaluation"]]
    assert "evaluation of run" in review.itemText(0) and "ward-test v1" in review.itemText(0)
    assert [panels["Evaluate"].run_combo.itemData(i)
            for i in range(panels["Evaluate"].run_combo.count())] == [ids["evaluation"]]
