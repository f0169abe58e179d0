"""What each of a challenger's changes contributed: each change undone one at a time (leave-one-out), or, when
there are many, a sampled Shapley estimate over random orders of making them."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from evoforge.design import Design
from evoforge.oversight._changes import Change, apply, changes, revert
from evoforge.oversight._evidence import mean_ci, paired_bootstrap
from evoforge.spaces import Space
from evoforge.storage import Attribution, ChangeEffect, Contribution

Score = Callable[[Design, int], "float | None"]  # a design's held-out score on an evidence seed (None: no result)
# Its per-input held-out values on that seed (oriented: higher is better), where the task measures them.
Outcomes = Callable[[Design, int], "np.ndarray | None"]


@dataclass(frozen=True)
class AttributionPlan:
    """Which designs to measure: for leave-one-out, the challenger without each change (``variants``); for
    Shapley, the champion with the first j changes of each random ``order`` made (``coalitions``). Designs that
    the space rejects are left out and their changes reported as not measurable alone. A change whose undoing
    computes the same function (``Space.canonical``: a dead edge, a gene that cannot matter) is ``neutral``: it has
    no effect, and no retraining is spent to say so."""

    method: str
    champion: Design
    challenger: Design
    changes: tuple[Change, ...]
    neutral: tuple[bool, ...] = ()
    variants: tuple[Design | None, ...] = ()
    orders: tuple[tuple[int, ...], ...] = ()
    coalitions: tuple[tuple[Design | None, ...], ...] = ()

    def designs(self) -> list[Design]:
        found = [d for d in self.variants if d is not None]
        found += [d for row in self.coalitions for d in row if d is not None]
        return list(dict.fromkeys(found))

    def measurements(self, seeds: Sequence[int]) -> list[tuple[Design, int]]:
        """(design, seed) retrainings the attribution needs: each leave-one-out variant on every seed; each Shapley
        order's coalitions on one seed (order p on seed p mod k), since the orders already vary what is averaged."""
        pairs = [(d, s) for d in self.variants if d is not None for s in seeds]
        for p, row in enumerate(self.coalitions):
            pairs += [(d, seeds[p % len(seeds)]) for d in row if d is not None]
        return list(dict.fromkeys(pairs))


def plan_attribution(
    champion: Design, challenger: Design, space: Space, max_changes: int, permutations: int, seed: int
) -> AttributionPlan:
    found = tuple(changes(champion, challenger))
    function = space.canonical(challenger)
    neutral = tuple(_same(space, revert(challenger, c), function) for c in found)
    if len(found) <= max_changes:
        variants = tuple(
            None if n else _valid(space, revert(challenger, c)) for c, n in zip(found, neutral, strict=True)
        )
        return AttributionPlan("leave-one-out", champion, challenger, found, neutral, variants=variants)
    rng = random.Random(seed)
    orders = tuple(tuple(rng.sample(range(len(found)), len(found))) for _ in range(permutations))
    coalitions = tuple(
        tuple(_valid(space, apply(champion, [found[i] for i in order[:j]])) for j in range(1, len(found)))
        for order in orders
    )
    return AttributionPlan("shapley", champion, challenger, found, neutral, orders=orders, coalitions=coalitions)


def _same(space: Space, design: Design, function: str) -> bool:
    valid = _valid(space, design)
    return valid is not None and space.canonical(valid) == function


def _valid(space: Space, design: Design) -> Design | None:
    try:
        space.validate(design)
    except ValueError:
        return None
    return design


def attribute(
    plan: AttributionPlan, score: Score, seeds: Sequence[int], level: float, outcomes: Outcomes | None = None
) -> Attribution:
    """Each change's contribution (mean with a ``1 - level`` interval) to the challenger's held-out score, a flag on
    changes with no measurable gain, and the simpler design without them (None when every change is flagged: the
    changes then only help together, or not at all). With ``outcomes`` (per-input held-out values), leave-one-out
    contributions are bootstrapped over seeds and held-out inputs, like the evidence."""
    samples = _loo(plan, score, seeds) if plan.method == "leave-one-out" else _shapley(plan, score, seeds)
    rows = []
    for i, (change, values) in enumerate(zip(plan.changes, samples, strict=True)):
        if plan.neutral and plan.neutral[i]:
            rows.append(ChangeEffect(change.text, change.name, None, "no effect: computes the same function", True))
            continue
        variant = plan.variants[i] if plan.method == "leave-one-out" else None
        stat = _bootstrapped(plan.challenger, variant, outcomes, seeds, level) if outcomes else None
        if stat is None and values:
            found = mean_ci(values, level)
            stat = Contribution(found["n"], found["mean"], tuple(found["ci"]) if found["ci"] else None)
        if stat is None:
            rows.append(ChangeEffect(change.text, change.name, None, "not measurable alone", False))
            continue
        low, high = stat.ci or (stat.mean, stat.mean)
        effect = "helps" if low > 0 else ("hurts" if high < 0 else "no measurable effect")
        rows.append(ChangeEffect(change.text, change.name, stat, effect, effect != "helps"))
    kept = [c for c, r in zip(plan.changes, rows, strict=True) if not r.flagged]
    simpler = apply(plan.champion, kept) if kept and len(kept) < len(plan.changes) else None
    drops = tuple(r.name for r in rows if r.flagged) if simpler is not None else ()
    genes = simpler.genes if simpler is not None else None
    return Attribution(plan.method, tuple(seeds), level, tuple(rows), genes, drops)


def _bootstrapped(
    challenger: Design, variant: Design | None, outcomes: Outcomes, seeds: Sequence[int], level: float
) -> Contribution | None:
    if variant is None:
        return None
    mine = [outcomes(challenger, s) for s in seeds]
    theirs = [outcomes(variant, s) for s in seeds]
    if any(o is None for o in mine + theirs) or len({len(o) for o in mine + theirs if o is not None}) != 1:
        return None
    test = paired_bootstrap([o for o in mine if o is not None], [o for o in theirs if o is not None], level)
    return Contribution(test["n"], test["mean_diff"], tuple(test["ci"]), test["test"])


def _loo(plan: AttributionPlan, score: Score, seeds: Sequence[int]) -> list[list[float]]:
    out = []
    for variant in plan.variants:
        values: list[float] = []
        for s in seeds:
            full, without = score(plan.challenger, s), score(variant, s) if variant is not None else None
            if full is not None and without is not None:
                values.append(full - without)
        out.append(values)
    return out


def _shapley(plan: AttributionPlan, score: Score, seeds: Sequence[int]) -> list[list[float]]:
    out: list[list[float]] = [[] for _ in plan.changes]
    for p, (order, row) in enumerate(zip(plan.orders, plan.coalitions, strict=True)):
        seed = seeds[p % len(seeds)]  # one sample per order and change: each order is measured on one seed
        path: list[Design | None] = [plan.champion, *row, plan.challenger]  # after 0, 1, ..., n changes
        for j, index in enumerate(order):
            before, after = path[j], path[j + 1]
            a = score(after, seed) if after is not None else None
            b = score(before, seed) if before is not None else None
            if a is not None and b is not None:
                out[index].append(a - b)
    return out
