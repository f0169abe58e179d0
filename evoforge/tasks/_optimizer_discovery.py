"""Program search for training algorithms: a design is a program (``evoforge.programs``) — an optimizer's update
rule, a learning-rate schedule or a loss — compiled to Python and trained on small real problems in the sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from evoforge.design import Design
from evoforge.programs import Program, compile_program, render, simplify
from evoforge.spaces import ProgramOptions, ProgramSpace
from evoforge.tasks._base import EvalSettings, HeldOut, Task, TaskOptions, TrialResult
from evoforge.tasks._program_suite import HELD_OUT, PROBLEMS, TRAINING

RUNNER = ["python", "-m", "evoforge.tasks._program_runner"]


class DiscoveryOptions(TaskOptions):
    steps: int = Field(200, ge=1, le=100_000, description="training steps per problem: the fixed budget")
    problems: list[str] = Field(list(TRAINING), min_length=1, description="what the search optimizes")
    held_out: list[str] = Field(list(HELD_OUT), min_length=1, description="what decides a promotion")
    mnist: str = Field("data/mnist", description="folder with the MNIST IDX files (for the mnist_* problems)")
    base_lr: float = Field(3e-3, gt=0, description="Adam's learning rate under an evolved schedule or loss")
    timeout_s: float = Field(300.0, gt=0, description="sandbox wall-clock limit per run")
    memory_mb: int = Field(4096, ge=256, description="sandbox memory limit per run")

    @field_validator("problems", "held_out")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        for name in v:
            if name not in PROBLEMS:
                raise ValueError(f"unknown problem {name!r} (known: {', '.join(PROBLEMS)})")
        return v


class OptimizerDiscoveryTask(Task):
    """Fitness (``val_score``) is the mean score of the training problems at ``steps`` steps: validation accuracy,
    or R^2 for a regression. ``test_accuracy`` is the same mean over the held-out problems, so a program is promoted
    only when it holds up on problems the search never saw. ``evoforge export`` writes the program as a ``.py``."""

    name = "optimizer_discovery"
    Options = DiscoveryOptions
    metrics = frozenset({"val_score", "instructions", "slots", *(f"val_{p}" for p in PROBLEMS)})
    curve_metrics = frozenset()
    sandboxed = True

    def __init__(self, options: DiscoveryOptions) -> None:
        self.options = options
        overlap = set(options.problems) & set(options.held_out)
        if overlap:
            raise ValueError(f"task.held_out: {sorted(overlap)[0]} is also a training problem")
        uses_mnist = any(p.startswith("mnist") for p in [*options.problems, *options.held_out])
        if uses_mnist and not Path(options.mnist).is_dir():
            raise ValueError(f"task.mnist: folder not found: {options.mnist} (or choose problems without mnist)")

    def space(self, options: dict[str, Any]) -> ProgramSpace:
        return ProgramSpace(ProgramOptions(**options))

    def fidelities(self, design: Design) -> list[int]:
        return []

    def evaluate(
        self,
        design: Design,
        seed: int,
        settings: EvalSettings,
        until: int | None = None,
        checkpoint: bytes | None = None,
    ) -> TrialResult:
        scores = self._run(design, self.options.problems, seed, settings.threads, settings.device)
        device = "cuda" if scores.pop("cuda", 0.0) else "cpu"
        program = Program.from_genes(design.view)
        simple = simplify(program)  # the size of what it computes, for objectives that prefer short rules
        metrics = {"val_score": scores.pop("score"), **scores}
        metrics.update(instructions=float(len(simple.body)), slots=float(len(simple.slots)))
        artifact = json.dumps({"seed": seed, "threads": settings.threads, "device": settings.device}).encode()
        return TrialResult(metrics, artifact, {"program": render(program), "device": device})

    def test(self, design: Design, artifact: bytes | None) -> HeldOut:
        """``val_score`` on the held-out problems (a rule is judged on problems the search never trained on)."""
        ran = {"seed": 0, "threads": 1, "device": "auto", **(json.loads(artifact) if artifact else {})}
        scores = self._run(design, self.options.held_out, int(ran["seed"]), int(ran["threads"]), str(ran["device"]))
        return HeldOut({"val_score": float(scores["score"])})

    def export_files(self, design: Design, artifact: bytes | None) -> dict[str, bytes]:
        program = simplify(Program.from_genes(design.view))  # what it computes, without dead code
        title = f"A {program.kind} found by evoforge's program search (design {design.hash}, simplified)."
        return {f"evolved_{program.kind}.py": compile_program(program, title).encode()}

    def _run(self, design: Design, problems: list[str], seed: int, threads: int, device: str) -> dict[str, float]:
        from evoforge.sandbox import Limits, SandboxError, run_sandboxed

        o, program = self.options, Program.from_genes(design.view)
        mnist = str(Path(o.mnist).resolve())
        job = {"problems": problems, "steps": o.steps, "seed": seed, "mnist": mnist, "base_lr": o.base_lr}
        job.update(kind=program.kind, threads=threads, device=device)
        files = {"candidate.py": compile_program(program), "job.json": json.dumps(job)}
        limits = Limits(wall_s=o.timeout_s, cpu_s=o.timeout_s * max(1, threads), memory_mb=o.memory_mb)
        result = run_sandboxed(RUNNER, files, limits, checked=("candidate.py",), readable=(mnist,))
        if not result.ok or result.metrics is None or "score" not in result.metrics:
            raise SandboxError(f"sandbox {result.status}: {result.reason}", result)
        return dict(result.metrics)
