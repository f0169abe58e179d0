"""Each promotion case as blocks: what was proposed against which champion, the evidence, what each change
contributed, and who decided."""

from __future__ import annotations

from typing import Any

from evoforge.report._document import Block, Bullets, Heading, Table, Text
from evoforge.report._facts import Facts, interval, num, when
from evoforge.storage import Attribution, Evidence

MEANING = {
    "gathering": "evidence is still being gathered (retrainings on the evidence seeds)",
    "pending": "the evidence passed; waiting for a person to approve or reject",
    "promoted": "the evidence passed; promoted automatically",
    "approved": "the evidence passed; a person approved it, so it was promoted",
    "rejected": "the evidence passed, but a person rejected it: the champion stayed",
    "declined": "the evidence did not show a significant gain: the champion stayed",
}


def cases(facts: Facts) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Promotion cases")]
    if not facts.cases:
        return [*blocks, Text("No promotion case yet: no trial has beaten the champion's single run.")]
    for case in facts.cases:
        blocks.extend(_case(facts, case))
    return blocks


def _case(facts: Facts, c: dict[str, Any]) -> list[Block]:
    champ = c["champion"]
    against = f"champion gen {champ['generation']} (trial #{champ['trial']})" if champ else "no champion (founding)"
    blocks: list[Block] = [
        Heading(3, f"Promotion {c['promotion']}: trial #{c['trial']} - {c['state']}"),
        Text(
            f"Trial #{c['trial']} (design {c['design']}) against {against}. State: {c['state']}: "
            f"{_meaning(c)}. Route: {c['route'] or _no_route(c['state'])}."
        ),
    ]
    if c["diff"]:
        blocks += [Text("Changes against the champion:"), Bullets(tuple(c["diff"]), code=True)]
    blocks += _evidence(facts, c["evidence"])
    blocks += _attribution(c["attribution"])
    blocks.append(_decision(c))
    return blocks


def _meaning(c: dict[str, Any]) -> str:
    why = c["evidence"].why if c["evidence"] is not None else None
    if c["state"] == "declined" and why:
        return f"no evidence could be gathered ({why})"
    if c["state"] == "declined" and c["champion"] is None:
        return "the founding design's evidence did not pass"
    return MEANING.get(c["state"], c["state"])


def _no_route(state: str) -> str:
    return "none (declined on the evidence, so nobody had to decide)" if state == "declined" else "not decided yet"


def _evidence(facts: Facts, e: Evidence | None) -> list[Block]:
    if e is None:
        return [Text("Evidence: not gathered yet.")]
    level = e.level if e.level is not None else facts.goal.oversight.level
    ci = f"{100 * (1 - level):.0f}% confidence interval"
    seeds = str(len(e.seeds))
    metric = e.metric or "score"
    if e.founding:
        rows = [(f"{metric}, mean", num(e.mean)), (ci, interval(e.ci)), ("seeds", seeds)]
    elif not e.compared:
        rows = [("result", f"inconclusive: {e.why or 'no paired results'}"), ("seeds", seeds)]
    else:
        gain = "decrease" if e.direction == "min" else "difference (challenger - champion)"
        rows = [
            (f"held-out {metric} {gain}, mean", num(e.mean_diff, signed=True)),
            (ci, interval(e.ci, signed=True)),
            ("paired seeds", str(e.n if e.n is not None else seeds)),
            *([("paired held-out inputs", str(e.test_inputs))] if e.test_inputs else []),
            ("test", e.test or "paired t"),
            ("p-value", f"{e.p_value:.3g}" if e.p_value is not None else "-"),
            ("significant", "yes" if e.significant else "no"),
        ]
    if e.founding or e.champion_held_out is None:
        rows.append((f"held-out {metric}", num(e.challenger_held_out)))
    else:
        rows.append(
            (
                f"held-out {metric}: champion -> challenger",
                f"{num(e.champion_held_out)} -> {num(e.challenger_held_out)}",
            )
        )
    return [Text(f"Evidence, measured on the {e.held_out}:"), Table(("", ""), tuple(rows))]


def _attribution(a: Attribution | None) -> list[Block]:
    if a is None:
        return []
    rows = []
    for r in a.changes:
        c = r.contribution
        mean, ci = (num(c.mean, signed=True), interval(c.ci, signed=True)) if c else ("-", "-")
        rows.append((r.change, mean, ci, r.effect, "yes" if r.flagged else ""))
    headers = ("change", "contribution, mean", f"{100 * (1 - a.level):.0f}% interval", "effect", "flagged")
    blocks: list[Block] = [
        Text(f"Attribution ({a.method}, {len(a.seeds)} seeds): what each change added to the held-out score."),
        Table(headers, tuple(rows)),
    ]
    if a.simpler is not None:
        drops = ", ".join(a.simpler_drops)
        blocks.append(Text(f"A simpler variant was proposed: the challenger without {drops}."))
    return blocks


def _decision(c: dict[str, Any]) -> Block:
    if c["decided_by"] == "auto":
        return Text(f"Decision: promoted automatically on {when(c['decided_at'])}, no person needed.")
    if c["decided_by"]:
        comment = f' Comment: "{c["comment"]}"' if c["comment"] else ""
        return Text(f"Decision: {c['state']} by {c['decided_by']} on {when(c['decided_at'])}.{comment}")
    if c["state"] == "pending":
        n = c["promotion"]
        return Text(
            f"Decision: none yet. Decide with: evoforge approve {n} --by NAME, or evoforge reject {n} --by NAME"
        )
    if c["state"] == "declined":
        return Text("Decision: declined by the gate, no person needed (the gain was not significant).")
    return Text("Decision: none yet (the evidence is still being gathered).")
