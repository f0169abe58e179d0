"""Mutation, crossover and simplification: every child is a valid program; simplification keeps behaviour."""

from __future__ import annotations

import random

import pytest
import torch

from evoforge.programs import OPERATORS, Program, canonical, check, crossover, seed_program, simplify


def _population(n: int, seed: int = 0) -> list[Program]:
    """Programs grown from the seeds by random operators: a varied set with dead code and constants."""
    rng = random.Random(seed)
    programs = [seed_program(s) for s in ("sgd", "momentum", "adam", "adamw", "lion")]
    while len(programs) < n:
        made = OPERATORS[rng.choice(list(OPERATORS))](rng.choice(programs), rng)
        if made is not None:
            programs.append(made[0])
    return programs


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_each_mutation_operator_keeps_programs_valid(name: str) -> None:
    rng = random.Random(name)
    made = 0
    for program in _population(120):
        child = OPERATORS[name](program, rng)
        if child is not None:
            check(child[0])  # raises if invalid
            assert child[0] != program and child[1]
            made += 1
    assert made > 10  # the operator applies to many programs, not only in theory


def test_crossover_keeps_programs_valid_and_mixes_both_parents() -> None:
    rng = random.Random(5)
    programs = _population(80)
    mixed = 0
    for _ in range(300):
        a, b = rng.sample(programs, 2)
        child = crossover(a, b, rng)
        if child is None:
            continue
        check(child[0])
        ops = {i.op for i in child[0].body}
        mixed += bool(ops - {i.op for i in a.body}) and bool(ops - {i.op for i in b.body}) or 0
    assert mixed > 0


def test_crossover_refuses_programs_of_different_kinds() -> None:
    assert crossover(seed_program("adam"), seed_program("cosine"), random.Random(0)) is None


def _updates(program: Program, load, steps: int = 6) -> list[torch.Tensor]:
    module = load(program)
    p = torch.nn.Parameter(torch.linspace(-1.0, 2.0, 9))
    optimizer = module.EvolvedOptimizer([p])
    gen = torch.Generator().manual_seed(0)
    out = []
    for _ in range(steps):
        p.grad = torch.randn(9, generator=gen)
        optimizer.step()
        out.append(p.detach().clone())
    return out


def test_simplification_preserves_behaviour_of_random_programs(load) -> None:
    checked = 0
    for program in _population(150, seed=3)[5:]:
        simple = simplify(program)
        check(simple)
        assert len(simple.body) <= len(program.body)
        if simple.body == program.body:
            continue
        for a, b in zip(_updates(program, load), _updates(simple, load), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, equal_nan=True)
        checked += 1
    assert checked > 10


def test_simplification_removes_dead_code_folds_constants_and_identities() -> None:
    genes = seed_program("momentum").genes()
    genes["hyper"]["unused"] = 3.0
    genes["body"] = [
        {"out": "k", "op": "add", "args": [2.0, 3.0]},  # folds to 5
        {"out": "dead", "op": "sqrt", "args": ["g"]},  # never read
        {"out": "gg", "op": "mul", "args": ["g", 1.0]},  # identity: g
        *genes["body"],
        {"out": "d", "op": "mul", "args": ["m", "k"]},
    ]
    genes["body"][4]["args"] = ["x0", "gg"]  # m = x0 + gg
    genes["out"] = "d"
    simple = simplify(Program.from_genes(genes))
    assert [(i.out, i.op, i.args) for i in simple.body] == [
        ("x0", "mul", ("mu", "m")),
        ("m", "add", ("x0", "g")),
        ("d", "mul", ("m", 5.0)),
    ]
    assert "unused" not in simple.hyper_dict and "lr" in simple.hyper_dict


def test_a_slot_that_feeds_nothing_is_removed_with_its_updates() -> None:
    genes = seed_program("sgd").genes()
    genes["slots"] = ["s0"]
    genes["hyper"]["beta"] = 0.9
    genes["body"] = [{"out": "s0", "op": "interp", "args": ["s0", "g", "beta"]}]
    simple = simplify(Program.from_genes(genes))
    assert simple.slots == () and simple.body == () and simple.out == "g"


def test_a_slot_read_at_the_next_step_keeps_its_update() -> None:
    simple = simplify(seed_program("lion"))  # m is written after its last read: live through the next step
    assert simple == seed_program("lion")


def test_canonical_form_ignores_temporary_names_and_dead_code() -> None:
    a = seed_program("adam")
    genes = a.genes()
    renamed = {"x3": "q", "x7": "denominator"}
    for ins in genes["body"]:
        ins["out"] = renamed.get(ins["out"], ins["out"])
        ins["args"] = [renamed.get(x, x) if isinstance(x, str) else x for x in ins["args"]]
    genes["body"].insert(0, {"out": "junk", "op": "exp", "args": ["g"]})
    assert canonical(Program.from_genes(genes)) == canonical(a)
