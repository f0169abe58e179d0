"""Known algorithms written as programs compile to code that computes exactly what torch computes."""

from __future__ import annotations

import math

import pytest
import torch

from evoforge.programs import compile_program, seed_program
from evoforge.programs._seeds import adam, adamw, lion, momentum, sgd


def _params() -> list[torch.nn.Parameter]:
    torch.manual_seed(1)
    return [torch.nn.Parameter(torch.randn(5, 3)), torch.nn.Parameter(torch.randn(4))]


def _run(make, steps: int = 25) -> list[torch.Tensor]:
    """Parameters after ``steps`` steps on a fixed sequence of gradients."""
    params = _params()
    optimizer = make(params)
    gen = torch.Generator().manual_seed(2)
    for _ in range(steps):
        for p in params:
            p.grad = torch.randn(p.shape, generator=gen)
        optimizer.step()
    return [p.detach() for p in params]


CASES = {
    "sgd": (sgd(lr=0.1), lambda ps: torch.optim.SGD(ps, lr=0.1)),
    "momentum": (momentum(lr=0.05, mu=0.9), lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9)),
    "nesterov": (
        momentum(lr=0.05, mu=0.8, nesterov=True),
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True),
    ),
    "adam": (adam(lr=0.01, b1=0.8, b2=0.95, eps=1e-6), lambda ps: torch.optim.Adam(ps, 0.01, (0.8, 0.95), 1e-6)),
    "adamw": (
        adamw(lr=0.01, b1=0.9, b2=0.99, eps=1e-8, wd=0.1),
        lambda ps: torch.optim.AdamW(ps, lr=0.01, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_program_reproduces_torch_optim(name: str, load) -> None:
    program, reference = CASES[name]
    module = load(program)
    for ours, theirs in zip(_run(module.EvolvedOptimizer), _run(reference), strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)


def test_lion_program_follows_the_published_update(load) -> None:
    module = load(lion(lr=0.01, b1=0.9, b2=0.99, wd=0.1))

    class Reference(torch.optim.Optimizer):  # Chen et al. 2023, Algorithm 2
        def __init__(self, params):
            super().__init__(params, {})

        @torch.no_grad()
        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    m = self.state[p].setdefault("m", torch.zeros_like(p))
                    update = (0.9 * m + 0.1 * p.grad).sign()
                    p.mul_(1 - 0.01 * 0.1).add_(update, alpha=-0.01)
                    m.mul_(0.99).add_(p.grad, alpha=0.01)

    for ours, theirs in zip(_run(module.EvolvedOptimizer), _run(Reference), strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)


def test_compiled_optimizer_trains_a_model(load) -> None:
    module = load(seed_program("adam").with_(hyper={"lr": 0.05, "b1": 0.9, "b2": 0.999, "eps": 1e-8}))
    torch.manual_seed(0)
    x = torch.randn(256, 4)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
    model = torch.nn.Linear(4, 1)
    optimizer = module.EvolvedOptimizer(model.parameters(), lr=0.05)
    first = None
    for _ in range(200):
        loss = torch.nn.functional.mse_loss(model(x), y)
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < first / 100


def test_compiled_optimizer_works_with_torch_schedulers_and_closures(load) -> None:
    module = load(seed_program("momentum"))
    p = torch.nn.Parameter(torch.ones(3))
    optimizer = module.EvolvedOptimizer([p], lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = (p**2).sum()
        loss.backward()
        return loss

    assert optimizer.step(closure).item() == pytest.approx(3.0)
    scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("name", "formula"),
    [
        ("constant", lambda t, n: 1.0),
        ("cosine", lambda t, n: 0.5 * (1 + math.cos(math.pi * t / n))),
        ("linear", lambda t, n: 1 - t / n),
    ],
)
def test_schedule_programs_compute_their_formula(name: str, formula, load) -> None:
    module = load(seed_program(name))
    for t in (0, 7, 50, 99):
        assert module.evolved_schedule(t, 100) == pytest.approx(formula(t, 100))
    p = torch.nn.Parameter(torch.ones(1))
    opt = torch.optim.SGD([p], lr=0.2)
    scheduler = module.make_scheduler(opt, 100)
    for _ in range(7):
        opt.step()
        scheduler.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.2 * formula(7, 100))


def test_loss_programs_match_torch_losses(load) -> None:
    torch.manual_seed(3)
    logits, target = torch.randn(16, 5), torch.randint(0, 5, (16,))
    ce = load(seed_program("cross_entropy")).EvolvedLoss()
    torch.testing.assert_close(ce(logits, target), torch.nn.functional.cross_entropy(logits, target))
    smooth = load(seed_program("label_smoothing")).EvolvedLoss()
    expected = torch.nn.functional.cross_entropy(logits, target, label_smoothing=0.1)
    torch.testing.assert_close(smooth(logits, target), expected)
    focal = load(seed_program("focal")).EvolvedLoss()
    p = torch.softmax(logits, 1).gather(1, target[:, None])[:, 0]
    torch.testing.assert_close(focal(logits, target), (-((1 - p) ** 2) * p.log()).mean())


def test_compiled_source_imports_only_math_and_torch() -> None:
    for name in ("adamw", "cosine", "focal"):
        source = compile_program(seed_program(name))
        imports = [line for line in source.splitlines() if line.startswith(("import", "from"))]
        assert imports == ["from __future__ import annotations", "import math", "import torch"]


def test_compiled_source_is_formatted_as_ruff_formats_it(tmp_path) -> None:
    import random
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from evoforge.programs import OPERATORS, SEEDS

    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (the dev extra)")
    rng = random.Random(0)
    programs = [seed_program(n) for n in SEEDS]
    while len(programs) < 120:  # grown programs: long signatures, many hyperparameters, odd constants
        made = OPERATORS[rng.choice(list(OPERATORS))](rng.choice(programs), rng)
        if made is not None:
            programs.append(made[0])
    for i, program in enumerate(programs):
        (tmp_path / f"evolved_{i}.py").write_text(compile_program(program))
    result = subprocess.run([ruff, "format", "--check", "--line-length", "120", str(tmp_path)], capture_output=True)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
