from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from evoforge._errors import EvoforgeError
from evoforge.design import Design
from evoforge.export._source import model_source
from evoforge.goal import Goal, goal_from_json
from evoforge.oversight import require_intact
from evoforge.spaces import InputSpec
from evoforge.storage import Store, StudyRecord, held_out_name
from evoforge.study import lineage_view
from evoforge.tasks import Task, make_task, task_class


def _write_all(out: Path, files: dict[str, bytes]) -> None:
    # Write every file to a scratch folder first, then move each into place: an interrupted export leaves the
    # previous export or the new one, never a truncated file.
    if out.exists() and not out.is_dir():
        raise EvoforgeError(f"--out: {out} is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".export-") as scratch:
        for name, data in files.items():
            (Path(scratch) / name).write_bytes(data)
        for name in files:
            os.replace(Path(scratch) / name, out / name)


def _fraction(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.4f}"


def _input_spec(info: dict[str, Any], goal: Goal) -> InputSpec:
    """The input statistics recorded with the champion's weights; for a study from before they were recorded, the
    statistics of the task's data, read again."""
    inp = info.get("input")
    if isinstance(inp, dict):
        return InputSpec(tuple(inp["shape"]), int(inp["classes"]), tuple(inp["mean"]), tuple(inp["std"]))
    from evoforge.study import prepare
    from evoforge.tasks import TrainedTask

    task = prepare(goal).task
    if not isinstance(task, TrainedTask):
        raise EvoforgeError("the champion has weights but its task trains nothing; the store is inconsistent")
    return task.splits.input_spec()


def _weights_held_out(goal: Goal, design: Design, artifact: bytes | None) -> dict[str, float]:
    """What these weights measure on the held-out split, as ``test_<metric>``; empty when the task's data is not
    here (the export needs only the store) or the task has no held-out split."""
    try:
        held = make_task(goal.task).test(design, artifact)
    except (EvoforgeError, OSError, ValueError):
        return {}
    return {held_out_name(m): v for m, v in held.metrics.items()}


def _product_files(goal: Goal, design: Design, artifact: bytes | None) -> dict[str, bytes]:
    """The files of a task whose product is code (an optimizer, a training file); empty for the others. Such a task
    must be constructible here (e.g. its training file found): its artifact is not a network's weights."""
    if task_class(str(goal.task["name"])).export_files is Task.export_files:
        return {}
    return make_task(goal.task).export_files(design, artifact)


def export_champion(store: Store, study: StudyRecord, out: str | Path) -> list[Path]:
    """Write the champion as ``model.py`` + ``weights.safetensors`` (trained tasks) and ``card.json``.

    Everything comes from the store: the design, the weights and the input statistics recorded with them.
    """
    goal = goal_from_json(study.goal_json)
    require_intact(store, study)  # the card vouches for the champion: only from an intact record
    gens = store.generations(study.id)
    if not gens:
        raise EvoforgeError(f"study {study.name!r} has no champion yet: nothing to export")
    champ = gens[-1]
    trial = next(t for t in store.trials(study.id, states=("complete",)) if t.number == champ.trial_number)
    artifact = store.artifact(study.id, champ.trial_number)
    # The card describes these weights: what they measure on the held-out split, measured now when the task's data
    # is at hand, and the evidence that promoted the design (its mean over the evidence retrainings): a statement
    # about the design.
    weights_held_out = _weights_held_out(goal, champ.design, artifact)
    metric = goal.objective[0]
    case = next((c for c in store.promotions(study.id) if c.trial_number == champ.trial_number), None)
    card: dict[str, Any] = {
        "study": study.name,
        "generation": champ.number,
        "trial": champ.trial_number,
        "design": {"hash": champ.design.hash, "space": champ.design.space, "genes": champ.design.genes},
        "task": goal.task,
        "metrics": trial.metrics,
        "held_out": {
            "measured_on": "the task's held-out split",
            "these_weights": weights_held_out or None,
            "design_mean": {metric: champ.held_out},  # over the promotion's evidence retrainings
        },
        "promotion": champ.reason,
        "evidence": case.evidence.to_dict() if case and case.evidence else None,
        "lineage": lineage_view(store, study)["generations"],
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if trial.info.get("class_names"):  # the network's output i is the class named class_names[i]
        card["class_names"] = trial.info["class_names"]
    files = _product_files(goal, champ.design, artifact)
    if files:
        card["files"] = [*files, "card.json"]
    elif artifact is not None:
        title = (
            f"evoforge champion of study {study.name!r}: generation {champ.number}, trial #{trial.number}, "
            f"design {champ.design.hash}; held-out {metric} of these weights "
            f"{_fraction(weights_held_out.get(held_out_name(metric)))}."
        )
        files["model.py"] = model_source(champ.design.genes, _input_spec(trial.info, goal), title).encode()
        files["weights.safetensors"] = artifact
        card["files"] = ["model.py", "weights.safetensors", "card.json"]
    else:
        card["files"] = ["card.json"]
        card["note"] = "tabular task: the design is a table entry; there are no trained weights to export"
    files["card.json"] = (json.dumps(card, indent=2, default=str) + "\n").encode()
    _write_all(Path(out), files)
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    store.log_event(
        study.id, "exported", {"out": str(Path(out).resolve()), "generation": champ.number, "sha256": digests}
    )
    return [Path(out) / name for name in files]
