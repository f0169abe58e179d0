"""Simplification: the same function in fewer instructions, and one canonical form per function found this way.

Three rewrites, repeated until nothing changes: constant folding (an operation on numbers only becomes a number),
identities (``x * 1``, ``x + 0``, ``x / 1``, ``x - 0``, ``interp(a, b, 1)``, ``interp(a, b, 0)``) and dead-code
removal (instructions whose result never reaches the output, this step or through a slot the next). Unused slots and
hyperparameters go too (except the ones the kind always needs, like an optimizer's ``lr``). Every rewrite keeps the
program's output the same for every input, which the tests check numerically.
"""

from __future__ import annotations

import math

from evoforge.programs._language import KINDS, PRIMITIVES, Arg, Instruction, Program, S, check, types_of


def simplify(program: Program) -> Program:
    """An equivalent program with nothing dead, nothing constant left to fold and no identity operations."""
    current = program
    while True:
        nxt = _drop_dead(_fold(current))
        if nxt == current:
            return nxt
        current = nxt


def canonical(program: Program) -> Program:
    """The simplified program with temporaries renamed ``x0, x1, ...`` in order of definition: programs that differ
    only in dead code, foldable constants or temporary names get the same canonical form."""
    simple = simplify(program)
    kind = KINDS[simple.kind]
    keep = set(kind.inputs) | set(simple.hyper_dict) | set(simple.slots)
    names: dict[str, str] = {}
    body: list[Instruction] = []
    for ins in simple.body:
        args = tuple(names.get(a, a) if isinstance(a, str) else a for a in ins.args)
        if ins.out not in keep:
            names[ins.out] = f"x{len(body)}"  # a reassigned temporary gets a new name from here on
        body.append(Instruction(names.get(ins.out, ins.out), ins.op, args))
    out = names.get(simple.out, simple.out) if isinstance(simple.out, str) else simple.out
    return simple.with_(body=tuple(body), out=out)


def _fold(program: Program) -> Program:
    """Replace constant results and identities by what they equal, substituting the value into later reads."""
    subst: dict[str, Arg] = {}
    body: list[Instruction] = []
    types = types_of(program)
    for ins in program.body:
        args = tuple(subst.get(a, a) if isinstance(a, str) else a for a in ins.args)
        if ins.out in program.slots or _reassigned(program, ins.out):
            subst.pop(ins.out, None)
            body.append(Instruction(ins.out, ins.op, args))
            continue
        value = _constant(ins.op, args) if all(isinstance(a, float) for a in args) else _identity(ins.op, args)
        if value is not None and (isinstance(value, float) or _same_type(value, types, ins.out, program)):
            subst[ins.out] = value
            continue
        subst.pop(ins.out, None)
        body.append(Instruction(ins.out, ins.op, args))
    out = subst.get(program.out, program.out) if isinstance(program.out, str) else program.out
    if isinstance(out, float) and KINDS[program.kind].output != S:
        return program  # a tensor output cannot become a number: keep the instructions that make it
    return program.with_(body=tuple(body), out=out)


def _reassigned(program: Program, name: str) -> bool:
    return sum(ins.out == name for ins in program.body) > 1


def _same_type(arg: Arg, types: dict[str, str], out: str, program: Program) -> bool:
    # Replacing a tensor result by a scalar variable (or the other way round) would change what reads it; and a
    # variable that changes later (a slot, a reassigned temporary) would be read at the wrong time.
    stable = isinstance(arg, str) and arg not in program.slots and not _reassigned(program, arg)
    return stable and types.get(str(arg)) == types.get(out)


def _constant(op: str, args: tuple[Arg, ...]) -> float | None:
    try:
        value = float(PRIMITIVES[op].scalar(*args))
    except (ArithmeticError, ValueError):
        return None  # e.g. 1 / 0: left for the run to report
    return value if math.isfinite(value) else None


def _identity(op: str, args: tuple[Arg, ...]) -> Arg | None:
    a = args[0]
    b = args[1] if len(args) > 1 else None
    if op in ("mul", "div") and b == 1.0 or op in ("add", "sub") and b == 0.0:
        return a
    if op in ("mul", "add") and a == (1.0 if op == "mul" else 0.0):
        return b
    if op == "interp" and args[2] in (0.0, 1.0):
        return a if args[2] == 1.0 else b
    return None


def _drop_dead(program: Program) -> Program:
    """Keep the instructions whose result reaches the output now, or later through a slot."""
    live_slots: set[str] = set()
    while True:
        keep, read_slots = _live(program, live_slots)
        if read_slots <= live_slots:
            break
        live_slots |= read_slots
    body = tuple(ins for ins, k in zip(program.body, keep, strict=True) if k)
    used = {a for ins in body for a in ins.args if isinstance(a, str)} | {program.out}
    slots = tuple(s for s in program.slots if s in used)
    kind = KINDS[program.kind]
    hyper = {h: v for h, v in program.hyper if h in used or h in kind.fixed}
    simpler = program.with_(body=body, slots=slots, hyper=hyper)
    check(simpler)
    return simpler


def _live(program: Program, live_slots: set[str]) -> tuple[list[bool], set[str]]:
    needed: set[str] = {program.out} if isinstance(program.out, str) else set()
    needed |= live_slots  # a live slot's final value is read at the next step
    keep = [False] * len(program.body)
    for n in range(len(program.body) - 1, -1, -1):
        ins = program.body[n]
        if ins.out not in needed:
            continue
        keep[n] = True
        needed.discard(ins.out)
        needed |= {a for a in ins.args if isinstance(a, str)}
    # Slots still needed at the top of the step are read from the previous step: their writes must stay.
    return keep, {s for s in program.slots if s in needed or s in live_slots}
