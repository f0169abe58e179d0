"""The commands through which people oversee a study: review, approve, reject, audit verify, reproduce, report."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from evoforge.cli._format import _num
from evoforge.storage import Attribution, Evidence


def add_commands(sub: Any, read_args: Any) -> None:
    review = sub.add_parser("review", help="promotions waiting for a person, with their evidence and diff")
    read_args(review)
    review.add_argument("--all", action="store_true", help="every promotion case, decided or not")
    for name, text in (("approve", "promote a pending challenger"), ("reject", "keep the champion")):
        p = sub.add_parser(name, help=text)
        read_args(p)
        p.add_argument("id", type=int, help="promotion number (evoforge review lists them)")
        p.add_argument("--by", required=True, help="who decides (recorded in the audit log)")
        p.add_argument("--comment", default=None, help="why (recorded in the audit log)")
    audit = sub.add_parser("audit", help="check the study's hash-chained audit log")
    read_args(audit)
    audit.add_argument("action", choices=["verify"])
    audit.add_argument("--head", default=None, help="a head hash kept from an earlier verify: catches a cut-off tail")
    rep = sub.add_parser("reproduce", help="re-run a trial and say whether its result matches")
    read_args(rep)
    rep.add_argument("trial", type=int, help="trial number")
    rep.add_argument("--tolerance", type=float, default=1e-6, help="largest absolute difference that matches")
    report = sub.add_parser("report", help="write an HTML report and a Markdown summary of a study")
    read_args(report)
    report.add_argument("--out", default=None, help="output folder (default: report-STUDY)")


COMMANDS = ("review", "approve", "reject", "audit", "reproduce", "report")


def run_command(args: argparse.Namespace, store: Any, study: Any) -> tuple[Any, str, int]:
    """(data for --json, text for people, exit code) of one oversight command."""
    if args.command == "review":
        from evoforge.study._review import review_view

        rows = review_view(store, study, every=args.all)
        return rows, format_review(rows, args.all), 0
    if args.command in ("approve", "reject"):
        from evoforge.study._review import decide

        case = decide(
            store,
            study,
            args.id,
            args.command + "d" if args.command == "approve" else "rejected",
            args.by,
            args.comment,
        )
        return asdict(case), format_decision(case), 0
    if args.command == "audit":
        from evoforge.oversight import verify_chain

        status = verify_chain(store, study, args.head)
        return asdict(status), format_chain(status), 0 if status.ok else 1
    if args.command == "reproduce":
        from evoforge.study._reproduce import reproduce

        result = reproduce(store, study, args.trial, args.tolerance)
        return result, format_reproduction(result), 0 if result["matches"] else 1
    from evoforge.report import write_report

    paths = write_report(store, study, args.out or f"report-{study.name}")
    return [str(p) for p in paths], "\n".join(f"wrote {p}" for p in paths), 0


def format_evidence(e: Evidence | None) -> str:
    if e is None:
        return "evidence: not gathered yet"
    seeds = len(e.seeds)
    metric = e.metric or "score"
    where = f"measured on the {e.held_out}"
    if e.founding:
        interval = f" [{e.ci[0]:.4f}, {e.ci[1]:.4f}]" if e.ci else ""
        return f"evidence: founding design, {metric} {_num(e.mean)}{interval} over {seeds} seeds ({where})"
    if not e.compared:
        return f"evidence: inconclusive ({e.why or 'no paired results'})"
    assert e.mean_diff is not None and e.level is not None
    low, high = e.ci or (e.mean_diff, e.mean_diff)
    verdict = "significant" if e.significant else "NOT significant"
    inputs = f" x {e.test_inputs} held-out inputs" if e.test_inputs else ""
    gain = "decrease" if e.direction == "min" else "gain"
    values = (
        f"; held-out {metric} {_num(e.champion_held_out)} -> {_num(e.challenger_held_out)}"
        if e.challenger_held_out is not None
        else ""
    )
    return (
        f"evidence: {metric} {gain} {e.mean_diff:+.4f} [{low:+.4f}, {high:+.4f}] ({100 * (1 - e.level):.0f}% "
        f"CI; {e.test or 'paired t'}, {e.n} seeds{inputs}; p={_num(e.p_value)}) -> {verdict}{values}; {where}"
    )


def format_attribution(a: Attribution | None) -> list[str]:
    if a is None:
        return []
    lines = [f"attribution ({a.method}, {len(a.seeds)} seeds):"]
    for row in a.changes:
        c = row.contribution
        if c is None:
            lines.append(f"  {row.change:<52} {row.effect}")
            continue
        ci = c.ci or (c.mean, c.mean)
        flag = "  <- flagged" if row.flagged else ""
        lines.append(f"  {row.change:<52} {c.mean:+.4f} [{ci[0]:+.4f}, {ci[1]:+.4f}]  {row.effect}{flag}")
    if a.simpler is not None:
        lines.append(f"  simpler variant proposed: without {', '.join(a.simpler_drops)}")
    return lines


def format_review(rows: list[dict[str, Any]], every: bool) -> str:
    if not rows:
        return "no promotions" if every else "no promotion is waiting for a decision"
    out = []
    for r in rows:
        champ = r["champion"]
        against = f"champion gen {champ['generation']} (trial #{champ['trial']})" if champ else "no champion yet"
        out.append(
            f"promotion {r['promotion']}  [{r['state']}]  trial #{r['trial']} (design {r['design']}) vs {against}"
        )
        out.extend(f"  change: {line}" for line in r["diff"])
        out.append("  " + format_evidence(r["evidence"]))
        out.extend("  " + line for line in format_attribution(r["attribution"]))
        if r["decided_by"]:
            comment = f": {r['comment']}" if r["comment"] else ""
            out.append(f"  decided by {r['decided_by']}{comment}")
        elif r["state"] == "pending":
            n = r["promotion"]
            out.append(f"  decide: evoforge approve {n} --by NAME   |   evoforge reject {n} --by NAME")
        out.append("")
    return "\n".join(out).rstrip()


def format_decision(case: Any) -> str:
    if case.state == "approved":
        return f"promotion {case.number} approved by {case.decided_by}: trial #{case.trial_number} is the new champion"
    return f"promotion {case.number} rejected by {case.decided_by}: the champion stays"


def format_chain(status: Any) -> str:
    if status.ok:
        return f"audit chain of study {status.study!r}: {status.events} events, intact\nhead {status.head}"
    return f"audit chain of study {status.study!r} is BROKEN: {status.problem}"


def format_reproduction(r: dict[str, Any]) -> str:
    verdict = "MATCHES" if r["matches"] else "DOES NOT MATCH"
    lines = [f"trial #{r['trial']} (seed {r['seed']}) re-run: {verdict} within {r['tolerance']:g}"]
    for m in r["metrics"]:
        mark = ("ok" if m["ok"] else "DIFFERS") if m["judged"] else "measured, not judged"
        lines.append(f"  {m['metric']:<20} {_num(m['recorded']):>12} -> {_num(m['now']):>12}  {mark}")
    changed = [e for e in r["environment"] if not e["same"]]
    for e in changed:
        lines.append(f"  environment: {e['what']} was {e['then']}, now {e['now']}")
    if not changed:
        lines.append("  environment: same code hash, device and package versions")
    return "\n".join(lines)
