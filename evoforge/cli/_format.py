"""Plain-text renderings of the study views."""

from __future__ import annotations

from typing import Any


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


# Shown after the study's objectives, when the champion has them.
COMMON_METRICS = (
    "val_accuracy",
    "val_loss",
    "params",
    "flops",
    "latency_ms",
    "peak_memory_mb",
    "energy_j",
    "train_time_s",
)


def format_status(view: dict[str, Any]) -> str:
    counts = ", ".join(f"{n} {state}" for state, n in view["trials"].items() if n)
    lines = [
        f"study       {view['study']}  (task {view['task']}, objectives "
        f"{', '.join(f'{k} {v}' for k, v in view['objectives'].items())})",
        f"trials      {counts or 'none'}  (budget {view['budget']['trials']})",
        f"generation  {_num(view['generation'])}",
    ]
    if view.get("sandbox"):
        lines.append(f"sandbox     {view['sandbox'].removeprefix('sandbox: ')}")
    cases = view.get("promotions") or {}
    if cases:
        tally = ", ".join(f"{n} {state}" for state, n in cases.items())
        waiting = " (a person decides: evoforge review)" if cases.get("pending") else ""
        lines.append(f"promotions  {tally}{waiting}")
    champ = view["champion"]
    if champ:
        m = champ["metrics"]
        lines.append(f"champion    trial #{champ['trial']}  design {champ['design']}")
        if champ.get("params"):
            lines.append("            params: " + ", ".join(f"{k}={_num(v)}" for k, v in champ["params"].items()))
        held = champ.get("held_out") or {}
        if held.get("value") is not None:
            lines.append(
                f"            held out: {held['metric']} {_num(held['value'])} "
                f"(mean of its evidence retrainings on the held-out split)"
            )
        shown = list(dict.fromkeys([*view["objectives"], *COMMON_METRICS]))
        estimated = set(champ.get("estimated", []))
        where = champ.get("measured_on") or {}
        if where:
            threads = f", {where['threads']} thread(s)" if str(where.get("device")) == "cpu" else ""
            lines.append(
                f"            measured on {where.get('device')}{threads}, latency batch {where.get('latency_batch')}"
            )
        lines.append(
            "            "
            + "  ".join(f"{k} {_num(m[k])}{' (estimated)' if k in estimated else ''}" for k in shown if k in m)
        )
    if view.get("front"):
        lines.append(format_front(view["front"]))
    if view.get("designer"):
        lines.append(format_designer(view["designer"]))
    return "\n".join(lines)


def _weights(arms: dict[str, Any], shown: int = 8) -> str:
    """Arms by weight, with how often their children beat their parents; past ``shown``, a count of the rest."""
    ranked = sorted(arms.items(), key=lambda kv: -kv[1]["weight"])
    text = ", ".join(f"{name} {a['weight']:.2f} ({a['wins']}/{a['uses']} beat parent)" for name, a in ranked[:shown])
    rest = ranked[shown:]
    if rest:
        text += f", and {len(rest)} more at {max(a['weight'] for _, a in rest):.2f} or less (--json lists all)"
    return text


def format_designer(d: dict[str, Any]) -> str:
    """The proposer's learned state: profile, predictor fit and rank correlation, route and operator weights."""
    lines = []
    head = f"designer    proposer {d.get('proposer') or '-'}"
    if d.get("profile"):
        head += f", profile {d['profile']}"
    if d.get("transfer_from"):
        head += f", warm-started from {', '.join(d['transfer_from'])}"
    lines.append(head)
    p = d.get("predictor")
    if p:
        extra = f", +{p['transferred_points']} transferred" if p.get("transferred_points") else ""
        lines.append(
            f"            predictor: {p['kind']} on {p['points']} results{extra}; "
            f"lengthscale {p['lengthscale']:g}, noise {p['noise']:g}"
        )
    rc = d.get("rank_correlation") or []
    if rc:
        shown = ", ".join("-" if c["spearman"] is None else f"{c['spearman']:+.2f}" for c in rc[-8:])
        mean = d.get("mean_rank_correlation")
        lines.append(
            f"            rank correlation, predicted vs measured, per {rc[0]['n']} trials (latest last): {shown}"
            + (f"; mean {mean:+.2f} over {len(rc)} batches" if mean is not None else "")
        )
    if d.get("routes"):
        lines.append(f"            routes: {_weights(d['routes'])}")
    if d.get("operators"):
        lines.append(f"            operators: {_weights(d['operators'])}")
    return "\n".join(lines)


def format_front(front: dict[str, Any]) -> str:
    names = list(front["objectives"])
    lines = [
        f"front       {len(front['members'])} non-dominated trials, hypervolume {front['hypervolume']:.6g}"
        + (
            "  (~est: an estimate, not a reading)"
            if any(set(names) & set(m.get("estimated", [])) for m in front["members"])
            else ""
        ),
        "            " + f"{'trial':>6}  {'design':<16}  " + "  ".join(f"{n:>14}" for n in names),
    ]
    for member in front["members"]:
        estimated = set(member.get("estimated", []))
        values = "  ".join(f"{_num(member['metrics'].get(n)) + ('~est' if n in estimated else ''):>14}" for n in names)
        lines.append("            " + f"{'#' + str(member['trial']):>6}  {member['design']:<16}  {values}")
    return "\n".join(lines)


def format_lineage(view: dict[str, Any]) -> str:
    if not view["generations"]:
        return f"study {view['study']}: no champion yet"
    lines = [f"Lineage of study {view['study']}: {len(view['generations'])} generations"]
    for g in view["generations"]:
        lines.append("")
        lines.append(
            f"generation {g['generation']}: trial #{g['trial']}  design {g['design']}  "
            f"{g['metric']} {g['score']:.4f} (its own run), {_num(g['held_out'])} held out"
        )
        lines.append(f"  why: {g['reason']}")
        path = " -> ".join(f"#{a['trial']}" + (f" {a['operator']}" if a["operator"] else "") for a in g["ancestry"])
        lines.append(f"  ancestry: {path}")
        for change in g["changes"]:
            lines.append(f"  changed: {change}")
    if view.get("front"):
        lines += ["", format_front(view["front"])]
    d = view.get("designer")
    if d and any(h["weights"] for h in d.get("operator_history", [])):  # proposers without operators (llm): none
        lines += ["", "Operator weights as the study learned them (after N results):"]
        names = sorted({k for h in d["operator_history"] for k in h["weights"]})
        lines.append(f"  {'after':>6}  " + "  ".join(f"{n[:16]:>16}" for n in names))
        for h in d["operator_history"]:
            cells = "  ".join(f"{_num(h['weights'].get(n)):>16}" for n in names)
            lines.append(f"  {h['after']:>6}  {cells}")
    return "\n".join(lines)


def format_trials(rows: list[dict[str, Any]], metric: str = "val_accuracy") -> str:
    """One line per trial; ``metric`` (the study's first objective) is the value column."""
    label = "val_acc" if metric == "val_accuracy" else metric[:10]
    header = f"{'#':>5}  {'state':<10} {'design':<16}  {label:>10}  {'params':>9}  {'time_s':>6}  operator / note"
    lines = [header]
    for r in rows:
        m = r["metrics"]
        note = r["operator"] or r["rationale"]
        if r["operator"] == "llm_edit":  # a language model's edit: its own one-line account of the change
            note = f"llm_edit: {r['rationale']}"
        if r["error"]:
            note = f"{note}: {r['error'].strip().splitlines()[-1][:80]}"
        lines.append(
            f"{r['trial']:>5}  {r['state']:<10} {r['design']:<16}  {_num(m.get(metric)):>10}  "
            f"{_num(m.get('params')):>9}  {_num(m.get('train_time_s')):>6}  {note}"
        )
    return "\n".join(lines)
