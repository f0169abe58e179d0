"""A user's own training program as the task: its EVOLVE blocks are the design, its evaluation command the judge."""

from __future__ import annotations

import json
import math
import shlex
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator

from evoforge._errors import EvoforgeError
from evoforge.design import Design
from evoforge.spaces import CodeSpace
from evoforge.storage import held_out_name
from evoforge.tasks._base import EvalSettings, HeldOut, Task, TaskOptions, TrialResult

HELD_OUT_PREFIX = "test_"  # printed metrics the search never sees: the evidence gate's held-out measurements
TRIAL_MODULE = "evoforge_trial"  # written next to the program: ``from evoforge_trial import SEED``


class UserCodeOptions(TaskOptions):
    file: str = Field(description="the Python file with EVOLVE blocks, relative to the working directory")
    eval: str = Field(description="the command that runs it and prints its metrics as a JSON object (last line)")
    metrics: list[str] = Field(
        ["val_accuracy"], description="what the evaluation prints; the goal's objectives and constraints among them"
    )
    include: list[str] = Field([], description="other files the evaluation needs, copied next to the program")
    allow_imports: list[str] = Field([], description="top-level modules the program may import beyond the defaults")
    timeout_s: float = Field(300.0, gt=0, description="sandbox wall-clock and CPU limit per evaluation (s)")
    memory_mb: int = Field(4096, ge=64, description="sandbox memory limit per evaluation (MiB)")

    @field_validator("eval")
    @classmethod
    def _command(cls, v: str) -> str:
        try:
            words = shlex.split(v)
        except ValueError as exc:
            raise ValueError(f"cannot split the command ({exc})") from None
        if not words:
            raise ValueError("give the command that evaluates the program, e.g. 'python train.py'")
        return v

    @field_validator("metrics")
    @classmethod
    def _metric_names(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("name at least one metric the evaluation prints, e.g. [val_accuracy]")
        held = [m for m in v if m.startswith(HELD_OUT_PREFIX)]
        if held:
            raise ValueError(f"{held[0]} is held out for the evidence gate; the search sees validation metrics only")
        return v


class UserCodeTask(Task):
    """Evaluates a user's program: renders the design into the file, runs the ``eval`` command on it in the sandbox
    and reads the JSON object of numbers the command prints last. The trial's seed reaches the program as ``SEED``
    of the module ``evoforge_trial`` written next to it, as ``{seed}`` in the command, and as the environment
    variable ``EVOFORGE_SEED`` (for helper scripts, which the static check does not read). Printed ``test_*``
    metrics are held out: the search sees the others, and ``test_accuracy`` (else the run's own ``val_accuracy``)
    is what the evidence gate compares. The metric names are the ``metrics`` option, so ``metrics`` is set per
    instance here (the goal's objectives are checked against it)."""

    name = "user_code"
    Options = UserCodeOptions
    metrics: frozenset[str] = frozenset({"val_accuracy"})
    curve_metrics: frozenset[str] = frozenset()
    sandboxed: ClassVar[bool] = True

    def __init__(self, options: UserCodeOptions) -> None:
        self.options = options
        self.path = Path(options.file)
        self.source = _read_text(self.path, "task.file")
        self.filename = self.path.name
        self.includes = {Path(p).name: _read_bytes(Path(p)) for p in options.include}
        if len(self.includes) != len(options.include) or self.filename in self.includes:
            raise ValueError("task.include: two files share a name (they are copied into one folder)")
        self.command = shlex.split(options.eval)
        self.metrics = frozenset(options.metrics)  # the task's metrics are the user's
        try:
            _ = self.code_space  # the markers are checked now, not at the first trial
        except ValueError as exc:
            raise ValueError(f"task.file: {exc}") from None

    @cached_property
    def allowed_imports(self) -> tuple[str, ...]:
        from evoforge.sandbox import DEFAULT_IMPORTS

        helpers = [Path(name).stem for name in self.includes if name.endswith(".py")]
        return tuple(sorted({*DEFAULT_IMPORTS, *self.options.allow_imports, *helpers, TRIAL_MODULE}))

    @cached_property
    def code_space(self) -> CodeSpace:
        return CodeSpace(self.source, self.filename, self.allowed_imports)

    def space(self, options: dict[str, Any]) -> CodeSpace:
        if options:
            raise ValueError(f"space.{next(iter(options))}: the user_code space takes no options (edit the file)")
        return self.code_space

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
        from evoforge.sandbox import Limits, SandboxError, run_sandboxed

        files: dict[str, str | bytes] = {self.filename: self.code_space.render(design), **self.includes}
        files[f"{TRIAL_MODULE}.py"] = f"SEED = {seed}\n"
        command = [word.replace("{seed}", str(seed)) for word in self.command]
        o = self.options
        limits = Limits(wall_s=o.timeout_s, cpu_s=o.timeout_s, memory_mb=o.memory_mb)
        env = {"EVOFORGE_SEED": str(seed), "OMP_NUM_THREADS": str(settings.threads)}
        result = run_sandboxed(
            command, files, limits, checked=(self.filename,), allow_imports=self.allowed_imports, env=env
        )
        if not result.ok:
            raise SandboxError(f"sandbox {result.status}: {result.reason}", result)
        printed = result.metrics
        if printed is None:
            tail = (result.stdout.strip().splitlines() or ["(nothing)"])[-1][:120]
            raise SandboxError(f"the evaluation printed no JSON object of numbers last; its last line: {tail}", result)
        missing = [m for m in o.metrics if m not in printed]
        if missing:
            shown = ", ".join(sorted(printed)) or "nothing"
            raise SandboxError(f"the evaluation printed no {missing[0]!r} (it printed: {shown})", result)
        seen = {k: float(v) for k, v in printed.items() if not k.startswith(HELD_OUT_PREFIX)}
        info = {"sandbox_wall_s": result.wall_s, "network_isolated": result.network_isolated}
        return TrialResult(seen, json.dumps(printed).encode(), info)

    def test(self, design: Design, artifact: bytes | None) -> HeldOut:
        """What the run printed as held-out values (``test_accuracy`` for ``val_accuracy``, ``test_<name>`` for
        ``<name>``); a metric it printed none for is judged on the retrained runs' own value (and the evidence says
        so)."""
        if artifact is None:
            raise ValueError("no evaluation result to read the held-out values from")
        printed = json.loads(artifact)
        found = {m: printed.get(held_out_name(m)) for m in self.metrics}
        return HeldOut({m: float(v) for m, v in found.items() if isinstance(v, (int, float)) and math.isfinite(v)})

    def export_files(self, design: Design, artifact: bytes | None) -> dict[str, bytes]:
        try:
            source = self.code_space.render(design)
        except ValueError as exc:
            raise EvoforgeError(f"task.file: cannot write the champion's {self.filename}: {exc}") from None
        return {self.filename: source.encode()}


def _read_text(path: Path, field: str) -> str:
    try:
        return _read_bytes(path, field).decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{field}: {path} is not UTF-8 text") from None


def _read_bytes(path: Path, field: str = "task.include") -> bytes:
    if not path.is_file():
        raise ValueError(f"{field}: file not found: {path}")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{field}: cannot read {path}: {exc.strerror}") from None
