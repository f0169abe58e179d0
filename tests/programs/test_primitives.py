"""Each primitive computes what its documentation says, on scalars (plain Python) and on tensors (torch)."""

from __future__ import annotations

import math

import pytest
import torch

from evoforge.programs import PRIMITIVES, Program, check, render
from evoforge.programs._language import S

EXPECTED = {  # name -> the documented formula on floats
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "maximum": max,
    "minimum": min,
    "neg": lambda a: -a,
    "abs": abs,
    "sign": lambda a: (a > 0) - (a < 0),
    "sqrt": lambda a: math.sqrt(abs(a)),
    "square": lambda a: a * a,
    "exp": math.exp,
    "log": lambda a: math.log(abs(a)),
    "tanh": math.tanh,
    "cos": math.cos,
    "interp": lambda a, b, w: w * a + (1 - w) * b,
    "clip": lambda a, c: max(-abs(c), min(abs(c), a)),
    "decay": lambda b, t: b**t,
}


def _program(kind: str, hyper: dict[str, float], body: list[tuple], out: str) -> Program:
    genes = {"kind": kind, "hyper": hyper, "slots": [], "out": out}
    genes["body"] = [{"out": o, "op": op, "args": list(args)} for o, op, *args in body]
    program = Program.from_genes(genes)
    check(program)
    return program


def test_every_primitive_has_a_documented_formula() -> None:
    assert set(PRIMITIVES) == set(EXPECTED) | {"rms"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_scalar_form_matches_the_formula(name: str, load) -> None:
    # A schedule is all scalars: each argument is a hyperparameter, compiled to plain Python.
    values = {"add": (1.5, -2.0), "interp": (3.0, -1.0, 0.25), "decay": (0.9, 3.0), "clip": (5.0, -2.0)}
    args = values.get(name, (0.7, 1.9)[: PRIMITIVES[name].arity])
    hyper = {f"a{i}": v for i, v in enumerate(args)}
    program = _program("schedule", hyper, [("f", name, *hyper)], "f")
    got = load(program).evolved_schedule(0, 10)
    assert got == pytest.approx(EXPECTED[name](*args), rel=1e-12)


@pytest.mark.parametrize("name", sorted(p for p in PRIMITIVES if "T" in PRIMITIVES[p].accepts[0]))
def test_tensor_form_matches_the_formula_elementwise(name: str, load) -> None:
    # An optimizer with lr 1 moves p by -d: d = op(g, p, w) is read back from the parameter's change.
    prim = PRIMITIVES[name]
    extra = ["p", "w"][: prim.arity - 1]
    if prim.arity == 2 and prim.accepts[1] == S:
        extra = ["w"]
    body: list[tuple] = [("d", name, "g", *extra)]
    if prim.reduces:
        body = [("r", name, "g"), ("d", "mul", "g", "r")]
    module = load(_program("optimizer", {"lr": 1.0, "w": 0.3}, body, "d"))
    torch.manual_seed(0)
    start = torch.randn(7) + 0.1
    param = torch.nn.Parameter(start.clone())
    grad = torch.randn(7)
    param.grad = grad.clone()
    module.EvolvedOptimizer([param]).step()
    d = start - param.detach()
    if prim.reduces:
        expected = grad * grad.square().mean().sqrt()
    else:
        args = {"p": start, "w": torch.full((7,), 0.3)}
        rows = zip(grad.tolist(), *(args[e].tolist() for e in extra), strict=True)
        expected = torch.tensor([EXPECTED[name](*row) for row in rows])
    torch.testing.assert_close(d, expected.float(), rtol=1e-5, atol=1e-6)


def test_programs_read_as_one_line_per_instruction() -> None:
    program = _program("schedule", {"b": 0.5}, [("x0", "decay", "b", "t"), ("f", "sub", 1.0, "x0")], "f")
    assert render(program) == ["x0 = decay(b, t)", "f = sub(1, x0)", "return f"]


@pytest.mark.parametrize(
    ("genes", "message"),
    [
        ({"body": [{"out": "d", "op": "nope", "args": ["g"]}]}, "unknown operation 'nope'"),
        ({"body": [{"out": "d", "op": "add", "args": ["g"]}]}, "add takes"),
        ({"body": [{"out": "d", "op": "neg", "args": ["zz"]}]}, "'zz' is read before it is defined"),
        ({"body": [{"out": "d", "op": "decay", "args": ["g", "t"]}]}, "decay takes (scalar, scalar)"),
        ({"body": [{"out": "g", "op": "neg", "args": ["g"]}]}, "cannot assign to input"),
        ({"body": [{"out": "loss", "op": "neg", "args": ["g"]}]}, "reserved"),
        ({"body": [{"out": "d", "op": "rms", "args": ["g"]}]}, "must give tensor"),
        ({"hyper": {}, "body": [{"out": "d", "op": "neg", "args": ["g"]}]}, "'lr' is required"),
    ],
)
def test_invalid_programs_are_refused_with_the_reason(genes: dict, message: str) -> None:
    base = {"kind": "optimizer", "hyper": {"lr": 0.1}, "slots": [], "out": "d"}
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check(Program.from_genes({**base, **genes}))
