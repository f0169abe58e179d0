"""Benchmark: do promotions on evidence end with a truly better champion than a single validation run, and at what cost?

Protocol: for each search seed, run the demo's digits study (``evoforge.cli._demo.demo_goal``, default profile,
promotion on evidence) with ``--trials`` trials on ``--workers`` worker processes, into a fresh SQLite file. From
each study take two champions of the same trial history:

- the evidence champion: the last generation, promoted only when its paired bootstrap interval of the test-accuracy
  gain over the champion (3 evidence seeds x 360 test images) lay above zero;
- the single-run champion: the complete, feasible trial with the highest ``val_accuracy`` (ties: the lowest trial
  number), which is what Optuna's ``best_trial`` or autoresearch's keep / discard would end with.

"Truth": each of the two designs is retrained on ``--truth-seeds`` fresh seeds (10,000 + i, disjoint from trial and
evidence seeds) and measured on the held-out test split. The script prints per study and pooled: the true mean test
accuracy of each rule's champion (± standard error over the truth seeds), the paired difference (evidence −
single-run), the promotion cases by state, how many declined challengers had a single run above the final champion's,
and the cost of the evidence (trainings and device seconds) against the trials'.

    python benchmarks/oversight_evidence.py --trials 60 --seeds 3 --truth-seeds 8 --workers 2
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from evoforge.cli._demo import demo_goal
from evoforge.design import Design
from evoforge.executors import Job, LocalPool
from evoforge.goal import goal_from_dict
from evoforge.storage import Store, TrialRecord
from evoforge.study import run_study
from evoforge.tasks import EvalSettings, Task, make_task

TEST_IMAGES = 360  # digits' held-out test split: one image is 0.28 percentage points
TRUTH_SEED_BASE = 10_000
# Run as a script, this module is importable by its file name (the spawned workers get the same sys.path).
RETRAIN_FN = f"{__spec__.name if __spec__ else Path(__file__).stem}:retrain"


@lru_cache(maxsize=1)
def _digits() -> Task:
    return make_task({"name": "digits"})  # loaded once per worker process


def retrain(payload: dict[str, Any]) -> float:
    """Worker job: train ``payload["design"]`` with ``payload["seed"]`` and return its test accuracy."""
    task, design = _digits(), Design.from_json(payload["design"])
    result = task.evaluate(design, payload["seed"], EvalSettings(threads=1))
    return task.test_accuracy(design, result.artifact)


@dataclass(frozen=True)
class Study:
    """What one study left behind, read from its store."""

    seed: int
    wall_s: float
    evidence: TrialRecord  # the trial of the last generation
    single: TrialRecord  # the best single validation run
    cases: dict[str, int]  # promotion cases by state
    declined_above: int  # declined challengers whose single run beat the final champion's
    evidence_test: float | None  # the final champion's test accuracy as the study measured it (evidence seeds)
    trials: int
    trial_s: float
    evidence_runs: int  # retrainings of challengers and champions
    evidence_s: float
    variant_runs: int  # retrainings of attribution variants
    variant_s: float


def run_one(trials: int, workers: int, seed: int, folder: Path) -> Study:
    data = demo_goal(trials=trials, study=f"ev-{seed}")
    data["search"]["seed"] = seed
    url = f"sqlite:///{folder / f'ev-{seed}.db'}"
    t0 = time.time()
    run_study(goal_from_dict(data), url, workers=workers, quiet=True)
    wall = time.time() - t0
    store = Store(url)
    study = store.get_study(data["study"])
    assert study is not None
    try:
        return _read(store, study.id, seed, wall)
    finally:
        store.engine.dispose()


def _read(store: Store, study_id: int, seed: int, wall: float) -> Study:
    trials = store.trials(study_id)
    by_number = {t.number: t for t in trials}
    gens = store.generations(study_id)
    final = gens[-1]
    feasible = [
        t
        for t in trials
        if t.state == "complete" and "val_accuracy" in t.metrics and not t.info.get("constraint_violations")
    ]
    single = min(feasible, key=lambda t: (-t.metrics["val_accuracy"], t.number))
    cases = store.promotions(study_id)
    final_val = by_number[final.trial_number].metrics["val_accuracy"]
    declined_above = sum(
        c.state == "declined" and by_number[c.trial_number].metrics.get("val_accuracy", 0.0) > final_val for c in cases
    )
    # Challengers and the champions they faced are the evidence; any other retrained design is an attribution variant.
    judged = {by_number[c.trial_number].design.hash for c in cases} | {g.design.hash for g in gens}
    replicates = store.replicates(study_id)
    evidence = [r for r in replicates if r.design_hash in judged]
    variants = [r for r in replicates if r.design_hash not in judged]
    durations = [t.finished_at - t.started_at for t in trials if t.started_at is not None and t.finished_at is not None]
    return Study(
        seed,
        wall,
        by_number[final.trial_number],
        single,
        {s: sum(c.state == s for c in cases) for s in sorted({c.state for c in cases})},
        declined_above,
        final.test_accuracy,
        len(durations),
        sum(durations),
        len(evidence),
        sum(float(r.info.get("busy_s") or 0.0) for r in evidence),
        len(variants),
        sum(float(r.info.get("busy_s") or 0.0) for r in variants),
    )


def truth(designs: list[Design], seeds: list[int], workers: int) -> dict[tuple[str, int], float]:
    """Test accuracy of every (design, seed) retraining, run on a pool of worker processes."""
    jobs = [(d, s) for d in {d.hash: d for d in designs}.values() for s in seeds]
    out: dict[tuple[str, int], float] = {}
    with LocalPool(workers) as pool:
        queue = list(enumerate(jobs))
        while queue or pool.running:
            while queue and pool.running < pool.capacity:
                key, (design, seed) = queue.pop(0)
                pool.submit(Job(key, RETRAIN_FN, {"design": design.to_json(), "seed": seed}))
            for outcome in pool.wait():
                design, seed = jobs[outcome.key]
                if not outcome.ok:
                    raise RuntimeError(f"retraining {design.hash[:8]} seed {seed} failed: {outcome.error}")
                out[(design.hash, seed)] = float(outcome.value)
    return out


def mean_se(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0


def pooled(parts: list[tuple[float, float]]) -> tuple[float, float]:
    """Mean of per-study means and its standard error (the studies' errors are independent)."""
    return statistics.mean(m for m, _ in parts), math.sqrt(sum(se**2 for _, se in parts)) / len(parts)


def pct(m: float, se: float, sign: bool = False) -> str:
    return f"{m * 100:{'+' if sign else ''}.2f} ± {se * 100:.2f}"


def report(studies: list[Study], acc: dict[tuple[str, int], float], seeds: list[int]) -> None:
    print("\n### Champions and their true test accuracy (mean ± s.e. over the truth seeds, %)\n")
    print(
        "| search seed | evidence champion (trial, val) | single-run champion (trial, val) | same design "
        "| evidence: true test | single run: true test | evidence − single run (points) | in test images |"
    )
    print("|---:|---:|---:|:---:|---:|---:|---:|---:|")
    ev_parts, sr_parts, diff_parts = [], [], []
    for s in studies:
        ev = [acc[(s.evidence.design.hash, k)] for k in seeds]
        sr = [acc[(s.single.design.hash, k)] for k in seeds]
        ev_parts.append(mean_se(ev))
        sr_parts.append(mean_se(sr))
        diff_parts.append(mean_se([a - b for a, b in zip(ev, sr, strict=True)]))
        same = "yes" if s.evidence.design.hash == s.single.design.hash else "no"
        print(
            f"| {s.seed} | #{s.evidence.number}, {s.evidence.metrics['val_accuracy']:.4f} "
            f"| #{s.single.number}, {s.single.metrics['val_accuracy']:.4f} | {same} | {pct(*ev_parts[-1])} "
            f"| {pct(*sr_parts[-1])} | {pct(*diff_parts[-1], sign=True)} | {diff_parts[-1][0] * TEST_IMAGES:+.1f} |"
        )
    d = pooled(diff_parts)
    print(
        f"| pooled | | | {sum(s.evidence.design.hash == s.single.design.hash for s in studies)} of {len(studies)} "
        f"| {pct(*pooled(ev_parts))} | {pct(*pooled(sr_parts))} | {pct(*d, sign=True)} | {d[0] * TEST_IMAGES:+.1f} |"
    )

    print("\n### Promotion cases and cost\n")
    print(
        "| search seed | wall s | promoted | declined | other | declined with val above the final champion's "
        "| final champion's test (evidence seeds) | trials (device s) | evidence retrainings (device s) "
        "| attribution retrainings (device s) | retrainings' share of device time |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in studies:
        other = sum(v for k, v in s.cases.items() if k not in ("promoted", "declined"))
        share = (s.evidence_s + s.variant_s) / (s.trial_s + s.evidence_s + s.variant_s)
        test = f"{s.evidence_test:.4f}" if s.evidence_test is not None else "-"
        print(
            f"| {s.seed} | {s.wall_s:.0f} | {s.cases.get('promoted', 0)} | {s.cases.get('declined', 0)} | {other} "
            f"| {s.declined_above} | {test} | {s.trials} ({s.trial_s:.0f}) | {s.evidence_runs} ({s.evidence_s:.0f}) "
            f"| {s.variant_runs} ({s.variant_s:.0f}) | {share:.0%} |"
        )
    t_s, e_s, v_s = (sum(getattr(s, k) for s in studies) for k in ("trial_s", "evidence_s", "variant_s"))
    print(
        f"| all | {sum(s.wall_s for s in studies):.0f} | {sum(s.cases.get('promoted', 0) for s in studies)} "
        f"| {sum(s.cases.get('declined', 0) for s in studies)} "
        f"| {sum(v for s in studies for k, v in s.cases.items() if k not in ('promoted', 'declined'))} "
        f"| {sum(s.declined_above for s in studies)} | | {sum(s.trials for s in studies)} ({t_s:.0f}) "
        f"| {sum(s.evidence_runs for s in studies)} ({e_s:.0f}) | {sum(s.variant_runs for s in studies)} ({v_s:.0f}) "
        f"| {(e_s + v_s) / (t_s + e_s + v_s):.0%} |"
    )


def machine() -> str:
    model = next(
        (line.split(":", 1)[1].strip() for line in _run(["lscpu"]).splitlines() if line.startswith("Model name")), "?"
    )
    import torch

    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, torch {torch.__version__}"


def code_version() -> str:
    commit = _run(["git", "rev-parse", "--short", "HEAD"]).strip() or "?"
    dirty = _run(["git", "status", "--porcelain", "--", "evoforge"]).strip()
    return f"{commit} + uncommitted changes to evoforge/" if dirty else commit


def _run(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
    except OSError:
        return ""


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--trials", type=int, default=60, help="trial budget per study (default 60)")
    p.add_argument("--seeds", type=int, default=3, help="search seeds 0 .. N-1 (default 3)")
    p.add_argument("--truth-seeds", type=int, default=8, help="fresh retrainings per champion (default 8)")
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--keep", type=Path, default=None, help="write the SQLite files here instead of a temp folder")
    args = p.parse_args()

    start, commit = time.time(), code_version()  # read first: the code the studies import
    seeds = [TRUTH_SEED_BASE + i for i in range(args.truth_seeds)]
    with tempfile.TemporaryDirectory(prefix="evoforge-evidence-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        studies = []
        for seed in range(args.seeds):
            studies.append(run_one(args.trials, args.workers, seed, folder))
            s = studies[-1]
            print(f"study seed {seed}: {s.wall_s:.0f} s, cases {json.dumps(s.cases)}", flush=True)
    t0 = time.time()
    acc = truth([d for s in studies for d in (s.evidence.design, s.single.design)], seeds, args.workers)
    print(f"truth retrainings: {len(acc)} in {time.time() - t0:.0f} s", flush=True)
    report(studies, acc, seeds)
    print(
        f"\ncommand: python benchmarks/oversight_evidence.py --trials {args.trials} --seeds {args.seeds} "
        f"--truth-seeds {args.truth_seeds} --workers {args.workers}"
    )
    print(f"machine: {machine()}; commit {commit}; total wall time {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
