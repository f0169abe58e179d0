"""Runs one candidate program's training problems; started inside the sandbox as
``python -m evoforge.tasks._program_runner`` in a folder holding ``candidate.py`` (the compiled program) and
``job.json`` (which problems, steps, seed). Prints the scores as one JSON line. Trusted code: only ``candidate.py``
is generated (and statically checked before this runs)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from evoforge.tasks._program_suite import Recipe, run_problems


def load_candidate(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("candidate", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def recipe_of(kind: str, module: ModuleType, base_lr: float) -> Recipe:
    """The training recipe a program of ``kind`` fills in: its own optimizer (with its own ``lr``), or Adam at
    ``base_lr`` with the program's schedule or loss."""

    def adam(params: list[torch.nn.Parameter]) -> torch.optim.Optimizer:
        return torch.optim.Adam(params, lr=base_lr)

    if kind == "optimizer":
        return Recipe(lambda params: module.EvolvedOptimizer(params))
    if kind == "schedule":
        return Recipe(adam, schedule=module.evolved_schedule)
    return Recipe(adam, loss=module.EvolvedLoss())


def run_job(job: dict[str, Any], candidate: Path) -> dict[str, Any]:
    torch.set_num_threads(int(job.get("threads", 1)))
    recipe = recipe_of(job["kind"], load_candidate(candidate), float(job.get("base_lr", 3e-3)))
    wanted = job.get("device", "cpu")  # "auto" uses CUDA when present
    device = "cuda" if wanted in ("auto", "cuda") and torch.cuda.is_available() else "cpu"
    scores = run_problems(list(job["problems"]), recipe, int(job["steps"]), int(job["seed"]), job.get("mnist"), device)
    return {**scores, "cuda": float(device == "cuda")}


def main() -> None:
    job = json.loads(Path("job.json").read_text())
    print(json.dumps(run_job(job, Path("candidate.py"))))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
