from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evoforge._errors import EvoforgeError
from evoforge.cli._oversight import COMMANDS, add_commands, run_command
from evoforge.storage import TRIAL_STATES

DEFAULT_STORAGE = "sqlite:///evoforge.db"


def _read_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--storage", default=DEFAULT_STORAGE, help=f"SQLAlchemy URL (default {DEFAULT_STORAGE})")
    p.add_argument("--study", default=None, help="study name (optional when the store holds one study)")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")


def _run_args(p: argparse.ArgumentParser, storage: str) -> None:
    p.add_argument("--storage", default=storage, help=f"SQLAlchemy URL (default {storage})")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: the machine's cores; 0 runs trials in this process)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="evoforge", description="AI that designs improved versions of AI models.")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run or resume the study a goal file describes")
    run.add_argument("goal", help="goal file (YAML)")
    _run_args(run, DEFAULT_STORAGE)
    where = "where trials run: local, ray (pip install evoforge[ray]), or an Executor class as package.module:Class"
    run.add_argument("--executor", default="local", help=where)
    run.add_argument("--address", default=None, help="with --executor ray: the cluster to join (default: start one)")
    standby = "if another coordinator runs the study, wait and take over when it stops or dies (instead of refusing)"
    run.add_argument("--standby", action="store_true", help=standby)
    demo = sub.add_parser("demo", help="evolve a digits classifier from a weak start (a few minutes on 2 cores)")
    _run_args(demo, "sqlite:///evoforge-demo.db")
    demo.add_argument("--trials", type=int, default=60)
    for name, text in (
        ("status", "where a study stands"),
        ("lineage", "generations and what changed"),
        ("trials", "every trial of a study"),
    ):
        _read_args(sub.add_parser(name, help=text))
    sub.choices["trials"].add_argument("--state", default=None, choices=TRIAL_STATES, help="only trials in this state")
    meta = sub.add_parser("meta", help="tune the search's own settings on benchmark problems; save a profile")
    _run_args(meta, "sqlite:///evoforge-meta.db")
    meta.add_argument("--save", required=True, help="profile name to save (a goal selects it: search: {profile: NAME})")
    meta.add_argument(
        "--out", default=None, help="folder for the profile (default $EVOFORGE_PROFILES or ~/.evoforge/profiles)"
    )
    meta.add_argument("--trials", type=int, default=40, help="profiles to try")
    meta.add_argument("--problems", default="nb201-val200,nb201-val12,nb201-small", help="comma-separated")
    meta.add_argument("--runs", type=int, default=8, help="inner searches per problem and profile")
    meta.add_argument("--queries", type=int, default=100, help="queries per inner search")
    meta.add_argument("--seed", type=int, default=0)
    meta.add_argument("--finalists", type=int, default=5, help="best trials re-scored on fresh seeds before choosing")
    meta.add_argument("--data", default="data/nasbench201/nb201_cifar10.csv.gz", help="NAS-Bench-201 table")
    add_commands(sub, _read_args)
    export = sub.add_parser("export", help="write the champion as standalone PyTorch source, weights and a card")
    _read_args(export)
    export.add_argument("--out", required=True, help="output folder")
    return p


def _print(data: Any, as_json: bool, text: str) -> None:
    print(json.dumps(data, indent=2, default=_json_value) if as_json else text)


def _json_value(value: Any) -> Any:
    """Typed records (evidence, attribution) as the JSON the store keeps; anything else as text."""
    to_dict = getattr(value, "to_dict", None)
    return to_dict() if callable(to_dict) else str(value)


def _cmd_run(args: argparse.Namespace, goal: Any) -> int:
    from evoforge.cli._format import format_lineage, format_status
    from evoforge.cli._oversight import format_review
    from evoforge.storage import Store
    from evoforge.study import find_study, lineage_view, run_study, status_view
    from evoforge.study._review import review_view

    executor, address = getattr(args, "executor", "local"), getattr(args, "address", None)  # `run` has them
    standby = getattr(args, "standby", False)
    report = run_study(
        goal, args.storage, args.workers, quiet=args.quiet, executor=executor, address=address, standby=standby
    )
    store = Store(args.storage)
    study = find_study(store, report.study)
    print(f"stopped: {report.stopped_because}")
    print(format_lineage(lineage_view(store, study)))
    print()
    print(format_status(status_view(store, study)))
    cases = review_view(store, study, every=True)
    if cases:  # end with the evidence behind the latest promotion decision
        states = Counter(c["state"] for c in cases)
        tally = ", ".join(f"{n} {state}" for state, n in states.most_common())
        print(f"\npromotion cases: {tally} (evoforge review --all shows each with its evidence)")
        decided = [c for c in cases if c["state"] != "declined"] or cases
        print(format_review(decided[-1:], every=True))
    return 0


def _cmd_read(args: argparse.Namespace) -> int:
    from evoforge.cli._format import format_lineage, format_status, format_trials
    from evoforge.export import export_champion
    from evoforge.goal import goal_from_json
    from evoforge.storage import Store
    from evoforge.study import find_study, lineage_view, proposal_infos, status_view, trial_row

    store = Store(args.storage, create=False)
    study = find_study(store, args.study)
    if args.command in COMMANDS:
        data, text, code = run_command(args, store, study)
        _print(data, args.json, text)
        return code
    if args.command == "status":
        view = status_view(store, study)
        _print(view, args.json, format_status(view))
    elif args.command == "lineage":
        view = lineage_view(store, study)
        _print(view, args.json, format_lineage(view))
    elif args.command == "trials":
        infos = proposal_infos(store, study.id)
        trials = store.trials(study.id, states=[args.state] if args.state else None)
        rows = [trial_row(t, infos.get(t.number)) for t in trials]
        metric = next(iter(goal_from_json(study.goal_json).objectives))
        _print(rows, args.json, format_trials(rows, metric))
    else:
        paths = export_champion(store, study, args.out)
        _print([str(p) for p in paths], args.json, "\n".join(f"wrote {p}" for p in paths))
    return 0


def _cmd_meta(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    from evoforge.meta import run_meta
    from evoforge.meta._run import command_line

    if args.finalists < 1:
        raise EvoforgeError(f"--finalists: expected 1 or more, got {args.finalists}")
    path, profile = run_meta(
        args.save,
        storage=args.storage,
        path=args.data,
        problems=[p for p in args.problems.split(",") if p],
        runs=args.runs,
        queries=args.queries,
        trials=args.trials,
        seed=args.seed,
        workers=args.workers,
        out=args.out,
        command=command_line(sys.argv[1:] if argv is None else argv),
        quiet=args.quiet,
        finalists=args.finalists,
    )
    t = profile.tuning
    print(f"profile {profile.name!r} saved to {path}")
    print("  finalists (meta_score on the tuning seeds, on fresh seeds, pooled):")
    for row in t["finalists"]:
        mark = "  <- chosen" if row["trial"] == t["trial"] else ""
        scores = f"{row['meta_score']:.4f}  {row['confirm_score']:.4f}  {row['pooled']:.4f}"
        print(f"    trial {row['trial']:>4}  {scores}{mark}")
    print(f"  chosen: trial {t['trial']}, held-out meta_score {t['held_out_meta_score']:.4f} (seeds no choice used)")
    print(f"  settings: {json.dumps(profile.settings)}")
    print(f"  a goal selects it with  search: {{profile: {profile.name}}}")
    return 0


def _import_from(goal_file: str) -> None:
    """Parts a goal names by import path (``task: {name: "mytasks:MyTask"}``, an objective ``"train:objective"``)
    are found in the goal file's folder and the working directory, as ``python script.py`` finds modules beside the
    script, then in installed packages; worker processes search the same folders."""
    for folder in (str(Path.cwd()), str(Path(goal_file).resolve().parent)):
        if folder not in sys.path:
            sys.path.insert(0, folder)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "run":
            from evoforge.goal import load_goal

            _import_from(args.goal)
            return _cmd_run(args, load_goal(args.goal))
        if args.command == "demo":
            from evoforge.cli._demo import demo_goal
            from evoforge.goal import goal_from_dict

            return _cmd_run(args, goal_from_dict(demo_goal(args.trials), "demo"))
        if args.command == "meta":
            return _cmd_meta(args, argv)
        return _cmd_read(args)
    except EvoforgeError as exc:
        print(f"evoforge: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nevoforge: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
