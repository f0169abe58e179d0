"""Is the self-tuned ``default`` profile better than the settings it started from, on seeds no choice used?

Scores each profile with the meta task's own measure (``evoforge.meta.benchmark``: the incumbent's normalized true
quality averaged over checkpoints at 10/25/50/100% of the queries, 0 = a median cell, 1 = the optimum) on the
tuning problems, over inner seeds that `evoforge meta` never used (``--first-seed``, default 200000; the meta run
used 100000.., 101000.. and 102000..), and prints a Markdown table per problem with the paired difference.

    .venv/bin/python benchmarks/meta_profile_check.py --seeds 30
"""

from __future__ import annotations

import argparse
import datetime
import math
import platform
import statistics
import time

from evoforge.goal import Search
from evoforge.meta import PROBLEMS, run_inner
from evoforge.meta._run import built_in
from evoforge.meta._task import search_of
from evoforge.profiles import load_profile, resolve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default="data/nasbench201/nb201_cifar10.csv.gz")
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--first-seed", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    start = time.perf_counter()
    searches = {
        "built-in settings (where meta started)": search_of(built_in()),
        "default profile (meta's pick)": resolve(Search()),
    }
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    scores: dict[str, dict[str, list[float]]] = {k: {} for k in searches}
    for label, search in searches.items():
        for problem in PROBLEMS:
            runs = [run_inner(args.path, problem, search, s, args.queries)[0] for s in seeds]
            scores[label][problem] = [statistics.mean(r) for r in runs]
    print(
        f"<!-- {datetime.date.today()} | Python {platform.python_version()} | seeds {seeds[0]}..{seeds[-1]} | "
        f"{args.queries} queries | wall {time.perf_counter() - start:.0f} s -->"
    )
    print(f"\ndefault profile: {load_profile('default').settings}\n")
    a, b = list(searches)
    print(f"| problem | {a} | {b} | difference (± s.e., paired) |")
    print("|---|---|---|---|")
    for problem in [*PROBLEMS, "mean"]:
        if problem == "mean":
            x = [statistics.mean(v) for v in zip(*scores[a].values(), strict=True)]
            y = [statistics.mean(v) for v in zip(*scores[b].values(), strict=True)]
        else:
            x, y = scores[a][problem], scores[b][problem]
        d = [q - p for p, q in zip(x, y, strict=True)]
        se = statistics.stdev(d) / math.sqrt(len(d))
        print(
            f"| {problem} | {statistics.mean(x):.4f} ± {statistics.stdev(x):.4f} | "
            f"{statistics.mean(y):.4f} ± {statistics.stdev(y):.4f} | {statistics.mean(d):+.4f} ± {se:.4f} |"
        )


if __name__ == "__main__":
    main()
