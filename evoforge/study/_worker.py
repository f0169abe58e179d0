"""What a worker process runs for one trial. It receives values (no store handle, no population) and returns
values; the coordinator records them."""

from __future__ import annotations

import json
import time
from contextlib import suppress
from functools import lru_cache
from typing import Any

from evoforge._errors import StorageError
from evoforge.design import Design
from evoforge.oversight import pack_samples
from evoforge.schedulers._rungs import RungReporter
from evoforge.storage import Store, held_out_name
from evoforge.study._runtime import runtime
from evoforge.tasks import EvalSettings, RunContext, Task, make_task


@lru_cache(maxsize=8)
def _task(config_json: str) -> Task:
    # Long-lived workers load each task's data once.
    return make_task(json.loads(config_json))


@lru_cache(maxsize=4)
def _store(url: str) -> Store:
    return Store(url, create=False)


def run_trial(payload: dict[str, Any]) -> dict[str, Any]:
    """Train and measure one trial. With ``payload["spool"]`` (the store's URL, the study, trial, attempt and the
    epoch the work starts from) the result is written to the store before it is returned, so it survives a
    coordinator that dies before recording it (``Store.spool_result``)."""
    started = time.time()
    task = _task(json.dumps(payload["task"], sort_keys=True))
    design = Design.from_json(payload["design"])
    settings = EvalSettings(**payload["settings"])
    args = (design, payload["seed"], settings, payload.get("until"), payload.get("checkpoint"))
    if task.reports:  # a live trial handle: its number, and a scheduler judging what it reports, where it runs
        result = task.evaluate(*args, context=RunContext(payload.get("number", -1), _reporter(payload)))  # type: ignore[call-arg]
    else:
        result = task.evaluate(*args)
    value = {
        "metrics": result.metrics,
        "artifact": result.artifact,
        "info": {**result.info, "runtime": {**runtime(result.info.get("device")), "settings": payload["settings"]}},
        "checkpoint": result.checkpoint,
        "pruned": result.pruned,
    }
    spool = payload.get("spool")
    if spool:
        kept = {"value": value, "started_at": started, "finished_at": time.time()}
        with suppress(StorageError):  # the store stayed out of reach: the result still goes back the usual way
            _store(spool["url"]).spool_result(spool["study"], spool["trial"], spool["attempt"], spool["piece"], kept)
    return value


def _reporter(payload: dict[str, Any]) -> RungReporter | None:
    judged = payload.get("report")
    if judged is None:
        return None
    return RungReporter(judged["url"], judged["study"], payload["number"], judged["schedule"], judged["direction"])


def replicate(payload: dict[str, Any]) -> dict[str, Any]:
    """Evidence: train a design in full on one evidence seed and measure it on the held-out split too. What it
    measured there is kept as ``test_<metric>`` beside the run's own metrics, with per-input values (for a paired
    comparison input by input) under ``info["samples"]``."""
    task = _task(json.dumps(payload["task"], sort_keys=True))
    design = Design.from_json(payload["design"])
    result, held = task.held_out(design, payload["seed"], EvalSettings(**payload["settings"]))
    info: dict[str, Any] = {"runtime": runtime(result.info.get("device"))}
    if held.samples:
        info["samples"] = {held_out_name(m): pack_samples(v) for m, v in held.samples.items()}
    if held.note:
        info["held_out_note"] = held.note
    tested = {held_out_name(m): float(v) for m, v in held.metrics.items()}
    return {"metrics": {**result.metrics, **tested}, "info": info}
