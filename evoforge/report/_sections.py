"""The report's sections as blocks: overview, plots, generations, audit chain and how to read it all. The
promotion cases are in _cases."""

from __future__ import annotations

from collections import Counter

from evoforge.report._cases import cases
from evoforge.report._document import Block, Bullets, Figure, Heading, Table, Text
from evoforge.report._facts import Facts, num, when

PARETO_FILE = "pareto_front.png"


def document(facts: Facts, figures: list[Figure]) -> list[Block]:
    return [
        *overview(facts),
        *plots(facts, figures),
        *generations(facts),
        *cases(facts),
        *audit(facts),
        *how_to_read(facts),
    ]


def overview(facts: Facts) -> list[Block]:
    goal, status = facts.goal, facts.status
    objectives = ", ".join(f"{k} ({v})" for k, v in goal.objectives.items())
    caps = [f"{k} {v:g}" for k, v in status["budget"].items() if v is not None and k != "trials"]
    counts = ", ".join(f"{n} {state}" for state, n in status["trials"].items() if n) or "none yet"
    rows = [
        ("task", status["task"]),
        ("objectives", f"{objectives}; the champion is judged on {goal.objective[0]}"),
        ("budget", f"{status['budget']['trials']} trials" + "".join(f", {c}" for c in caps)),
        ("trials", f"{sum(status['trials'].values())} in all: {counts}"),
        ("generations", _champion(facts)),
        *_front(facts),
        ("promotion cases", _case_counts(facts)),
        ("audit chain", "intact" if facts.chain.ok else "BROKEN (see below)"),
        ("report generated", when(facts.generated_at)),
    ]
    blocks: list[Block] = [Heading(1, f"Study {facts.study.name}"), Table(("", ""), tuple(rows))]
    waiting = [c["promotion"] for c in facts.cases if c["state"] == "pending"]
    if waiting:
        ids = ", ".join(str(n) for n in waiting)
        blocks.append(Text(f"Waiting for a person: promotion {ids} (see Promotion cases below).", alarm=True))
    return blocks


def _champion(facts: Facts) -> str:
    champ = facts.status["champion"]
    if champ is None:
        return "none yet: no design has been promoted"
    shown = ", ".join(f"{k} {num(v)}" for k, v in champ["metrics"].items())
    return (
        f"{len(facts.generations)}; the champion is generation {champ['generation']}, trial #{champ['trial']} "
        f"(design {champ['design']}): {shown}"
    )


def _front(facts: Facts) -> list[tuple[str, str]]:
    front = facts.status.get("front")
    if not front:
        return []
    n = len(front["members"])
    return [("Pareto front", f"{n} design{'s' if n != 1 else ''}, hypervolume {num(front['hypervolume'])}")]


def _case_counts(facts: Facts) -> str:
    counts = Counter(c["state"] for c in facts.cases)
    return f"{len(facts.cases)}" + (": " + ", ".join(f"{n} {s}" for s, n in counts.items()) if counts else "")


def plots(facts: Facts, figures: list[Figure]) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Plots")]
    blocks.extend(figures)
    if not any(f.file == PARETO_FILE for f in figures):
        only = facts.goal.objective[0]
        blocks.append(Text(f"No Pareto front plot: the goal has a single objective ({only})."))
    return blocks


def generations(facts: Facts) -> list[Block]:
    name = facts.goal.objective[0]
    headers = ("gen", "trial", "design", f"{name}, its run", f"{name}, held out", "reason")
    rows = tuple(
        (str(g["generation"]), f"#{g['trial']}", g["design"], num(g["score"]), num(g["held_out"]), g["reason"])
        for g in facts.lineage["generations"]
    )
    blocks: list[Block] = [Heading(2, "Generations")]
    if not rows:
        return [*blocks, Text("No generation yet: no design has been promoted.")]
    blocks += [
        Text(
            f"Each generation is a design promoted on evidence. {name}, its run: the promoted trial's own single "
            f"run; held out: the mean of its evidence retrainings on the held-out split (each case below says what "
            f"was measured there)."
        ),
        Table(headers, rows),
        Heading(3, "What changed at each step"),
    ]
    trials = {t.number: t for t in facts.trials}
    previous = None
    for g in facts.lineage["generations"]:
        found = trials.get(g["trial"])
        how = f" Proposed by {found.proposer}: {found.rationale}." if found and found.rationale else ""
        if previous is None:
            blocks.append(Text(f"Gen {g['generation']} (trial #{g['trial']}): the founding design.{how}"))
        else:
            n = len(g["changes"])
            head = f"Gen {g['generation']} (trial #{g['trial']}) from gen {previous['generation']} "
            blocks.append(Text(head + f"(trial #{previous['trial']}): {n} change{'s' if n != 1 else ''}.{how}"))
            blocks.append(Bullets(tuple(g["changes"]), code=True))
        previous = g
    return blocks


def audit(facts: Facts) -> list[Block]:
    chain = facts.chain
    if chain.ok:
        text = f"Intact: {chain.events} events, each linked to the one before by its hash. Head hash {chain.head}."
        return [Heading(2, "Audit chain"), Text(text)]
    text = f"BROKEN: {chain.problem}. The records above may have been altered after they were written."
    return [Heading(2, "Audit chain"), Text(text, alarm=True)]


def how_to_read(facts: Facts) -> list[Block]:
    level = facts.goal.oversight.level
    items = (
        "A trial trains and measures one design once. Its single result can be luck: a seed that happened to suit it.",
        f"A design becomes a new generation (the champion) only on evidence: it and the champion are retrained on "
        f"{facts.goal.oversight.seeds} shared seeds, measured on the held-out split, and the gain must be "
        f"significant (its {100 * (1 - level):.0f}% confidence interval lies above zero). That is why the best single "
        f"run can be higher than the champion.",
        "Attribution undoes each change of a challenger (or samples orders of making them) to show what each "
        "contributed; a flagged change showed no measurable gain and may be dropped.",
        "The audit chain links every recorded event to the one before it by a hash: an event edited, deleted or "
        "inserted afterwards breaks it. Keep the head hash elsewhere to detect a removed tail.",
        "Scores are shown as measured: for a minimized objective lower is better.",
    )
    return [Heading(2, "How to read this"), Bullets(items)]
