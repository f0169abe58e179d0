"""The study's progress as PNG figures, and the figure helpers _pareto and _lineage share. matplotlib is optional:
it is imported only inside the drawing functions, on the Agg canvas directly, so no GUI backend or pyplot global
state is touched."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evoforge._errors import EvoforgeError
from evoforge.report._facts import Facts
from evoforge.storage import PromotionRecord, TrialRecord

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

CHAMPION = "#d62728"
TRIAL = "#1f77b4"
FAINT = "#b0b0b0"


def new_figure(width: float = 8.0, height: float = 4.5) -> Figure:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise EvoforgeError("the report needs matplotlib: pip install 'evoforge[report]'") from None
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def trial_axis(ax: Axes) -> None:
    """Whole trial numbers on x, and room around a lone point instead of a range of fractions of a trial."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    low, high = ax.get_xlim()
    if high - low < 4:
        middle = (low + high) / 2
        ax.set_xlim(middle - 2, middle + 2)


def nothing_yet(ax: Axes, what: str) -> None:
    ax.text(0.5, 0.5, what, ha="center", va="center", transform=ax.transAxes, color="gray")


@dataclass(frozen=True)
class Progress:
    """What a progress figure shows, each point placed at ``x`` (a trial number, or time since the start)."""

    done: list[tuple[float, float]]  # (x, score) of every complete trial with a score, by x
    pruned: list[tuple[float, float]]  # (x, partial value as shown) of trials stopped early
    promoted: list[tuple[float, float, int]]  # (x, score, generation) of each promotion
    cases: list[tuple[float, float, str]]  # (x, score, state) of promotion cases that did not promote


def progress(
    facts: Facts, trial_x: Callable[[TrialRecord], float], case_x: Callable[[PromotionRecord], float]
) -> Progress:
    """Places trials with ``trial_x`` and promotion cases (records) with ``case_x``."""
    trials = {t.number: t for t in facts.trials}
    scores = {n: s for n, t in trials.items() if (s := facts.score(t)) is not None}
    name = facts.goal.objective[0]
    cases = {c.trial_number: c for c in facts.promotions}

    def at(number: int) -> float:  # a promotion happens when its case is decided, not when its trial ended
        return case_x(cases[number]) if number in cases else trial_x(trials[number])

    return Progress(
        done=sorted((trial_x(trials[n]), s) for n, s in scores.items()),
        pruned=[(trial_x(t), t.metrics[name]) for t in trials.values() if t.state == "pruned" and name in t.metrics],
        promoted=sorted((at(g.trial_number), g.score, g.number) for g in facts.generations),
        cases=[
            (case_x(c), scores[c.trial_number], c.state)
            for c in facts.promotions
            if c.state not in ("promoted", "approved") and c.trial_number in scores
        ],
    )


def over_trials(facts: Facts) -> bytes:
    data = progress(facts, lambda t: t.number, lambda c: c.trial_number)
    return _draw(facts, data, "trial number", "Best result over trials", trial_axis)


def over_time(facts: Facts) -> bytes:
    start = facts.study.created_at
    span = max((t.finished_at - start for t in facts.trials if t.finished_at), default=0.0)
    unit, seconds = ("s", 1.0) if span < 120 else ("min", 60.0) if span < 5 * 3600 else ("h", 3600.0)
    data = progress(
        facts,
        lambda t: ((t.finished_at or t.created_at) - start) / seconds,
        lambda c: ((c.decided_at or c.created_at) - start) / seconds,
    )
    return _draw(facts, data, f"wall-clock time since the study started ({unit})", "Best result over time", None)


def _draw(facts: Facts, data: Progress, xlabel: str, title: str, x_axis: Callable[[Axes], None] | None) -> bytes:
    """Every complete trial's score as a dot, their running best and the champion as step lines, the promotions
    as stars and the cases that did not promote as rings."""
    fig = new_figure()
    ax = fig.add_subplot()
    ax.set(title=title, xlabel=xlabel, ylabel=facts.objective_label)
    if not data.done:
        nothing_yet(ax, "no complete trial with a score yet")
        return png(fig)
    xs = [x for x, _ in data.done]
    ax.scatter(xs, [facts.shown(s) for _, s in data.done], s=14, color=TRIAL, alpha=0.55, label="a trial's result")
    ax.step(xs, _running_best(facts, data), where="post", color="black", linewidth=1.2, label="best single run so far")
    if data.pruned:
        px, py = zip(*data.pruned, strict=True)
        ax.scatter(px, py, marker="x", s=14, color=FAINT, label="pruned (stopped early, partial result)")
    _champions(facts, ax, data, max(xs))
    _cases(facts, ax, data)
    if x_axis is not None:
        x_axis(ax)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return png(fig)


def _running_best(facts: Facts, data: Progress) -> list[float]:
    best, running = [], float("-inf")
    for _, s in data.done:
        running = max(running, s)
        best.append(facts.shown(running))
    return best


def _champions(facts: Facts, ax: Axes, data: Progress, end: float) -> None:
    if not data.promoted:
        return
    xs = [x for x, _, _ in data.promoted]
    ys = [facts.shown(s) for _, s, _ in data.promoted]
    label = "champion (promoted on evidence)"
    ax.step([*xs, max(end, xs[-1])], [*ys, ys[-1]], where="post", color=CHAMPION, linestyle="--", label=label)
    ax.scatter(xs, ys, marker="*", s=160, color=CHAMPION, edgecolor="black", zorder=3, label="promotion")
    for x, y, (_, _, gen) in zip(xs, ys, data.promoted, strict=True):
        ax.annotate(f"gen {gen}", (x, y), xytext=(4, -12), textcoords="offset points", fontsize=8)


LABEL_CASES_UP_TO = 12  # past this many, the state labels would overlap


def _cases(facts: Facts, ax: Axes, data: Progress) -> None:
    if not data.cases:
        return
    xs = [x for x, _, _ in data.cases]
    ys = [facts.shown(s) for _, s, _ in data.cases]
    label = "promotion case that did not promote (its state)"
    ax.scatter(xs, ys, s=70, facecolor="none", edgecolor=CHAMPION, linewidth=1.5, zorder=3, label=label)
    if len(data.cases) <= LABEL_CASES_UP_TO:
        for x, y, (_, _, state) in zip(xs, ys, data.cases, strict=True):
            ax.annotate(state, (x, y), xytext=(5, 5), textcoords="offset points", fontsize=8, color=CHAMPION)
