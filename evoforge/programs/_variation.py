"""Mutation and crossover of programs. Each operator returns a valid program (checked) or None when it does not
apply or could not make a valid change; the search space retries with another draw."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from evoforge.programs._language import (
    KINDS,
    MAX_INSTRUCTIONS,
    MAX_SLOTS,
    PRIMITIVES,
    RESERVED,
    Arg,
    Instruction,
    Program,
    S,
    T,
    check,
)

Operator = Callable[[Program, random.Random], "tuple[Program, str] | None"]


def _valid(program: Program) -> bool:
    try:
        check(program)
    except ValueError:
        return False
    return True


def _defined(program: Program, upto: int) -> dict[str, str]:
    """The variables readable before instruction ``upto`` and their types."""
    kind = KINDS[program.kind]
    types: dict[str, str] = dict(kind.inputs)
    types.update({h: S for h in program.hyper_dict})
    types.update({s: T for s in program.slots})
    for ins in program.body[:upto]:
        arg_types = tuple(S if isinstance(a, float) else types[a] for a in ins.args)
        types[ins.out] = PRIMITIVES[ins.op].result_type(arg_types) or T
    return types


def _fresh(program: Program) -> str:
    taken = {ins.out for ins in program.body} | set(program.slots) | set(program.hyper_dict)
    n = 0
    while f"x{n}" in taken or f"x{n}" in RESERVED:
        n += 1
    return f"x{n}"


def _random_arg(types: dict[str, str], wanted: str, rng: random.Random) -> Arg:
    names = [n for n, t in types.items() if t in wanted]
    if S in wanted and (not names or rng.random() < 0.2):
        return rng.choice([0.5, 1.0, 2.0, 0.1, 0.9, 0.999, 1e-8])
    return rng.choice(names) if names else 1.0


def _tweak(value: float, rng: random.Random) -> float:
    """A multiplicative step for positive numbers; numbers in (0, 1) move their distance to 1 (a decay rate)."""
    if 0.0 < value < 1.0 and rng.random() < 0.5:
        return 1.0 - (1.0 - value) * math.exp(rng.gauss(0.0, 0.7))
    if value == 0.0:
        return rng.choice([1e-4, 1e-2, 0.1])
    return value * math.exp(rng.gauss(0.0, 0.7))


def tweak_hyper(program: Program, rng: random.Random) -> tuple[Program, str] | None:
    if not program.hyper:
        return None
    name, value = rng.choice(program.hyper)
    new = float(f"{_tweak(value, rng):.4g}")
    if new == value or not 0.0 < abs(new) < 1e6:
        return None
    return program.with_(hyper={**program.hyper_dict, name: new}), f"{name}: {value:g} -> {new:g}"


def tweak_constant(program: Program, rng: random.Random) -> tuple[Program, str] | None:
    spots = [(n, k) for n, ins in enumerate(program.body) for k, a in enumerate(ins.args) if isinstance(a, float)]
    if not spots:
        return None
    n, k = rng.choice(spots)
    ins = program.body[n]
    old = float(ins.args[k])
    new = float(f"{_tweak(old, rng) * (-1 if rng.random() < 0.1 else 1):.4g}")
    args = ins.args[:k] + (new,) + ins.args[k + 1 :]
    return _replace(program, n, Instruction(ins.out, ins.op, args)), f"instruction {n}: constant {old:g} -> {new:g}"


def change_op(program: Program, rng: random.Random) -> tuple[Program, str] | None:
    if not program.body:
        return None
    n = rng.randrange(len(program.body))
    ins = program.body[n]
    same = [p for p in PRIMITIVES.values() if p.arity == len(ins.args) and p.name != ins.op]
    if not same:
        return None
    op = rng.choice(same).name
    child = _replace(program, n, Instruction(ins.out, op, ins.args))
    return (child, f"instruction {n}: {ins.op} -> {op}") if _valid(child) else None


def change_arg(program: Program, rng: random.Random) -> tuple[Program, str] | None:
    if not program.body:
        return None
    n = rng.randrange(len(program.body))
    ins = program.body[n]
    k = rng.randrange(len(ins.args))
    new = _random_arg(_defined(program, n), PRIMITIVES[ins.op].accepts[k], rng)
    if new == ins.args[k]:
        return None
    child = _replace(program, n, Instruction(ins.out, ins.op, ins.args[:k] + (new,) + ins.args[k + 1 :]))
    return (child, f"instruction {n}: argument {k} {ins.args[k]} -> {new}") if _valid(child) else None


def insert(program: Program, rng: random.Random) -> tuple[Program, str] | None:
    """A new instruction applied to a value, and a later reader of that value (or the output) reads it instead,
    so the new instruction is live."""
    if len(program.body) >= MAX_INSTRUCTIONS:
        return None
    n = rng.randint(0, len(program.body))
    types = _defined(program, n)
    prim = rng.choice(list(PRIMITIVES.values()))
    args = tuple(_random_arg(types, a, rng) for a in prim.accepts)
    if not any(isinstance(a, str) for a in args):
        return None
    name = _fresh(program)
    body = [*program.body[:n], Instruction(name, prim.name, args), *program.body[n:]]
    source = next(a for a in args if isinstance(a, str))
    readers = [(i, k) for i in range(n + 1, len(body)) for k, a in enumerate(body[i].args) if a == source]
    child = program.with_(body=tuple(body))
    if readers:
        i, k = rng.choice(readers)
        ins = body[i]
        body[i] = Instruction(ins.out, ins.op, ins.args[:k] + (name,) + ins.args[k + 1 :])
        child = program.with_(body=tuple(body))
    elif program.out == source or rng.random() < 0.5:
        child = child.with_(out=name)
    why = f"inserted {name} = {prim.name}({', '.join(str(a) for a in args)}) at {n}"
    return (child, why) if _valid(child) else None


def delete(program: Program, rng: random.Random) -> tuple[Program, str] | None:
    """Remove an instruction; what read its result reads one of its arguments of the same type instead."""
    if not program.body:
        return None
    n = rng.randrange(len(program.body))
    ins = program.body[n]
    types = _defined(program, n + 1)
    same = [a for a in ins.args if isinstance(a, str) and types.get(a) == types[ins.out]]
    if ins.out in program.slots:
        child = program.with_(body=program.body[:n] + program.body[n + 1 :])
    elif not same:
        return None
    else:
        child = _rename_reads(program, n, rng.choice(same))
    return (child, f"deleted instruction {n} ({ins.out} = {ins.op}(...))") if _valid(child) else None


def _rename_reads(program: Program, n: int, by: str) -> Program:
    gone = program.body[n].out
    body = list(program.body[:n])
    renaming = True
    for ins in program.body[n + 1 :]:
        args = tuple(by if renaming and a == gone else a for a in ins.args)
        body.append(Instruction(ins.out, ins.op, args))
        if ins.out == gone:
            renaming = False  # reassigned: later reads see the new value
    out = by if renaming and program.out == gone else program.out
    return program.with_(body=tuple(body), out=out)


def add_slot(program: Program, rng: random.Random) -> tuple[Program, str] | None:
    """A new moving average of a tensor, mixed into the output: momentum-like state."""
    if not KINDS[program.kind].slots or len(program.slots) >= MAX_SLOTS or len(program.body) + 2 > MAX_INSTRUCTIONS:
        return None
    name = next(f"s{i}" for i in range(MAX_SLOTS + len(program.slots) + 1) if f"s{i}" not in program.slots)
    beta = next(f"beta{i}" for i in range(10) if f"beta{i}" not in program.hyper_dict)
    n = rng.randint(0, len(program.body))
    tensors = [v for v, t in _defined(program, n).items() if t == T]
    source = rng.choice(tensors)
    body = list(program.body)
    body.insert(n, Instruction(name, "interp", (name, source, beta)))
    child = program.with_(
        slots=(*program.slots, name), hyper={**program.hyper_dict, beta: rng.choice([0.9, 0.99, 0.5])}, body=tuple(body)
    )
    mixed = _mix_into_output(child, name, rng)
    return (mixed, f"added slot {name} = interp({name}, {source}, {beta})") if mixed and _valid(mixed) else None


def _mix_into_output(program: Program, value: str, rng: random.Random) -> Program | None:
    """Combine ``value`` into the output: out = op(out, value) with a tensor-safe operation."""
    if len(program.body) >= MAX_INSTRUCTIONS or not isinstance(program.out, str):
        return None
    name = _fresh(program)
    op = rng.choice(["add", "mul", "sub", "maximum"])
    return program.with_(body=(*program.body, Instruction(name, op, (program.out, value))), out=name)


def _replace(program: Program, n: int, ins: Instruction) -> Program:
    return program.with_(body=program.body[:n] + (ins,) + program.body[n + 1 :])


OPERATORS: dict[str, Operator] = {
    "tweak_hyper": tweak_hyper,
    "tweak_constant": tweak_constant,
    "change_op": change_op,
    "change_arg": change_arg,
    "insert": insert,
    "delete": delete,
    "add_slot": add_slot,
}


def crossover(a: Program, b: Program, rng: random.Random) -> tuple[Program, str] | None:
    """One-point crossover: ``a``'s first instructions, then ``b``'s last ones; reads of variables the child does
    not define are redirected to a defined variable of the same type, and the child returns ``b``'s output if it is
    defined (else ``a``'s). Slots and hyperparameters are the union (``a``'s values win). None if no valid child."""
    if a.kind != b.kind:
        return None
    for _ in range(10):
        i, j = rng.randint(0, len(a.body)), rng.randint(0, len(b.body))
        slots = tuple(dict.fromkeys((*a.slots, *b.slots)))
        if len(slots) > MAX_SLOTS or i + len(b.body) - j > MAX_INSTRUCTIONS:
            continue
        head = a.with_(slots=slots, hyper={**b.hyper_dict, **a.hyper_dict}, body=a.body[:i])
        child = _graft(head, b.body[j:], b.out, a.out, rng)
        if child is not None and _valid(child):
            return child, f"first {i} instructions of one parent, last {len(b.body) - j} of the other"
    return None


def _graft(
    child: Program, tail: tuple[Instruction, ...], out: Arg, fallback: Arg, rng: random.Random
) -> Program | None:
    body = list(child.body)
    for ins in tail:
        types = _defined(child.with_(body=tuple(body)), len(body))
        prim = PRIMITIVES[ins.op]
        args = tuple(
            a if isinstance(a, float) or types.get(a, "?") in want else _random_arg(types, want, rng)
            for a, want in zip(ins.args, prim.accepts, strict=True)
        )
        body.append(Instruction(ins.out, ins.op, args))
    grown = child.with_(body=tuple(body))
    types = _defined(grown, len(body))
    for candidate in (out, fallback):
        if isinstance(candidate, float) or candidate in types:
            return grown.with_(out=candidate)
    return None
