"""evoforge's default search against a few settings changed by hand, on the HPOBench tables, on seeds that
``hpo_python_api.py`` does not use (100.. by default), with Optuna TPE on the same seeds for scale.

The harness is ``hpo_python_api.py``'s (same objective, same picks, same figures); a variant is evoforge with these
settings merged over the ``default`` profile through ``optimize(goal={"search": ...})``. Nothing in evoforge changes.

    nice -n 10 .venv/bin/python benchmarks/hpo_search_variants.py --seeds 10 --first-seed 100
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hpo_python_api import HPOBENCH, by_seed, header_lines, interval, mean_se, picked, run_all, tally  # noqa: E402

PREDICTOR_FIRST: dict[str, Any] = {"route_priors": {"predictor": 0.9, "evolution": 0.1}, "floor": 0.1}
VARIANTS: dict[str, dict[str, Any]] = {
    "default profile": {},
    "predictor route first": {"options": PREDICTOR_FIRST},
    "predictor route first, 200 candidates, 25 % fresh": {
        "options": {**PREDICTOR_FIRST, "candidates": 200, "random_share": 0.25, "two_step_share": 0.25}
    },
}


def method(search: dict[str, Any]) -> str:
    return "evoforge " + json.dumps(search) if search else "evoforge"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--budgets", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--datasets", nargs="+", default=list(HPOBENCH))
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    budgets, seeds = tuple(sorted(args.budgets)), range(args.first_seed, args.first_seed + args.seeds)
    problems = [f"hpobench/{d}" for d in args.datasets]
    print("## evoforge search settings on the HPOBench tables (held-out seeds)\n")
    header_lines(args.jobs)
    for label, search in VARIANTS.items():
        print(f"- {label}: `{json.dumps(search) if search else 'the default profile as shipped'}`")
    started = time.perf_counter()
    methods = ["Optuna TPE", *(method(s) for s in VARIANTS.values())]
    runs = run_all([(p, m, s, budgets) for p in problems for m in methods for s in seeds], args.jobs)
    index = {(r.problem, r.method, r.seed): r for r in runs}
    print(f"\nTrue regret (accuracy points) of the pick, mean over {len(problems)} datasets, mean ± s.e. over seeds")
    print(f"{seeds[0]}..{seeds[-1]}:\n")
    print("| method | " + " | ".join(f"@ {b}" for b in budgets) + " |")
    print("|---|" + "---|" * len(budgets))
    for label, m in [("Optuna TPE (defaults)", "Optuna TPE"), *((k, method(v)) for k, v in VARIANTS.items())]:
        cells = [mean_se(by_seed(index, problems, m, seeds, picked, b)) for b in budgets]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print("\nPaired by seed, averaged over the datasets: mean [95 % t interval] (better/worse/tie seeds):\n")
    print("| variant | vs | " + " | ".join(f"Δ @ {b}" for b in budgets) + " |")
    print("|---|---|" + "---|" * len(budgets))
    for label, search in VARIANTS.items():
        peers = (
            (("default profile", "evoforge"), ("Optuna TPE", "Optuna TPE"))
            if search
            else (("Optuna TPE", "Optuna TPE"),)
        )
        for peer_label, peer in peers:
            cells = []
            for b in budgets:
                mine = by_seed(index, problems, method(search), seeds, picked, b)
                theirs = by_seed(index, problems, peer, seeds, picked, b)
                diffs = [x - y for x, y in zip(mine, theirs, strict=True)]
                cells.append(f"{interval(diffs)} ({tally(diffs)})")
            print(f"| {label} | {peer_label} | " + " | ".join(cells) + " |")
    labels = {"Optuna TPE": "Optuna TPE", **{method(v): k for k, v in VARIANTS.items()}}
    walls = {m: sum(r.wall_s for r in runs if r.method == m) / len(problems) / len(seeds) for m in methods}
    print("\nwall s per run: " + ", ".join(f"{labels[m]} {w:.1f}" for m, w in walls.items()))
    print(f"\nwall time {time.perf_counter() - started:.0f} s for {len(runs)} runs")


if __name__ == "__main__":
    main()
