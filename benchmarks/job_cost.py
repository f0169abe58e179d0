"""Probe: the fixed cost of a short multi-fidelity job on digits, next to its training time.

For 20 designs sampled from a macro space with recipes of 10–40 epochs: the median time of the static check a
coordinator runs on each proposal (``static_metrics`` at batch 32); for 8 of them, the wall time of a 2-epoch job
(``evaluate(until=2)``, what an ASHA trial stopped at its first rung costs) against its training time, and of a full
job. One thread, CPU.

    python benchmarks/job_cost.py
"""

from __future__ import annotations

import random
import statistics
import time

from evoforge.tasks import EvalSettings, make_task


def main() -> None:
    task = make_task({"name": "digits"})
    space = task.space({"epochs": [10, 40]})
    rng = random.Random(0)
    designs = [space.sample(rng) for _ in range(20)]
    settings = EvalSettings("cpu", threads=1)
    static = []
    for d in designs:
        start = time.perf_counter()
        space.static_metrics(d, 32)
        static.append(time.perf_counter() - start)
    short, short_train, full, full_train = [], [], [], []
    for d in designs[:8]:
        start = time.perf_counter()
        result = task.evaluate(d, 0, settings, until=2)
        short.append(time.perf_counter() - start)
        short_train.append(result.metrics["train_time_s"])
        start = time.perf_counter()
        result = task.evaluate(d, 0, settings)
        full.append(time.perf_counter() - start)
        full_train.append(result.metrics["train_time_s"])
    print("| what | median wall s | median training s |")
    print("|---|---:|---:|")
    print(f"| static check of a proposal | {statistics.median(static):.4f} | |")
    print(f"| 2-epoch job | {statistics.median(short):.3f} | {statistics.median(short_train):.3f} |")
    print(f"| full job | {statistics.median(full):.3f} | {statistics.median(full_train):.3f} |")


if __name__ == "__main__":
    main()
