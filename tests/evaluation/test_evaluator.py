from __future__ import annotations

from evoforge.design import Design
from evoforge.tasks import EvalSettings, make_task
from tests.conftest import SMALL_DIGITS_GENES


def test_digits_evaluation_measures_everything_and_is_deterministic() -> None:
    task = make_task({"name": "digits"})
    design = Design.make("macro", SMALL_DIGITS_GENES)
    a = task.evaluate(design, 3, EvalSettings(device="cpu"))
    b = task.evaluate(design, 3, EvalSettings(device="cpu"))
    assert set(a.metrics) == {"val_accuracy", "val_loss", "params", "flops", "latency_ms", "train_time_s"}
    assert a.metrics["val_accuracy"] == b.metrics["val_accuracy"]
    assert a.metrics["val_loss"] == b.metrics["val_loss"]
    assert a.artifact == b.artifact
    assert a.metrics["val_accuracy"] > 0.85
    assert a.metrics["latency_ms"] > 0 and a.metrics["flops"] > 0
    assert a.info["device"] == "cpu" and a.info["latency_batch"] == 32


def test_test_accuracy_comes_from_the_trained_weights() -> None:
    task = make_task({"name": "digits"})
    design = Design.make("macro", SMALL_DIGITS_GENES)
    result = task.evaluate(design, 0, EvalSettings(device="cpu"))
    assert result.artifact is not None
    assert task.test_accuracy(design, result.artifact) > 0.85


def test_different_seeds_train_differently() -> None:
    task = make_task({"name": "digits"})
    design = Design.make("macro", SMALL_DIGITS_GENES)
    a = task.evaluate(design, 1, EvalSettings(device="cpu"))
    b = task.evaluate(design, 2, EvalSettings(device="cpu"))
    assert a.artifact != b.artifact


def test_augmentations_and_schedules_train() -> None:
    task = make_task({"name": "digits"})
    for augment, schedule, optimizer in (("shift", "onecycle", "sgd"), ("noise", "constant", "adamw")):
        genes = Design.make("macro", SMALL_DIGITS_GENES).genes
        genes["recipe"].update(augment=augment, schedule=schedule, optimizer=optimizer, epochs=2)
        if optimizer == "sgd":
            genes["recipe"]["lr"] = 0.1
        result = task.evaluate(Design.make("macro", genes), 0, EvalSettings(device="cpu"))
        assert result.metrics["val_accuracy"] > 0.5
