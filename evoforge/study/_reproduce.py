"""Re-running a recorded trial: same design, seed, settings and fidelity, and a verdict on whether the result
matches. What was measured by a clock or a meter (latency, time, energy, memory) is shown but not judged."""

from __future__ import annotations

from typing import Any

from evoforge._errors import StorageError
from evoforge.goal import goal_from_json
from evoforge.oversight import require_intact
from evoforge.storage import Store, StudyRecord
from evoforge.study._runtime import runtime
from evoforge.tasks import EvalSettings, make_task

MEASURED = frozenset({"latency_ms", "train_time_s", "energy_j", "time_to_accuracy_s", "peak_memory_mb"})


def reproduce(store: Store, study: StudyRecord, number: int, tolerance: float = 1e-6) -> dict[str, Any]:
    """Re-run trial ``number`` in this process and compare every computed metric to the recorded one within
    ``tolerance`` (absolute). The verdict also names what differs in the environment (code, versions, device)."""
    trial = next((t for t in store.trials(study.id) if t.number == number), None)
    require_intact(store, study)  # its result is judged against the record: the record must be intact
    if trial is None:
        raise StorageError(f"trial {number} does not exist in study {study.name!r}")
    if trial.state not in ("complete", "pruned"):
        raise StorageError(f"trial {number} is {trial.state}: only a trial with a result can be reproduced")
    goal = goal_from_json(study.goal_json)
    then = trial.info.get("runtime", {})
    settings = EvalSettings(**then["settings"]) if "settings" in then else EvalSettings(device=goal.evaluation.device)
    until = int(trial.info["epoch"]) if trial.state == "pruned" and "epoch" in trial.info else None
    result = make_task(goal.task).evaluate(trial.design, trial.seed, settings, until)
    rows = [_compare(m, trial.metrics[m], result.metrics.get(m), tolerance) for m in sorted(trial.metrics)]
    now = runtime(result.info.get("device"))
    report = {
        "trial": number,
        "seed": trial.seed,
        "tolerance": tolerance,
        "matches": all(r["ok"] for r in rows if r["judged"]),
        "metrics": rows,
        "environment": _environment(then, now),
    }
    store.log_event(study.id, "reproduced", {"matches": report["matches"], "metrics": rows}, number)
    return report


def _compare(metric: str, recorded: float, now: float | None, tolerance: float) -> dict[str, Any]:
    judged = metric not in MEASURED
    diff = None if now is None else now - recorded
    ok = diff is not None and abs(diff) <= tolerance
    return {"metric": metric, "recorded": recorded, "now": now, "diff": diff, "judged": judged, "ok": ok or not judged}


def _environment(then: dict[str, Any], now: dict[str, Any]) -> list[dict[str, Any]]:
    """Code hash, device and package versions as recorded and as now; ``same`` False where they differ."""
    rows = [
        {"what": key, "then": then.get(key), "now": now.get(key), "same": then.get(key) == now.get(key)}
        for key in ("code_hash", "device", "machine")
    ]
    versions = sorted(set(then.get("versions", {})) | set(now.get("versions", {})))
    for name in versions:
        old, new = then.get("versions", {}).get(name), now.get("versions", {}).get(name)
        rows.append({"what": name, "then": old, "now": new, "same": old == new})
    return rows
