"""Optimizer discovery: search update rules from SGD/Adam seeds, then compare the discovered rule with tuned Adam,
AdamW, SGD with momentum and Lion on held-out problems at equal steps.

    python benchmarks/optimizer_discovery.py --trials 200 --workers 2 --seeds 8

1. A study (task ``optimizer_discovery``) searches programs on the training problems (digits MLP, MNIST-subset MLP,
   a regression) for ``--trials`` trials; its champion is the discovered rule (promoted on held-out evidence).
2. Every rule's learning rate is tuned the same way: a log grid (four points per decade), scored on the
   training problems with two tuning seeds; the best grid point is kept (the discovered rule's own learning rate
   is one more grid point).
3. Each tuned rule is trained on the held-out problems (a CNN on digits, a deeper tanh MLP on another MNIST part,
   Friedman #1) with ``--seeds`` fresh seeds; the table gives the mean score, and the paired difference to Adam
   with a 95 % t interval over seeds. A last row gives Adam with its lr, betas and eps searched by Optuna TPE for
   as many trials as the program search had: a hyperparameter search with the same budget.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from evoforge import Store
from evoforge.goal import goal_from_dict
from evoforge.programs import Program, compile_program, render, seed_program, simplify
from evoforge.study import run_study
from evoforge.tasks._program_runner import load_candidate
from evoforge.tasks._program_suite import HELD_OUT, PROBLEMS, TRAINING, Recipe, train

GRID = [round(10 ** (k / 4), 6) for k in range(-16, 1)]  # 1e-4 .. 1, four points per decade
TUNING_SEEDS = (1000, 1001)
Maker = Callable[[float], Recipe]


def _search(db: str, trials: int, workers: int, steps: int, seed: int) -> tuple[Program, dict[str, Any]]:
    goal = {
        "study": f"optimizer-discovery-{seed}",
        "task": {"name": "optimizer_discovery", "steps": steps},
        "space": {"kind": "optimizer", "seeds": ["sgd", "adam"]},
        "objectives": {"val_score": "max"},
        "budget": {"trials": trials},
        "search": {"proposer": "evolution", "population": 20, "seed": seed, "options": {"crossover": 0.2}},
    }
    started = time.monotonic()
    report = run_study(goal_from_dict(goal), db, workers=workers)
    store = Store(db)
    study = store.get_study(str(goal["study"]))
    assert study is not None
    gens = store.generations(study.id)
    complete = store.trials(study.id, states=("complete",))
    best = max(complete, key=lambda t: t.metrics["val_score"])
    facts = {
        "wall_s": time.monotonic() - started,
        "trials": report.trials,
        "generations": len(gens),
        "champion_trial": gens[-1].trial_number,
        "champion_val": next(t.metrics["val_score"] for t in complete if t.number == gens[-1].trial_number),
        "champion_held_out": gens[-1].test_accuracy,
        "best_trial": best.number,
        "best_val": best.metrics["val_score"],
        "failed": sum(1 for t in store.trials(study.id) if t.state == "failed"),
        "cases": [(c.trial_number, c.state) for c in store.promotions(study.id)],
    }
    return Program.from_genes(gens[-1].design.genes), facts


def _program_maker(program: Program, folder: Path) -> Maker:
    """Recipes of ``program`` at a given learning rate, compiled to a file and imported once per rate."""
    modules: dict[float, ModuleType] = {}

    def make(lr: float) -> Recipe:
        if lr not in modules:
            path = folder / f"rule_{len(list(folder.glob('rule_*.py')))}.py"
            path.write_text(compile_program(program.with_(hyper={**program.hyper_dict, "lr": lr})))
            modules[lr] = load_candidate(path)
        module = modules[lr]
        return Recipe(lambda params: module.EvolvedOptimizer(params))

    return make


def _baselines(folder: Path) -> dict[str, Maker]:
    return {
        "Adam": lambda lr: Recipe(lambda ps: torch.optim.Adam(ps, lr=lr)),
        "AdamW (wd 0.01)": lambda lr: Recipe(lambda ps: torch.optim.AdamW(ps, lr=lr, weight_decay=0.01)),
        "SGD + momentum 0.9": lambda lr: Recipe(lambda ps: torch.optim.SGD(ps, lr=lr, momentum=0.9)),
        "Lion (program)": _program_maker(seed_program("lion"), folder),
    }


def _scores(make: Maker, lr: float, problems: tuple[str, ...], seeds: tuple[int, ...], steps: int) -> list[float]:
    out = []
    for p in problems:
        data = PROBLEMS[p].data("data/mnist")
        out += [train(PROBLEMS[p], data, make(lr), steps, s) for s in seeds]
    return out


def _tune(make: Maker, grid: list[float], steps: int) -> tuple[float, float]:
    scored = [(statistics.fmean(_scores(make, lr, TRAINING, TUNING_SEEDS, steps)), lr) for lr in grid]
    best = max(scored)
    return best[1], best[0]


def _optuna_adam(trials: int, steps: int) -> tuple[Maker, float, float, dict[str, float]]:
    """Adam with lr, betas and eps searched by Optuna TPE for as many trials as the program search had, on the
    same training problems and tuning seeds: a hyperparameter search with the program search's budget."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def make_with(params: dict[str, float]) -> Maker:
        betas = (params["b1"], params["b2"])
        return lambda lr: Recipe(lambda ps: torch.optim.Adam(ps, lr=lr, betas=betas, eps=params["eps"]))

    def objective(trial: optuna.Trial) -> float:
        params = {
            "b1": trial.suggest_float("b1", 0.5, 0.99),
            "b2": trial.suggest_float("b2", 0.9, 0.9999),
            "eps": trial.suggest_float("eps", 1e-10, 1e-4, log=True),
        }
        lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
        return statistics.fmean(_scores(make_with(params), lr, TRAINING, TUNING_SEEDS, steps))

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=trials)
    best = dict(study.best_params)
    lr = best.pop("lr")
    return make_with(best), lr, study.best_value, best


def _held_out(make: Maker, lr: float, seeds: int, steps: int) -> dict[str, list[float]]:
    out = {p: _scores(make, lr, (p,), tuple(range(seeds)), steps) for p in HELD_OUT}
    out["mean"] = [statistics.fmean(out[p][s] for p in HELD_OUT) for s in range(seeds)]
    return out


def _ci(diffs: list[float]) -> tuple[float, float]:
    from scipy import stats

    half = stats.t.ppf(0.975, len(diffs) - 1) * statistics.stdev(diffs) / len(diffs) ** 0.5
    return statistics.fmean(diffs), float(half)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=8, help="held-out seeds per rule (>= 5)")
    parser.add_argument("--search-seed", type=int, default=0)
    parser.add_argument("--db", default=None, help="store for the search (default: a temporary file)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    folder = Path(tempfile.mkdtemp(prefix="evoforge-discovery-"))
    db = args.db or f"sqlite:///{folder / 'search.db'}"
    found, facts = _search(db, args.trials, args.workers, args.steps, args.search_seed)
    rules = {**_baselines(folder), "discovered": _program_maker(found, folder)}
    results = {}
    for name, make in rules.items():
        grid = sorted({*GRID, found.hyper_dict["lr"]}) if name == "discovered" else GRID
        lr, tuned = _tune(make, grid, args.steps)
        results[name] = (lr, tuned, _held_out(make, lr, args.seeds, args.steps))
    make, lr, tuned, best = _optuna_adam(args.trials, args.steps)
    facts["optuna_adam"] = best
    results[f"Adam, Optuna TPE ({args.trials} trials)"] = (lr, tuned, _held_out(make, lr, args.seeds, args.steps))
    _report(args, facts, found, results)


def _report(args: argparse.Namespace, facts: dict[str, Any], found: Program, results: dict[str, Any]) -> None:
    print(f"machine: {platform.machine()} {platform.system()}, {torch.get_num_threads()} torch thread(s) per run")
    print(
        f"search: {facts['trials']} trials in {facts['wall_s']:.0f} s with {args.workers} workers, "
        f"{facts['generations']} generations, {facts['failed']} failed; champion trial #{facts['champion_trial']} "
        f"(val_score {facts['champion_val']:.4f}, held-out evidence mean {facts['champion_held_out']}); "
        f"best single run #{facts['best_trial']} ({facts['best_val']:.4f}); cases {facts['cases']}"
    )
    print(f"Optuna's Adam: {facts['optuna_adam']}")
    adam = results["Adam"][2]
    header = "| rule | tuned lr | train score | " + " | ".join(HELD_OUT) + " | held-out mean | vs Adam (95 % CI) |"
    print("\n" + header + "\n|" + "---|" * (header.count("|") - 1))
    for name, (lr, tuned, held) in results.items():
        cells = " | ".join(f"{statistics.fmean(held[p]):.4f} ± {statistics.stdev(held[p]):.4f}" for p in HELD_OUT)
        diff, half = _ci([a - b for a, b in zip(held["mean"], adam["mean"], strict=True)])
        versus = "—" if name == "Adam" else f"{diff:+.4f} ± {half:.4f}"
        print(f"| {name} | {lr:g} | {tuned:.4f} | {cells} | {statistics.fmean(held['mean']):.4f} | {versus} |")
    print(f"\n{args.seeds} held-out seeds, {args.steps} steps per problem, batch 64.\n\nThe discovered rule:\n")
    print("\n".join("    " + line for line in render(simplify(found))))
    print("\n```python\n" + compile_program(simplify(found)) + "```")


if __name__ == "__main__":
    main()
