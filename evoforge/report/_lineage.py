"""The lineage figure: each generation a box placed at (trial number, score), arrows between successive
generations labelled with how many genes changed, and, in grey, the parent -> child trials behind each champion."""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING, Any

from evoforge.report._facts import Facts
from evoforge.report._plots import CHAMPION, FAINT, new_figure, nothing_yet, png, trial_axis

if TYPE_CHECKING:
    from matplotlib.axes import Axes

LABEL_ANCESTORS_UP_TO = 40  # past this many ancestor trials, their "#n" labels would only be clutter


def lineage(facts: Facts) -> bytes:
    gens = facts.lineage["generations"]
    fig = new_figure(9.0, 5.5)
    ax = fig.add_subplot()
    ax.set(
        title="Lineage: generations (boxes) and the trials that led to each champion (grey)",
        xlabel="trial number",
        ylabel=facts.objective_label,
    )
    if not gens:
        nothing_yet(ax, "no generation yet: no design has been promoted")
        return png(fig)
    ys = _heights(facts)
    shown = _ancestry(ax, gens, ys) | {g["trial"] for g in gens}
    span = (_range([n for n in shown]), _range([ys[n] for n in shown]))
    for before, after in pairwise(gens):
        _promotion(ax, before, after, ys, span)
    for g in gens:
        _node(ax, g, ys[g["trial"]], facts)
    ax.scatter([g["trial"] for g in gens], [ys[g["trial"]] for g in gens], alpha=0)  # text boxes set no limits
    _legend(ax)
    ax.grid(alpha=0.3)
    ax.margins(x=0.08, y=0.15)
    trial_axis(ax)
    return png(fig)


def _heights(facts: Facts) -> dict[int, float]:
    """Each trial's score as shown; a trial without one (it broke a constraint) sits at its parent's height."""
    out: dict[int, float] = {}
    for t in sorted(facts.trials, key=lambda t: t.number):
        score = facts.score(t)
        parent = out.get(t.parents[0]) if t.parents else None
        if score is not None:
            out[t.number] = facts.shown(score)
        elif parent is not None:
            out[t.number] = parent
    for g in facts.generations:
        out.setdefault(g.trial_number, facts.shown(g.score))
    return out


def _range(values: list[float]) -> float:
    return (max(values) - min(values)) or 1.0


def _ancestry(ax: Axes, gens: list[dict[str, Any]], ys: dict[int, float]) -> set[int]:
    """Draws the parent -> child steps behind each champion; returns the trials drawn."""
    edges = {(a["trial"], b["trial"]) for g in gens for a, b in pairwise(g["ancestry"])}
    edges = {(a, b) for a, b in edges if a in ys and b in ys}
    nodes = {n for edge in edges for n in edge} - {g["trial"] for g in gens}
    for a, b in edges:
        ax.annotate(
            "",
            (b, ys[b]),
            (a, ys[a]),
            arrowprops={"arrowstyle": "-|>", "color": FAINT, "linewidth": 1, "shrinkA": 3, "shrinkB": 3},
        )
    ax.scatter(list(nodes), [ys[n] for n in nodes], s=12, color=FAINT, zorder=2)
    if len(nodes) <= LABEL_ANCESTORS_UP_TO:
        for n in nodes:
            ax.annotate(f"#{n}", (n, ys[n]), xytext=(0, -10), textcoords="offset points", fontsize=7, color="gray")
    return nodes


def _promotion(
    ax: Axes, before: dict[str, Any], after: dict[str, Any], ys: dict[int, float], span: tuple[float, float]
) -> None:
    """A red curve from one generation's box to the next, bowed aside so the grey ancestry between them stays
    visible, with the number of changes at its middle."""
    curve = _bow((before["trial"], ys[before["trial"]]), (after["trial"], ys[after["trial"]]), span)
    xs, ys_ = [x for x, _ in curve], [y for _, y in curve]
    ax.plot(xs, ys_, color=CHAMPION, linewidth=2, zorder=3)
    if len(curve) >= 2:
        arrow = {"arrowstyle": "-|>", "color": CHAMPION, "linewidth": 2, "shrinkA": 0, "shrinkB": 0}
        ax.annotate("", curve[-1], curve[-2], arrowprops=arrow, zorder=3)
    n = len(after["changes"])
    box = {"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.9}
    middle = curve[len(curve) // 2] if curve else (after["trial"], ys[after["trial"]])
    text = f"{n} change{'s' if n != 1 else ''}"
    ax.annotate(text, middle, ha="center", va="center", color=CHAMPION, fontsize=8, bbox=box, zorder=3)


BOX = (0.085, 0.1)  # half a node box, as a fraction of the plotted x and y ranges: the curve stops at its edge
BOW = 0.2  # how far the curve's middle control point lies from the straight line, relative to its length


def _bow(a: tuple[float, float], b: tuple[float, float], span: tuple[float, float]) -> list[tuple[float, float]]:
    """Points of a quadratic Bezier curve from ``a`` to ``b``, bent in plot-fraction units (so it bends the same
    whatever the axes' scales), without the parts hidden under the two end boxes."""
    (ax_, ay), (bx, by), (sx, sy) = a, b, span
    du, dv = (bx - ax_) / sx, (by - ay) / sy
    cx, cy = (ax_ + bx) / 2 + BOW * dv * sx, (ay + by) / 2 - BOW * du * sy
    points = []
    for i in range(61):
        t = i / 60
        x = (1 - t) ** 2 * ax_ + 2 * (1 - t) * t * cx + t**2 * bx
        y = (1 - t) ** 2 * ay + 2 * (1 - t) * t * cy + t**2 * by
        if not any(abs(x - ex) / sx < BOX[0] and abs(y - ey) / sy < BOX[1] for ex, ey in (a, b)):
            points.append((x, y))
    return points


def _node(ax: Axes, g: dict[str, Any], y: float, facts: Facts) -> None:
    text = f"gen {g['generation']}\ntrial #{g['trial']}\n{facts.goal.objective[0]} {y:.4f}"
    box = {"boxstyle": "round,pad=0.3", "facecolor": "#fff3f3", "edgecolor": CHAMPION}
    ax.annotate(text, (g["trial"], y), ha="center", va="center", fontsize=8, bbox=box, zorder=4)


def _legend(ax: Axes) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=CHAMPION, linewidth=2, label="promotion (label: changes from the previous generation)"),
        Line2D([], [], color=FAINT, marker="o", markersize=4, label="parent -> child trial (a champion's ancestry)"),
    ]
    ax.legend(handles=handles, loc="lower right", fontsize=8)
