"""Known training algorithms written in the program language: the seeds a search starts from and the baselines
it is measured against. The optimizers follow ``torch.optim``'s update equations (tested to match them)."""

from __future__ import annotations

from typing import Any

from evoforge.programs._language import Program, check


def _program(kind: str, hyper: dict[str, float], slots: list[str], body: list[tuple[Any, ...]], out: Any) -> Program:
    genes = {
        "kind": kind,
        "hyper": hyper,
        "slots": slots,
        "body": [{"out": o, "op": op, "args": list(args)} for o, op, *args in body],
        "out": out,
    }
    program = Program.from_genes(genes)
    check(program)
    return program


def sgd(lr: float = 0.1) -> Program:
    return _program("optimizer", {"lr": lr}, [], [], "g")


def momentum(lr: float = 0.05, mu: float = 0.9, nesterov: bool = False) -> Program:
    # torch: buf = mu * buf + g (buf = g at the first step: the same, as the slot starts at zero)
    body: list[tuple[Any, ...]] = [("x0", "mul", "mu", "m"), ("m", "add", "x0", "g")]
    if nesterov:
        body += [("x1", "mul", "mu", "m"), ("d", "add", "g", "x1")]
    return _program("optimizer", {"lr": lr, "mu": mu}, ["m"], body, "d" if nesterov else "m")


def _adam_body(decoupled: bool) -> list[tuple[Any, ...]]:
    body: list[tuple[Any, ...]] = [
        ("m", "interp", "m", "g", "b1"),  # m = b1 * m + (1 - b1) * g
        ("x0", "square", "g"),
        ("v", "interp", "v", "x0", "b2"),  # v = b2 * v + (1 - b2) * g^2
        ("x1", "decay", "b1", "t"),
        ("c1", "sub", 1.0, "x1"),  # bias corrections 1 - b^t
        ("x2", "decay", "b2", "t"),
        ("c2", "sub", 1.0, "x2"),
        ("x3", "div", "m", "c1"),
        ("x4", "sqrt", "v"),
        ("x5", "sqrt", "c2"),
        ("x6", "div", "x4", "x5"),
        ("x7", "add", "x6", "eps"),
        ("d", "div", "x3", "x7"),
    ]
    if decoupled:  # AdamW: p <- p - lr * (adam + wd * p), i.e. p * (1 - lr * wd) first, as torch does
        body += [("x8", "mul", "wd", "p"), ("d", "add", "d", "x8")]
    return body


def adam(lr: float = 1e-3, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Program:
    return _program("optimizer", {"lr": lr, "b1": b1, "b2": b2, "eps": eps}, ["m", "v"], _adam_body(False), "d")


def adamw(lr: float = 1e-3, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, wd: float = 0.01) -> Program:
    hyper = {"lr": lr, "b1": b1, "b2": b2, "eps": eps, "wd": wd}
    return _program("optimizer", hyper, ["m", "v"], _adam_body(True), "d")


def lion(lr: float = 1e-4, b1: float = 0.9, b2: float = 0.99, wd: float = 0.0) -> Program:
    # Chen et al. 2023: d = sign(b1 * m + (1 - b1) * g) + wd * p; then m = b2 * m + (1 - b2) * g
    body: list[tuple[Any, ...]] = [
        ("x0", "interp", "m", "g", "b1"),
        ("x1", "sign", "x0"),
        ("x2", "mul", "wd", "p"),
        ("d", "add", "x1", "x2"),
        ("m", "interp", "m", "g", "b2"),
    ]
    return _program("optimizer", {"lr": lr, "b1": b1, "b2": b2, "wd": wd}, ["m"], body, "d")


def constant_schedule() -> Program:
    return _program("schedule", {}, [], [], 1.0)


def cosine_schedule() -> Program:
    body: list[tuple[Any, ...]] = [
        ("x0", "div", "t", "total"),
        ("x1", "mul", "x0", 3.141592653589793),
        ("x2", "cos", "x1"),
        ("x3", "add", "x2", 1.0),
        ("f", "mul", "x3", 0.5),
    ]
    return _program("schedule", {}, [], body, "f")


def linear_schedule() -> Program:
    return _program("schedule", {}, [], [("x0", "div", "t", "total"), ("f", "sub", 1.0, "x0")], "f")


def cross_entropy() -> Program:
    return _program("loss", {}, [], [("l", "neg", "logp")], "l")


def focal() -> Program:
    # Lin et al. 2017: -(1 - p)^gamma log p with gamma = 2, written (1 - p)^2
    body: list[tuple[Any, ...]] = [("x0", "sub", 1.0, "prob"), ("x1", "square", "x0"), ("x2", "neg", "logp")]
    return _program("loss", {}, [], [*body, ("l", "mul", "x1", "x2")], "l")


def label_smoothing(eps: float = 0.1) -> Program:
    # -(1 - eps) log p_y - eps * mean_k log p_k
    body: list[tuple[Any, ...]] = [
        ("x0", "interp", "logp", "logp_mean", "keep"),
        ("l", "neg", "x0"),
    ]
    return _program("loss", {"keep": 1.0 - eps}, [], body, "l")


SEEDS = {
    "sgd": sgd,
    "momentum": momentum,
    "nesterov": lambda: momentum(nesterov=True),
    "adam": adam,
    "adamw": adamw,
    "lion": lion,
    "constant": constant_schedule,
    "cosine": cosine_schedule,
    "linear": linear_schedule,
    "cross_entropy": cross_entropy,
    "focal": focal,
    "label_smoothing": label_smoothing,
}


def seed_program(name: str) -> Program:
    """A known algorithm by name (``SEEDS``); ``ValueError`` names the known ones otherwise."""
    if name not in SEEDS:
        raise ValueError(f"unknown seed program {name!r} (known: {', '.join(SEEDS)})")
    return SEEDS[name]()  # type: ignore[no-any-return]
