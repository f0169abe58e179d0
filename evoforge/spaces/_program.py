"""The space of training-algorithm programs (``evoforge.programs``) of one kind: optimizers, schedules or losses."""

from __future__ import annotations

import random
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from evoforge.design import Design
from evoforge.programs import OPERATORS, Program, canonical, check, crossover, seed_program, simplify
from evoforge.programs._seeds import SEEDS
from evoforge.spaces._base import Genes, Mutation, OperatorFn, Space

DEFAULT_SEEDS = {"optimizer": ["sgd", "adam"], "schedule": ["constant", "cosine"], "loss": ["cross_entropy"]}


class ProgramOptions(BaseModel):
    """The goal's ``space`` section for program search: the kind of program and the known ones to start from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["optimizer", "schedule", "loss"] = "optimizer"
    seeds: list[str] | None = Field(None, description="known programs to start from (default: sgd and adam)")
    max_sample_mutations: int = Field(2, ge=0, le=8, description="a sampled design is a seed changed up to N times")

    @field_validator("seeds")
    @classmethod
    def _known(cls, v: list[str] | None) -> list[str] | None:
        for name in v or []:
            if name not in SEEDS:
                raise ValueError(f"unknown seed program {name!r} (known: {', '.join(SEEDS)})")
        return v


def _as_operator(name: str) -> OperatorFn:
    def apply(genes: Genes, rng: random.Random, space: Space) -> tuple[Genes, str] | None:
        made = OPERATORS[name](Program.from_genes(genes), rng)
        return None if made is None else (made[0].genes(), made[1])

    return apply


class ProgramSpace(Space):
    """Programs of one kind. Designs are a program's genes; two programs that simplify to the same canonical form
    compute the same thing and are trained once (``canonical``)."""

    name = "program"
    operators = {name: _as_operator(name) for name in OPERATORS}

    def __init__(self, options: ProgramOptions | None = None) -> None:
        self.options = options or ProgramOptions()
        self.seeds = [seed_program(s) for s in self.options.seeds or DEFAULT_SEEDS[self.options.kind]]
        wrong = [s for s in self.seeds if s.kind != self.options.kind]
        if wrong:
            raise ValueError(f"space.seeds: {wrong[0].kind} programs cannot seed a {self.options.kind} search")

    def design(self, program: Program) -> Design:
        return Design.make(self.name, program.genes())

    def sample(self, rng: random.Random) -> Design:
        current = self.design(rng.choice(self.seeds))
        for _ in range(rng.randint(0, self.options.max_sample_mutations)):
            current = self.mutate(current, rng).design
        return current

    def validate(self, design: Design) -> None:
        if design.space != self.name:
            raise ValueError(f"design is from space {design.space!r}, not {self.name!r}")
        program = Program.from_genes(design.view)
        check(program)
        if program.kind != self.options.kind:
            raise ValueError(f"a {program.kind} program in a search for {self.options.kind} programs")

    def canonical(self, design: Design) -> str:
        return self.design(canonical(Program.from_genes(design.view))).hash

    def static_metrics(self, design: Design, batch: int = 1) -> dict[str, float]:
        simple = simplify(Program.from_genes(design.view))
        return {"instructions": float(len(simple.body)), "slots": float(len(simple.slots))}

    def crossover(self, a: Design, b: Design, rng: random.Random) -> Mutation | None:
        made = crossover(Program.from_genes(a.view), Program.from_genes(b.view), rng)
        if made is None:
            return None
        child = self.design(made[0])
        return Mutation(child, "crossover", made[1]) if child not in (a, b) and self._is_valid(child) else None

    def smallest(self) -> Design | None:
        return self.design(min(self.seeds, key=lambda p: len(p.body)))
