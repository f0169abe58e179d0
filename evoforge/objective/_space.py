"""The search space of an objective written with ``trial.suggest_*``: learned from what the objective asks for.

A design is the parameters' values by name. The space knows a parameter once a trial that asked for it has come
back (with the range it was asked from; a range asked differently later is widened to cover both). Until the first
trial comes back the space knows nothing, so that trial runs alone (``waiting``), its design holding only a number
drawn from the search's seed (``~draw``). A design need not name every parameter the objective asks for: one it
does not name is drawn from the range asked, with a generator seeded by the design's hash, so a design always stands
for the same values (a retraining of it on another seed trains the same parameters) and ``resolve`` gives them
back; once a design names every known parameter, ``~draw`` no longer matters (``canonical``). A parameter that only
matters under some choices (a branch not taken) is still carried by every design; two designs that differ only
there are trained as two.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any

from evoforge.design import Design
from evoforge.objective._distributions import (
    Categorical,
    Distribution,
    FloatRange,
    IntRange,
    from_json,
    merged,
    to_json,
)
from evoforge.spaces import Mutation, Space
from evoforge.spaces._base import Genes, OperatorFn

DRAW = "~draw"  # not a parameter: what a design that names none is drawn from


def drawn(design_hash: str, name: str, distribution: Distribution) -> Any:
    """The value a design that does not name parameter ``name`` stands for: the same wherever it is drawn."""
    return distribution.sample(random.Random(f"{design_hash}:{name}"))


class ParamSpace(Space):
    name = "params"

    def __init__(self) -> None:
        self.distributions: dict[str, Distribution] = {}
        self.observed = 0  # trials whose parameters it has learned from
        self.version = 0  # changes whenever a parameter or range is learned (encodings change length)
        self.operators: Mapping[str, OperatorFn] = {"nudge": _nudge, "redraw": _redraw, "switch": _switch}

    # -- learning ----------------------------------------------------------------------------------------------------
    @property
    def waiting(self) -> bool:
        return self.observed == 0

    def observe(self, design: Design, info: Mapping[str, Any]) -> None:
        """Learn the ranges a finished trial's objective asked for (``info["distributions"]``)."""
        asked = info.get("distributions")
        if not isinstance(asked, dict):
            return
        self.observed += 1
        for name, data in asked.items():
            new = from_json(data)
            old = self.distributions.get(name)
            combined = new if old is None else merged(old, new)
            if combined != old:
                self.distributions[name] = combined
                self.version += 1

    # -- designs -----------------------------------------------------------------------------------------------------
    def sample(self, rng: random.Random) -> Design:
        if not self.distributions:  # nothing known yet: the objective draws every value, from this number
            return Design.make(self.name, {DRAW: rng.randrange(2**31)})
        return Design.make(self.name, {name: d.sample(rng) for name, d in self.distributions.items()})

    def resolve(self, design: Design) -> dict[str, Any]:
        """Every known parameter's value in ``design``, the ones it does not name drawn as the objective draws them."""
        genes = design.view
        return {n: genes[n] if n in genes else drawn(design.hash, n, d) for n, d in self.distributions.items()}

    def canonical(self, design: Design) -> str:
        """The design's own hash; but a design that names every known parameter computes the same whatever its
        ``~draw`` (it draws nothing), so that is left out of its key."""
        genes = design.view
        if DRAW in genes and all(n in genes for n in self.distributions) and self.distributions:
            return Design.make(self.name, {k: v for k, v in genes.items() if k != DRAW}).hash
        return design.hash

    def validate(self, design: Design) -> None:
        for name, value in design.view.items():
            if name == DRAW:
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ValueError(f"{DRAW}: a whole number the objective's values are drawn from")
                continue
            if not isinstance(value, (type(None), bool, int, float, str)):
                raise ValueError(f"{name}: a parameter's value is a number, a string, true/false or null")
            known = self.distributions.get(name)
            if known is not None and not known.contains(value):
                raise ValueError(f"{name}: {value!r} is outside what the objective asks for ({to_json(known)})")

    def mutate(self, design: Design, rng: random.Random, operator: str | None = None) -> Mutation:
        # Operators change the parameters' values as the design stands for them, named or drawn; the child names
        # every known one, so it draws nothing (no ``~draw``).
        named = {k: v for k, v in design.view.items() if k != DRAW}
        whole = Design.make(self.name, {**named, **self.resolve(design)})
        mutation = super().mutate(whole, rng, operator)
        if mutation.design == design:
            raise ValueError(f"no operator could change design {design.hash}")
        return mutation

    def features(self, design: Design) -> list[float]:
        """Numbers scaled to 0..1 (log ranges on their log scale), categories one-hot, in the order learned."""
        values = self.resolve(design)
        out: list[float] = []
        for name, d in self.distributions.items():
            value = values[name]
            if isinstance(d, Categorical):
                out += [1.0 if value == c and type(value) is type(c) else 0.0 for c in d.choices]
            elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                out.append(min(max(d.unit(float(value)), 0.0), 1.0))
            else:
                out.append(0.5)
        return out


def _pick(genes: Genes, rng: random.Random, space: Any, kinds: tuple[type, ...]) -> str | None:
    names = [n for n, d in space.distributions.items() if isinstance(d, kinds) and n in genes]
    return rng.choice(names) if names else None


def _nudge(genes: Genes, rng: random.Random, space: Any) -> tuple[Genes, str] | None:
    name = _pick(genes, rng, space, (FloatRange, IntRange))
    if name is None:
        return None
    old = genes[name]
    genes[name] = space.distributions[name].nudge(old, rng)
    return genes, f"nudge {name}: {old:.4g} -> {genes[name]:.4g}"


def _redraw(genes: Genes, rng: random.Random, space: Any) -> tuple[Genes, str] | None:
    name = _pick(genes, rng, space, (FloatRange, IntRange, Categorical))
    if name is None:
        return None
    old = genes[name]
    genes[name] = space.distributions[name].sample(rng)
    return genes, f"draw {name} anew: {old!r} -> {genes[name]!r}"


def _switch(genes: Genes, rng: random.Random, space: Any) -> tuple[Genes, str] | None:
    name = _pick(genes, rng, space, (Categorical,))
    if name is None:
        return None
    others = [c for c in space.distributions[name].choices if c != genes[name]]
    if not others:
        return None
    old, genes[name] = genes[name], rng.choice(others)
    return genes, f"switch {name}: {old!r} -> {genes[name]!r}"
