"""A small typed language of training-algorithm programs: update rules, learning-rate schedules and losses.

A program is a list of instructions ``out = op(arg, ...)`` run once per step (per parameter for an optimizer). An
argument is a variable or a number. Variables are the kind's inputs (an optimizer's gradient ``g``, its parameter
``p``, the step ``t``), the program's hyperparameters (``b1``, ``eps``, ...), its state slots (tensors like the
gradient that keep their value from one step to the next, zero at the first step) and temporaries defined by
earlier instructions. Every value is a tensor (``T``, shaped like the parameter or the batch) or a scalar (``S``);
an operation's result is a tensor when any argument is, and each operation states which argument types it takes.

Programs are plain JSON (a design's genes), so they are stored, diffed and hashed like any other design::

    {"kind": "optimizer", "hyper": {"lr": 0.001, "b1": 0.9}, "slots": ["m"],
     "body": [{"out": "m", "op": "interp", "args": ["m", "g", "b1"]}], "out": "m"}
"""

from __future__ import annotations

import dataclasses
import keyword
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

T, S = "T", "S"
Arg = str | float


@dataclass(frozen=True)
class Primitive:
    """One operation: how many arguments, which types each may have (``TS`` either, ``S`` scalar only), whether
    the result is a scalar whatever the arguments (a reduction), and how to compute it on Python floats."""

    name: str
    arity: int
    accepts: tuple[str, ...]  # per argument: "TS" or "S" or "T"
    scalar: Callable[..., float]
    doc: str
    reduces: bool = False  # tensor in, scalar out (e.g. rms)

    def result_type(self, types: tuple[str, ...]) -> str | None:
        """The result's type for these argument types, or None when they are not accepted."""
        if len(types) != self.arity or any(t not in ok for t, ok in zip(types, self.accepts, strict=True)):
            return None
        if self.reduces:
            return S
        return T if T in types else S


def _sign(x: float) -> float:
    return float((x > 0) - (x < 0))


def _interp(a: float, b: float, w: float) -> float:
    return w * a + (1 - w) * b


def _clip(x: float, c: float) -> float:
    return max(-abs(c), min(abs(c), x))


PRIMITIVES: dict[str, Primitive] = {
    p.name: p
    for p in (
        Primitive("add", 2, ("TS", "TS"), lambda a, b: a + b, "a + b"),
        Primitive("sub", 2, ("TS", "TS"), lambda a, b: a - b, "a - b"),
        Primitive("mul", 2, ("TS", "TS"), lambda a, b: a * b, "a * b"),
        Primitive("div", 2, ("TS", "TS"), lambda a, b: a / b, "a / b"),
        Primitive("maximum", 2, ("TS", "TS"), max, "elementwise max(a, b)"),
        Primitive("minimum", 2, ("TS", "TS"), min, "elementwise min(a, b)"),
        Primitive("neg", 1, ("TS",), lambda a: -a, "-a"),
        Primitive("abs", 1, ("TS",), abs, "|a|"),
        Primitive("sign", 1, ("TS",), _sign, "sign(a): -1, 0 or 1"),
        Primitive("sqrt", 1, ("TS",), lambda a: math.sqrt(abs(a)), "sqrt(|a|)"),
        Primitive("square", 1, ("TS",), lambda a: a * a, "a * a"),
        Primitive("exp", 1, ("TS",), math.exp, "e ** a"),
        Primitive("log", 1, ("TS",), lambda a: math.log(abs(a)), "log(|a|)"),
        Primitive("tanh", 1, ("TS",), math.tanh, "tanh(a)"),
        Primitive("cos", 1, ("TS",), math.cos, "cos(a)"),
        Primitive("interp", 3, ("TS", "TS", "S"), _interp, "w * a + (1 - w) * b: an exponential moving average"),
        Primitive("clip", 2, ("TS", "S"), _clip, "a clipped to [-|c|, |c|]"),
        Primitive("decay", 2, ("S", "S"), lambda b, t: b**t, "b ** t: exponential decay (bias corrections)"),
        Primitive("rms", 1, ("T",), abs, "sqrt(mean(a ** 2)): a tensor's root mean square", True),
    )
}


@dataclass(frozen=True)
class Kind:
    """What a program of this kind reads and must produce. ``inputs`` map names to types; ``output`` is the type of
    the program's result; ``slots`` whether it may keep state between steps; ``fixed`` hyperparameters that code
    outside the program uses (an optimizer's ``lr``), kept even when the program does not read them."""

    name: str
    inputs: Mapping[str, str]
    output: str
    slots: bool
    fixed: tuple[str, ...] = ()
    doc: str = ""


KINDS: dict[str, Kind] = {
    "optimizer": Kind(
        "optimizer",
        {"g": T, "p": T, "t": S},
        T,
        slots=True,
        fixed=("lr",),
        doc="per parameter and step: the direction d; the parameter moves by p <- p - lr * d",
    ),
    "schedule": Kind(
        "schedule",
        {"t": S, "total": S},
        S,
        slots=False,
        doc="the factor multiplying the base learning rate at step t (0-based) of total steps",
    ),
    "loss": Kind(
        "loss",
        {"logp": T, "prob": T, "logp_mean": T, "classes": S},
        T,
        slots=False,
        doc="per example: the loss from the true class's log-probability logp, its probability prob and the mean "
        "log-probability over classes logp_mean; the batch's loss is the mean",
    ),
}

MAX_INSTRUCTIONS = 24
MAX_SLOTS = 3
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
# Names the compiled code uses for itself (and Python's own words): no program variable may take them.
RESERVED = frozenset(
    {"loss", "closure", "group", "state", "self", "params", "torch", "math", "logits", "target", "logq"}
    | {"optimizer", "float", "abs", "max", "min", "super", "dict", "print"}
    | set(keyword.kwlist)
)


def valid_name(name: str) -> bool:
    return bool(name) and set(name) <= NAME_CHARS and not name[0].isdigit() and name not in RESERVED


@dataclass(frozen=True)
class Instruction:
    out: str
    op: str
    args: tuple[Arg, ...]

    def to_json(self) -> dict[str, Any]:
        return {"out": self.out, "op": self.op, "args": list(self.args)}


@dataclass(frozen=True)
class Program:
    """An immutable program; ``genes``/``from_genes`` convert to and from a design's JSON."""

    kind: str
    hyper: tuple[tuple[str, float], ...]
    slots: tuple[str, ...]
    body: tuple[Instruction, ...]
    out: Arg

    @property
    def hyper_dict(self) -> dict[str, float]:
        return dict(self.hyper)

    def genes(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "hyper": dict(self.hyper),
            "slots": list(self.slots),
            "body": [i.to_json() for i in self.body],
            "out": self.out,
        }

    @classmethod
    def from_genes(cls, genes: Mapping[str, Any]) -> Program:
        """Read a program from genes; ``ValueError`` names what is malformed (types only: see ``check``)."""
        try:
            body = tuple(
                Instruction(str(i["out"]), str(i["op"]), tuple(_arg(a) for a in i["args"])) for i in genes["body"]
            )
            hyper = tuple(sorted((str(k), float(v)) for k, v in dict(genes.get("hyper", {})).items()))
            slots = tuple(str(s) for s in genes.get("slots", []))
            return cls(str(genes["kind"]), hyper, slots, body, _arg(genes["out"]))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a program: missing or malformed {exc}") from None

    def with_(self, **changes: Any) -> Program:
        """A copy with some fields replaced (``hyper`` may be given as a dict)."""
        if isinstance(changes.get("hyper"), dict):
            changes["hyper"] = tuple(sorted(changes["hyper"].items()))
        return dataclasses.replace(self, **changes)


def _arg(value: Any) -> Arg:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError(f"argument {value!r}")
    return value if isinstance(value, str) else float(value)


def check(program: Program) -> None:
    """Raise ``ValueError`` naming the first problem: unknown kind or operation, wrong arity or types, a variable
    read before it is defined, a slot that is not a tensor, an output of the wrong type, or too long a program."""
    kind = KINDS.get(program.kind)
    if kind is None:
        raise ValueError(f"unknown program kind {program.kind!r} (known: {', '.join(KINDS)})")
    if len(program.body) > MAX_INSTRUCTIONS:
        raise ValueError(f"{len(program.body)} instructions; at most {MAX_INSTRUCTIONS}")
    if program.slots and not kind.slots:
        raise ValueError(f"a {kind.name} program keeps no state: slots {list(program.slots)} are not allowed")
    if len(program.slots) > MAX_SLOTS or len(set(program.slots)) != len(program.slots):
        raise ValueError(f"slots {list(program.slots)}: at most {MAX_SLOTS}, each named once")
    missing = [h for h in kind.fixed if h not in program.hyper_dict]
    if missing:
        raise ValueError(f"hyperparameter {missing[0]!r} is required for a {kind.name} program")
    types = _names(program, kind)
    for n, ins in enumerate(program.body):
        types[ins.out] = _instruction_type(ins, types, kind, program, n)
    out_type = _type_of(program.out, types, "the output")
    if out_type != kind.output:
        raise ValueError(
            f"the output {program.out!r} is {_word(out_type)}; a {kind.name} program must give {_word(kind.output)}"
        )


def _names(program: Program, kind: Kind) -> dict[str, str]:
    types: dict[str, str] = dict(kind.inputs)
    for name in [*program.hyper_dict, *program.slots]:
        if name in types or not valid_name(name):
            raise ValueError(f"name {name!r} is taken or not a lower-case identifier")
    types.update({h: S for h in program.hyper_dict})
    types.update({s: T for s in program.slots})
    return types


def _instruction_type(ins: Instruction, types: dict[str, str], kind: Kind, program: Program, n: int) -> str:
    where = f"instruction {n} ({ins.out} = {ins.op}(...))"
    prim = PRIMITIVES.get(ins.op)
    if prim is None:
        raise ValueError(f"{where}: unknown operation {ins.op!r}")
    arg_types = tuple(_type_of(a, types, where) for a in ins.args)
    result = prim.result_type(arg_types)
    if result is None:
        wanted = ", ".join(_word(a) for a in prim.accepts)
        raise ValueError(f"{where}: {ins.op} takes ({wanted}), got ({', '.join(_word(t) for t in arg_types)})")
    if ins.out in kind.inputs or ins.out in program.hyper_dict:
        raise ValueError(f"{where}: cannot assign to input or hyperparameter {ins.out!r}")
    if not valid_name(ins.out):
        raise ValueError(f"{where}: {ins.out!r} is not a lower-case identifier or is a reserved name")
    if ins.out in program.slots and result != T:
        raise ValueError(f"{where}: slot {ins.out!r} must hold a tensor, got a scalar")
    return result


def _type_of(arg: Arg, types: Mapping[str, str], where: str) -> str:
    if isinstance(arg, float):
        if not math.isfinite(arg):
            raise ValueError(f"{where}: constant {arg} is not finite")
        return S
    if arg not in types:
        raise ValueError(f"{where}: {arg!r} is read before it is defined")
    return types[arg]


def _word(t: str) -> str:
    return {"T": "tensor", "S": "scalar", "TS": "tensor or scalar"}.get(t, t)


def types_of(program: Program) -> dict[str, str]:
    """Every variable's type after the whole body (inputs, hyperparameters, slots, temporaries)."""
    types = _names(program, KINDS[program.kind])
    for ins in program.body:
        result = PRIMITIVES[ins.op].result_type(tuple(S if isinstance(a, float) else types[a] for a in ins.args))
        types[ins.out] = result or T
    return types


def render(program: Program) -> list[str]:
    """The program as readable lines, one instruction each: ``m = interp(m, g, b1)``."""
    return [f"{i.out} = {i.op}({', '.join(_show(a) for a in i.args)})" for i in program.body] + [
        f"return {_show(program.out)}"
    ]


def _show(arg: Arg) -> str:
    return f"{arg:g}" if isinstance(arg, float) else arg
