"""What a worker process runs for one trial. It receives values (no store handle, no population) and returns
values; the coordinator records them."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from evoforge.design import Design
from evoforge.oversight import pack_outcomes
from evoforge.study._runtime import runtime
from evoforge.tasks import EvalSettings, Task, make_task


@lru_cache(maxsize=8)
def _task(config_json: str) -> Task:
    # Long-lived workers load each task's data once.
    return make_task(json.loads(config_json))


def run_trial(payload: dict[str, Any]) -> dict[str, Any]:
    task = _task(json.dumps(payload["task"], sort_keys=True))
    design = Design.from_json(payload["design"])
    settings = EvalSettings(**payload["settings"])
    result = task.evaluate(design, payload["seed"], settings, payload.get("until"), payload.get("checkpoint"))
    return {
        "metrics": result.metrics,
        "artifact": result.artifact,
        "info": {**result.info, "runtime": {**runtime(result.info.get("device")), "settings": payload["settings"]}},
        "checkpoint": result.checkpoint,
    }


def replicate(payload: dict[str, Any]) -> dict[str, Any]:
    """Evidence: train a design in full on one evidence seed and measure it on the held-out test split too."""
    task = _task(json.dumps(payload["task"], sort_keys=True))
    design = Design.from_json(payload["design"])
    result = task.evaluate(design, payload["seed"], EvalSettings(**payload["settings"]))
    info: dict[str, Any] = {"runtime": runtime(result.info.get("device"))}
    outcomes = task.test_outcomes(design, result.artifact)
    if outcomes:  # per test input, for a paired comparison input by input
        test = sum(outcomes) / len(outcomes)
        info["test_outcomes"] = pack_outcomes(outcomes)
    else:
        test = task.test_accuracy(design, result.artifact)
    return {"metrics": {**result.metrics, "test_accuracy": test}, "info": info}
