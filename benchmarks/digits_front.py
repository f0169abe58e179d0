"""Benchmark: accuracy vs CPU latency on digits — the Pareto front of a two-objective study vs hand-made baselines.

Protocol: one evoforge study on the bundled 8x8 digits with objectives ``{val_accuracy: max, latency_ms: min}``,
a macro space that also searches efficiency genes (precision fp32/bf16, channels-last, dynamic int8 quantization,
structured pruning of 0 / 25 / 50 % of channels with a short fine-tune;
``--compile`` adds torch.compile, about 18 s per compiled trial on 2 cores), evaluation on CPU with one thread per
worker, latency = median of ``latency_repeats`` (10) timed forward passes over a batch of 32 after 3 warm-ups,
regularized evolution from random designs (search seed ``--seed``), ``--trials`` trials on ``--workers`` worker
processes, a fresh SQLite store in a temporary folder. Printed: the final Pareto front, the hypervolume after a few
trial counts (its latency reference is pinned at twice the first finished trial's latency, see
``evoforge.study._front``).

Then two hand-designed baselines are measured with the same evaluator and settings (``task.evaluate``, one thread,
latency batch 32, 10 repeats), over ``--baseline-seeds`` (3) training seeds, mean reported: a LeNet-style CNN
(conv 8 k5, max-pool, conv 16 k5, max-pool, flatten, dense 128, 64) and a two-layer MLP (flatten, dense 128), both
trained with AdamW lr 0.002, cosine schedule, 20 epochs, batch 64. For each baseline: is it dominated by a front
member (val accuracy >= and latency <=, one strictly), and by which. Each dominating member is retrained with its
trial seed (training is deterministic: its validation accuracy must come out the same) to measure its test
accuracy, next to the baselines' test accuracy.

Measurement noise: the two baselines and up to ``--noise-members`` front members are deployed in this process
(nothing else running) and evoforge's ``latency_ms`` (batch 32, warm-up 3, 10 repeats, one thread) is called 10
times on each; reported are the mean of those medians, their std, std/mean and (max - min)/mean. The dominance check
is repeated on these isolated re-measurements, since the study's latencies were taken with two workers sharing the
machine.

    python benchmarks/digits_front.py --trials 150 --workers 2 --seed 0
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from evoforge.design import Design
from evoforge.design._design import describe
from evoforge.evaluation import latency_ms
from evoforge.evaluation._evaluate import deployed_model, precision_context
from evoforge.goal import goal_from_dict
from evoforge.spaces import build_network, deploy_of, deployed_genes, inference_precision
from evoforge.storage import Store
from evoforge.study import run_study
from evoforge.study._views import front_view
from evoforge.tasks import EvalSettings, TrainedTask, make_task

SETTINGS = EvalSettings(device="cpu", threads=1, latency_batch=32, latency_warmup=3, latency_repeats=10)
RECIPE = {
    "optimizer": "adamw", "lr": 0.002, "momentum": 0.9, "weight_decay": 1e-4, "schedule": "cosine",
    "batch_size": 64, "epochs": 20, "label_smoothing": 0.0, "augment": "none",
}  # fmt: skip
BASELINES: dict[str, dict[str, Any]] = {
    "LeNet-style CNN": {
        "arch": {
            "blocks": [
                {"type": "conv", "width": 8, "kernel": 5},
                {"type": "pool", "op": "max"},
                {"type": "conv", "width": 16, "kernel": 5},
                {"type": "pool", "op": "max"},
            ],
            "norm": "none", "activation": "relu", "dropout": 0.0, "pooling": "flatten", "hidden": [128, 64],
        },
        "recipe": RECIPE,
    },
    "MLP 64-128-10": {
        "arch": {
            "blocks": [], "norm": "none", "activation": "relu", "dropout": 0.0, "pooling": "flatten",
            "hidden": [128],
        },
        "recipe": RECIPE,
    },
}  # fmt: skip


@dataclass
class Point:
    """One design as compared: val accuracy and latency (ms), plus what else is known."""

    name: str
    genes: dict[str, Any]
    val: float
    latency: float
    params: float
    test: float | None = None
    seed: int | None = None
    artifact: bytes | None = None


def machine() -> str:
    return f"{platform.platform()}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"


def header(doc: str) -> None:
    print(f"# {doc.splitlines()[0]}\n")
    print(f"command: `{shlex.join([Path(sys.executable).name, *sys.argv])}`  ")
    print(f"machine: {machine()}, torch {torch.__version__}  ")
    print(f"date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")


def short(genes: dict[str, Any]) -> str:
    a, r = genes["arch"], genes["recipe"]
    blocks = describe(a["blocks"]) if a["blocks"] else "no blocks"
    return (
        f"{blocks}, norm={a['norm']}, act={a['activation']}, pool={a['pooling']}, hidden={a['hidden']}, "
        f"{r['optimizer']} lr={r['lr']:g} {r['schedule']}, bs={r['batch_size']}, {r['epochs']} ep"
    )


def deploy_text(genes: dict[str, Any]) -> str:
    d = deploy_of(genes)
    parts = [d["precision"], "channels-last" if d["channels_last"] else "contiguous"]
    parts += ["int8" if d["quantize"] == "int8" else "no quant"] + (["compiled"] if d["compile"] else [])
    parts += [f"pruned {d['prune']:.0%}"] if d["prune"] else []
    return ", ".join(parts)


def dominates(a: Point, b: Point) -> bool:
    return a.val >= b.val and a.latency <= b.latency and (a.val > b.val or a.latency < b.latency)


def goal(trials: int, seed: int, population: int, compile_gene: bool) -> dict[str, Any]:
    return {
        "study": f"digits-front-seed{seed}",
        "task": {"name": "digits"},
        "space": {
            "epochs": [2, 30],
            "precisions": ["fp32", "bf16"],
            "channels_last": [False, True],
            "quantize": ["none", "int8"],
            "prune": [0.0, 0.25, 0.5],
            **({"compile": [False, True]} if compile_gene else {}),
        },
        "objectives": {"val_accuracy": "max", "latency_ms": "min"},
        "budget": {"trials": trials, "trial_timeout_s": 180},
        "search": {"proposer": "evolution", "population": population, "seed": seed},
        "evaluation": {"device": "cpu", "threads": 1, "latency_batch": 32, "latency_repeats": 10},
    }


def deployed_for_latency(task: TrainedTask, genes: dict[str, Any], artifact: bytes) -> tuple[Any, torch.Tensor, Any]:
    """The trained model deployed as the evaluator deploys it (``_final``), and its latency batch of 32."""
    from safetensors.torch import load

    torch.set_num_threads(SETTINGS.threads)
    s = task.splits
    model = build_network(deployed_genes(genes), s.input_spec())  # pruned widths, if pruned
    model.load_state_dict(load(artifact))
    deploy = deploy_of(genes)
    cl = bool(deploy["channels_last"])
    if cl:
        model = model.to(memory_format=torch.channels_last)
    x = torch.from_numpy(s.x_val[: SETTINGS.latency_batch].copy())
    y = torch.from_numpy(s.y_val[: SETTINGS.latency_batch].copy())
    if cl:
        x = x.contiguous(memory_format=torch.channels_last)
    model, x, _, _ = deployed_model(model, x, y, deploy)
    return model, x, precision_context(inference_precision(genes), torch.device("cpu"))


def noise(task: TrainedTask, point: Point, calls: int) -> list[float]:
    assert point.artifact is not None
    model, batch, precision = deployed_for_latency(task, point.genes, point.artifact)
    out = []
    with precision():
        for _ in range(calls):
            out.append(latency_ms(model, batch, SETTINGS.latency_warmup, SETTINGS.latency_repeats))
    return out


def retrain(task: TrainedTask, point: Point) -> tuple[float, float]:
    """Retrain a front member with its trial seed; returns (val accuracy, test accuracy) and keeps the weights."""
    assert point.seed is not None
    result = task.evaluate(Design.make("macro", point.genes), point.seed, SETTINGS)
    point.artifact = result.artifact
    point.test = task.test_accuracy(Design.make("macro", point.genes), result.artifact)
    return result.metrics["val_accuracy"], point.test


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=150, help="trial budget (default 150)")
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--seed", type=int, default=0, help="search seed (default 0)")
    p.add_argument("--population", type=int, default=16, help="evolution population (default 16)")
    p.add_argument("--compile", action="store_true", help="also search torch.compile (about 18 s per compile)")
    p.add_argument("--baseline-seeds", type=int, default=3, help="training seeds per baseline (default 3)")
    p.add_argument("--noise-calls", type=int, default=10, help="latency_ms calls per model for noise (default 10)")
    p.add_argument("--noise-members", type=int, default=3, help="front members in the noise section (default 3)")
    p.add_argument("--no-noise", action="store_true", help="skip the measurement-noise section")
    args = p.parse_args()
    header(__doc__)
    task = make_task({"name": "digits"})
    assert isinstance(task, TrainedTask)

    data = goal(args.trials, args.seed, args.population, args.compile)
    print(f"\nspace: `{data['space']}`; evaluation: `{data['evaluation']}`; {args.workers} workers")
    with tempfile.TemporaryDirectory(prefix="evoforge-front-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'front.db'}"
        g = goal_from_dict(data)
        t0 = time.time()
        report = run_study(g, url, workers=args.workers, quiet=True)
        wall = time.time() - t0
        store = Store(url)
        study = store.get_study(g.study)
        assert study is not None
        view = front_view(store, study, g)
        trials = {t.number: t for t in store.trials(study.id)}
        store.engine.dispose()

    states = ", ".join(f"{k} {v}" for k, v in sorted(report.trials.items()) if v)
    done = sum(report.trials.get(s, 0) for s in ("complete", "failed", "pruned"))
    print(f"\nstudy: stopped because {report.stopped_because}; {states}; wall time {wall:.1f} s")
    train_s = [t.metrics["train_time_s"] for t in trials.values() if t.state == "complete"]
    print(f"{done / (wall / 60):.1f} trials/min; median training time {statistics.median(train_s):.1f} s")
    compiled = [t.info.get("compile_s") for t in trials.values() if t.info.get("compile_s")]
    if compiled:
        print(f"{len(compiled)} compiled trials, mean compile time {statistics.mean(compiled):.1f} s")
    errors: dict[str, list[int]] = {}
    for t in trials.values():
        if t.state == "failed":
            last = (t.error or "no error recorded").strip().splitlines()[-1][:160]
            errors.setdefault(f"{last} [{deploy_text(t.design.genes)}]", []).append(t.number)
    for error, numbers in sorted(errors.items()):
        print(f"failed: {len(numbers)} trial(s) {numbers}: {error}")
    deploys: dict[str, int] = {}
    for t in trials.values():
        if t.state == "complete":
            deploys[deploy_text(t.design.genes)] = deploys.get(deploy_text(t.design.genes), 0) + 1
    print("efficiency genes among complete trials: " + "; ".join(f"{k}: {v}" for k, v in sorted(deploys.items())))

    front = [
        Point(
            f"#{m['trial']}",
            trials[m["trial"]].design.genes,
            m["metrics"]["val_accuracy"],
            m["metrics"]["latency_ms"],
            m["metrics"]["params"],
            seed=trials[m["trial"]].seed,
        )
        for m in view["members"]
    ]
    print(f"\n## Pareto front after {len(train_s)} complete trials ({len(front)} members)\n")
    print("| trial | val acc | latency ms | params | efficiency genes | design |")
    print("|---:|---:|---:|---:|---|---|")
    for f in front:
        genes = f"{deploy_text(f.genes)} | {short(f.genes)}"
        print(f"| {f.name} | {f.val:.4f} | {f.latency:.3f} | {f.params:,.0f} | {genes} |")

    history = view["hypervolume_history"]
    print("\n## Hypervolume (val accuracy x latency, reference: accuracy 0, 2x the first trial's latency)\n")
    print("| after trials finished | last trial | hypervolume |\n|---:|---:|---:|")
    for frac in (0.1, 0.25, 0.5, 0.75, 1.0):
        i = max(1, round(frac * len(history))) - 1
        if history:
            print(f"| {i + 1} ({frac:.0%}) | #{history[i][0]} | {history[i][1]:.5f} |")

    print(f"\n## Baselines (same evaluator and settings, {args.baseline_seeds} training seeds, mean)\n")
    print("| baseline | seed | val acc | test acc | latency ms | params | train s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    baselines: list[Point] = []
    for name, genes in BASELINES.items():
        design = Design.make("macro", genes)
        vals, tests, lats, artifact = [], [], [], None
        for seed in range(args.baseline_seeds):
            r = task.evaluate(design, seed, SETTINGS)
            test = task.test_accuracy(design, r.artifact)
            vals.append(r.metrics["val_accuracy"])
            tests.append(test)
            lats.append(r.metrics["latency_ms"])
            artifact = artifact or r.artifact
            m = r.metrics
            print(
                f"| {name} | {seed} | {m['val_accuracy']:.4f} | {test:.4f} | {m['latency_ms']:.3f} | "
                f"{m['params']:,.0f} | {m['train_time_s']:.1f} |"
            )
            params = m["params"]
        b = Point(name, genes, statistics.mean(vals), statistics.mean(lats), params, statistics.mean(tests))
        b.artifact = artifact
        baselines.append(b)
        print(f"| **{name}** | mean | **{b.val:.4f}** | **{b.test:.4f}** | **{b.latency:.3f}** | {params:,.0f} | |")

    print("\n## Does the front dominate the baselines? (study latencies vs the baselines' mean)\n")
    print("| baseline | val acc | latency ms | dominated | by (val acc, latency ms) |")
    print("|---|---:|---:|:---:|---|")
    dominating: dict[str, Point] = {}
    for b in baselines:
        by = [f for f in front if dominates(f, b)]
        for f in by:
            dominating[f.name] = f
        text = ", ".join(f"{f.name} ({f.val:.4f}, {f.latency:.3f})" for f in by) or "-"
        print(f"| {b.name} | {b.val:.4f} | {b.latency:.3f} | {'yes' if by else 'no'} | {text} |")

    if dominating:
        print("\n## Dominating members retrained with their trial seed: test accuracy\n")
        print("| member | stored val acc | retrained val acc | same | test acc | latency ms (study) |")
        print("|---:|---:|---:|:---:|---:|---:|")
        for f in sorted(dominating.values(), key=lambda f: -f.val):
            val, test = retrain(task, f)
            same = "yes" if abs(val - f.val) < 1e-9 else "NO"
            print(f"| {f.name} | {f.val:.4f} | {val:.4f} | {same} | {test:.4f} | {f.latency:.3f} |")
        for b in baselines:
            print(f"| {b.name} (mean of {args.baseline_seeds}) | {b.val:.4f} | | | {b.test:.4f} | {b.latency:.3f} |")

    if args.no_noise:
        return
    # Front members for the noise section: the dominating ones first, then the fastest and the most accurate.
    chosen: list[Point] = sorted(dominating.values(), key=lambda f: f.latency)
    for f in (front[-1], front[0], front[len(front) // 2]):
        if len(chosen) < args.noise_members and f.name not in {c.name for c in chosen}:
            chosen.append(f)
    chosen = chosen[: max(args.noise_members, 0)]
    for f in chosen:
        if f.artifact is None:
            retrain(task, f)
    print(
        f"\n## Latency measurement noise: latency_ms (median of {SETTINGS.latency_repeats} after "
        f"{SETTINGS.latency_warmup} warm-ups, batch {SETTINGS.latency_batch}, 1 thread) called "
        f"{args.noise_calls} times, in this process, nothing else running\n"
    )
    print("| model | efficiency genes | study ms | mean ms | std ms | std/mean | (max-min)/mean | min ms | max ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    isolated: dict[str, float] = {}
    for pnt in [*baselines, *chosen]:
        xs = noise(task, pnt, args.noise_calls)
        mean, std = statistics.mean(xs), statistics.stdev(xs) if len(xs) > 1 else 0.0
        isolated[pnt.name] = mean
        print(
            f"| {pnt.name} | {deploy_text(pnt.genes)} | {pnt.latency:.3f} | {mean:.3f} | {std:.3f} | "
            f"{std / mean:.1%} | {(max(xs) - min(xs)) / mean:.1%} | {min(xs):.3f} | {max(xs):.3f} |"
        )
    print("\n(study ms: the latency recorded by the study for the member, the mean over seeds for a baseline)")
    print("\nDominance re-checked on these isolated re-measurements (chosen members only):\n")
    for b in baselines:
        for f in chosen:
            if b.name in isolated and f.name in isolated and f.val >= b.val:
                faster = isolated[f.name] / isolated[b.name]
                print(
                    f"- {f.name} vs {b.name}: val {f.val:.4f} vs {b.val:.4f}, latency {isolated[f.name]:.3f} vs "
                    f"{isolated[b.name]:.3f} ms ({faster:.2f}x): "
                    f"{'dominates' if isolated[f.name] < isolated[b.name] else 'does NOT dominate'}"
                )
    print(f"\ntotal wall time {time.time() - t0:.1f} s (study {wall:.1f} s)")


if __name__ == "__main__":
    main()
