from __future__ import annotations

import random
from typing import Any

from evoforge.design import Design
from evoforge.spaces import Space

# The search settings `evoforge meta` tunes, each with the values it may take. Dotted names are nested settings.
CHOICES: dict[str, list[Any]] = {
    "population": [8, 12, 16, 24, 32],
    "tournament": [2, 3, 4, 6, 8],
    "initial": [5, 8, 10, 16, 24],
    "candidates": [25, 50, 100, 200],
    "acquisition": ["ei", "ucb", "ts"],
    "kappa": [0.5, 1.0, 2.0, 3.0],
    "parents": [2, 3, 5, 8, 12],
    "random_share": [0.0, 0.05, 0.1, 0.2],
    "two_step_share": [0.0, 0.25, 0.5],
    "floor": [0.05, 0.1, 0.2, 0.3],
    "clip_iqr": [1.0, 1.5, 3.0, 100.0],  # the predictor's outlier clipping (100: effectively none)
    "exhaustive": [0, 20_000],  # also score every untried function of a space this small (0: candidates only)
    "route_priors.predictor": [0.3, 0.5, 0.7, 0.9],
    "route_priors.evolution": [0.1, 0.3, 0.5],
    "operator_priors.swap_edge_op": [0.1, 0.3, 0.5],
    "operator_priors.exchange_edges": [0.1, 0.3, 0.5],
}


def settings_of(genes: dict[str, Any]) -> dict[str, Any]:
    """The ``guided`` proposer's keyword settings from a profile design's genes (dotted names nested)."""
    out: dict[str, Any] = {}
    for key, value in genes.items():
        if "." in key:
            outer, inner = key.split(".", 1)
            out.setdefault(outer, {})[inner] = value
        else:
            out[key] = value
    return out


def _change(setting: str):  # type: ignore[no-untyped-def]
    def operator(g: dict[str, Any], rng: random.Random, space: Any) -> tuple[dict[str, Any], str] | None:
        old = g[setting]
        g[setting] = rng.choice([v for v in CHOICES[setting] if v != old])
        return g, f"{setting}: {old} -> {g[setting]}"

    operator.__name__ = f"change_{setting}"
    return operator


class ProfileSpace(Space):
    """Settings of the ``guided`` proposer, for ``evoforge meta``: one gene per setting in ``CHOICES``, one operator
    per setting (``change_<setting>``), so operator credit shows which settings are worth changing."""

    name = "search_profile"
    operators = {f"change_{k}": _change(k) for k in CHOICES}

    def sample(self, rng: random.Random) -> Design:
        while True:
            genes = {k: rng.choice(v) for k, v in CHOICES.items()}
            design = Design.make(self.name, genes)
            if self._is_valid(design):
                return design

    def validate(self, design: Design) -> None:
        genes = design.view
        if design.space != self.name or set(genes) != set(CHOICES):
            raise ValueError(f"a search profile design has one gene per setting: {', '.join(CHOICES)}")
        for key, value in genes.items():
            if value not in CHOICES[key]:
                raise ValueError(f"{key}: {value!r} is not one of {CHOICES[key]}")
        if genes["tournament"] > genes["population"]:
            raise ValueError("tournament cannot exceed population")

    def canonical(self, design: Design) -> str:
        genes = design.genes
        if genes["acquisition"] != "ucb":  # kappa only matters to UCB
            genes["kappa"] = None
        return Design.make(self.name, genes).hash

    def features(self, design: Design) -> list[float]:
        out: list[float] = []
        for key, choices in CHOICES.items():
            value = design.view[key]
            if isinstance(choices[0], str):
                out += [1.0 if value == c else 0.0 for c in choices]
            else:
                out.append(choices.index(value) / max(len(choices) - 1, 1))
        return out
