"""The Pareto front figure of a study with two or more objectives."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evoforge.report._facts import Facts
from evoforge.report._plots import CHAMPION, FAINT, TRIAL, new_figure, nothing_yet, png

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def pareto(facts: Facts) -> bytes:
    """The first two objectives of every complete trial, the non-dominated ones highlighted."""
    (xname, xdir), (yname, ydir) = list(facts.goal.objectives.items())[:2]
    front = {m["trial"] for m in (facts.lineage.get("front") or {}).get("members", [])}
    points = [
        (t.number, t.metrics[xname], t.metrics[yname])
        for t in facts.trials
        if t.state == "complete" and facts.goal.values(t.metrics) is not None
    ]
    fig = new_figure()
    ax = fig.add_subplot()
    others = len(facts.goal.objectives) - 2
    title = "Pareto front" + (f" (over all {others + 2} objectives; first two shown)" if others else "")
    ax.set(title=title, xlabel=_axis(xname, xdir), ylabel=_axis(yname, ydir))
    if not points:
        nothing_yet(ax, "no complete feasible trial yet")
        return png(fig)
    rest = [(x, y) for n, x, y in points if n not in front]
    best = sorted((x, y) for n, x, y in points if n in front)
    if rest:
        ax.scatter([x for x, _ in rest], [y for _, y in rest], s=14, color=FAINT, label="dominated trial")
    if best:  # joined only when the plot shows every objective: a projected front is no line
        style = "o-" if not others else "o"
        ax.plot(
            [x for x, _ in best], [y for _, y in best], style, color=TRIAL, markersize=5, label="on the Pareto front"
        )
    _champion(facts, ax, xname, yname)
    for axis, values in ((ax.xaxis, [x for _, x, _ in points]), (ax.yaxis, [y for _, _, y in points])):
        if max(abs(v) for v in values) >= 1e4:  # counts like params: 1.2M reads better than 1200000
            from matplotlib.ticker import EngFormatter

            axis.set_major_formatter(EngFormatter())
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return png(fig)


def _champion(facts: Facts, ax: Axes, xname: str, yname: str) -> None:
    champ = facts.status.get("champion")
    if champ and xname in champ["metrics"] and yname in champ["metrics"]:
        x, y = champ["metrics"][xname], champ["metrics"][yname]
        ax.scatter([x], [y], marker="*", s=200, color=CHAMPION, edgecolor="black", zorder=3, label="champion")


def _axis(name: str, direction: str) -> str:
    return f"{name} ({'lower' if direction == 'min' else 'higher'} is better)"
