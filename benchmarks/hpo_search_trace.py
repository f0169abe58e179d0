"""What evoforge's default search does on the HPOBench tables, trial by trial, next to Optuna TPE: how good the
proposed configurations are as the search goes on, which route made them, and how often the evidence gate promoted.

For each dataset and seed, one evoforge run (``workers=0``, a fresh SQLite file) and one TPE run through the harness
of ``hpo_python_api.py``. Prints the mean true regret (accuracy points, the table's five-seed mean) of the
configurations proposed in each block of trials, the share of evoforge's proposals by route (read from each trial's
rationale), the number of generations and the trial of the last promotion, and how many distinct table seeds the
gate's three evidence seeds read.

    nice -n 10 .venv/bin/python benchmarks/hpo_search_trace.py --seeds 3 --trials 200
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import hpo_python_api as api  # noqa: E402


def route(rationale: str, operator: str | None) -> str:
    if operator == "simplify":
        return "simplify (attribution's simpler design)"
    if "evolution route" in rationale:
        return "evolution route (unscreened mutation)"
    if "UCB" in rationale or "EI" in rationale or "TS" in rationale:
        return "predictor route (best acquisition of the candidates)"
    return "random or starting design"


def evoforge_trace(name: str, seed: int, trials: int) -> tuple[list[float], Counter[str], int, int, int]:
    import evoforge

    api.CURRENT.problem = name
    p = api.problem(name)
    assert isinstance(p, api.TableProblem)
    with tempfile.TemporaryDirectory(prefix="hpo-trace-") as tmp:
        url = f"sqlite:///{tmp}/study.db"
        evoforge.optimize(
            api.objective, study="t", storage=url, objectives={"val_acc": "max"}, trials=trials, seed=seed, workers=0
        )
        store = evoforge.Store(url)
        study = store.get_study("t")
        assert study is not None
        done = sorted((t for t in store.trials(study.id) if t.state == "complete"), key=lambda t: t.number)
        generations, replicates = store.generations(study.id), store.replicates(study.id)
        store.engine.dispose()
    regrets = [p.truth(t.info["params"]) for t in done]
    routes = Counter(route(t.rationale, t.operator) for t in done)
    table_seeds = {int(np.random.default_rng(r.seed).integers(5)) for r in replicates}  # as the package reads
    return regrets, routes, len(generations), generations[-1].trial_number, len(table_seeds)


def tpe_trace(name: str, seed: int, trials: int) -> list[float]:
    import optuna

    api.CURRENT.problem = name
    p = api.problem(name)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(lambda t: api.objective(api.OptunaTrial(t, seed))["val_acc"], n_trials=trials)
    return [p.truth(t.params) for t in study.trials]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--block", type=int, default=25)
    parser.add_argument("--datasets", nargs="+", default=list(api.HPOBENCH))
    args = parser.parse_args()
    api._one_thread()
    print("## evoforge's default search on the HPOBench tables, trial by trial, next to Optuna TPE\n")
    api.header_lines(jobs=1)
    evo_curves, tpe_curves, routes = [], [], Counter[str]()
    gens, last, distinct = [], [], []
    for d in args.datasets:
        for seed in range(args.seeds):
            regrets, r, g, t, k = evoforge_trace(f"hpobench/{d}", seed, args.trials)
            evo_curves.append(regrets)
            routes.update(r)
            gens.append(g)
            last.append(t)
            distinct.append(k)
            tpe_curves.append(tpe_trace(f"hpobench/{d}", seed, args.trials))
    blocks = range(0, args.trials, args.block)
    print(f"Mean true regret of the configurations proposed in each block of {args.block} trials")
    print(f"({len(args.datasets)} datasets x {args.seeds} seeds):\n")
    print("| method | " + " | ".join(f"{b + 1}-{b + args.block}" for b in blocks) + " |")
    print("|---|" + "---:|" * len(blocks))
    for label, curves in (("Optuna TPE (defaults)", tpe_curves), ("evoforge default profile", evo_curves)):
        cells = [statistics.fmean(v for c in curves for v in c[b : b + args.block]) for b in blocks]
        print(f"| {label} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")
    spreads = ", ".join(f"{d} {api.problem(f'hpobench/{d}').top_spread:.2f}" for d in args.datasets)  # type: ignore[union-attr]
    print(f"\nStd of the table's five readings of a configuration (points), mean over its top 1 %: {spreads}")
    total = sum(routes.values())
    print("\nevoforge's proposals by route: " + ", ".join(f"{k} {v / total:.0%}" for k, v in routes.most_common()))
    print(
        f"\nGenerations per run (the first design included): mean {statistics.fmean(gens):.1f}; trial of the last "
        f"promotion: median {statistics.median(last):.0f} of {args.trials}; distinct table seeds read by the gate's "
        f"evidence retrainings: {dict(sorted(Counter(distinct).items()))} (runs)"
    )


if __name__ == "__main__":
    main()
