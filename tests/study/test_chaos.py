"""The chaos run of benchmarks/chaos.py, reduced: a study's workers and its coordinator are SIGKILLed at random
points (the coordinator frozen first, so it dies with finished results unread) and started again, and the store's
accounting stays exact on every backend: each trial recorded once, none lost, no work run to completion twice."""

from __future__ import annotations

from pathlib import Path

from benchmarks.chaos import chaos_run


def test_a_study_killed_at_random_keeps_exact_accounting(backend: str, tmp_path: Path) -> None:
    report = chaos_run(tmp_path, trials=24, workers=2, kills=4, sleep_s=0.2, seed=3, storage=backend)
    assert report.problems == []
    assert report.kills.get("coordinator", 0) >= 1 and report.kills.get("worker", 0) >= 1
    assert report.coordinator_starts == report.kills["coordinator"] + 1
    assert report.states.get("complete", 0) + report.states.get("failed", 0) == 24
