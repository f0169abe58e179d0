from __future__ import annotations

import pytest

from evoforge.design import Design
from evoforge.tasks import EvalSettings, make_task
from tests.conftest import SMALL_DIGITS_GENES


def test_digits_evaluation_measures_everything_and_is_deterministic() -> None:
    task = make_task({"name": "digits"})
    design = Design.make("macro", SMALL_DIGITS_GENES)
    a = task.evaluate(design, 3, EvalSettings(device="cpu"))
    b = task.evaluate(design, 3, EvalSettings(device="cpu"))
    assert set(a.metrics) == set(task.metrics) - {"time_to_accuracy_s"}  # that one needs a target accuracy
    assert a.metrics["peak_memory_mb"] > 0 and a.metrics["energy_j"] > 0
    assert a.metrics["val_accuracy"] == b.metrics["val_accuracy"]
    assert a.metrics["val_loss"] == b.metrics["val_loss"]
    assert a.artifact == b.artifact
    assert a.metrics["val_accuracy"] > 0.85
    assert a.metrics["latency_ms"] > 0 and a.metrics["flops"] > 0
    assert a.info["device"] == "cpu" and a.info["latency_batch"] == 32


def test_the_held_out_measurement_comes_from_the_trained_weights() -> None:
    task = make_task({"name": "digits"})
    design = Design.make("macro", SMALL_DIGITS_GENES)
    result = task.evaluate(design, 0, EvalSettings(device="cpu"))
    assert result.artifact is not None
    held = task.test(design, result.artifact)
    assert held.metrics["val_accuracy"] > 0.85 and held.metrics["val_loss"] > 0
    assert len(held.samples["val_accuracy"]) == len(held.samples["val_loss"]) == 360  # one value per test input
    assert sum(held.samples["val_loss"]) / 360 == pytest.approx(held.metrics["val_loss"])


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


PIECES = {
    "cosine": SMALL_DIGITS_GENES,  # 4 epochs, no dropout, no augmentation
    "dropout-shift-onecycle": {
        "arch": {**SMALL_DIGITS_GENES["arch"], "dropout": 0.3, "hidden": [32]},
        "recipe": {**SMALL_DIGITS_GENES["recipe"], "augment": "shift", "schedule": "onecycle", "optimizer": "sgd"},
    },
}


@pytest.mark.parametrize("genes", list(PIECES.values()), ids=list(PIECES))
def test_training_in_pieces_equals_training_straight_through(genes: dict) -> None:
    task = make_task({"name": "digits"})
    design = Design.make("macro", genes)
    straight = task.evaluate(design, 5, EvalSettings(device="cpu"))
    first = task.evaluate(design, 5, EvalSettings(device="cpu"), until=1)
    assert first.checkpoint is not None and first.artifact is None and first.info["epoch"] == 1
    second = task.evaluate(design, 5, EvalSettings(device="cpu"), until=3, checkpoint=first.checkpoint)
    assert [p["epoch"] for p in second.info["curve"]] == [2, 3]
    last = task.evaluate(design, 5, EvalSettings(device="cpu"), checkpoint=second.checkpoint)
    assert last.checkpoint is None and last.artifact == straight.artifact
    assert last.metrics["val_accuracy"] == straight.metrics["val_accuracy"]
    assert [p["val_accuracy"] for p in first.info["curve"] + second.info["curve"] + last.info["curve"]] == [
        p["val_accuracy"] for p in straight.info["curve"]
    ]


@pytest.mark.parametrize(
    "deploy",
    [{"precision": "bf16"}, {"channels_last": True}, {"quantize": "int8"}, {"compile": True}, {"prune": 0.5}],
    ids=["bf16", "channels_last", "int8", "compile", "prune"],
)
def test_each_efficiency_gene_builds_trains_and_is_measured(deploy: dict) -> None:
    task = make_task({"name": "digits"})
    genes = {**SMALL_DIGITS_GENES, "arch": {**SMALL_DIGITS_GENES["arch"], "hidden": [32]}}  # a Linear to quantize
    plain = task.evaluate(Design.make("macro", genes), 0, EvalSettings(device="cpu"))
    design = Design.make("macro", {**genes, "deploy": deploy})
    result = task.evaluate(design, 0, EvalSettings(device="cpu"))
    assert result.metrics["val_accuracy"] > 0.85
    assert result.metrics["latency_ms"] > 0 and result.metrics["peak_memory_mb"] > 0
    assert task.test(design, result.artifact).metrics["val_accuracy"] > 0.85  # the champion path deploys it alike
    if deploy.get("precision") == "bf16":  # trained in bf16: not the fp32 run
        assert result.metrics["val_loss"] != plain.metrics["val_loss"]
    if deploy.get("quantize") == "int8":  # same trained weights, measured after quantization
        assert result.artifact == plain.artifact and "int8" in result.info["latency_device"]
    if deploy.get("prune"):  # a narrower network, rebuilt from the design alone by the test-accuracy path
        assert result.metrics["params"] < 0.6 * plain.metrics["params"]
        assert result.info["pruned"]["params_before"] == plain.metrics["params"]
    if deploy.get("compile"):
        assert result.info["compile_s"] > 0 and result.artifact == plain.artifact


def test_a_data_fraction_trains_on_a_fixed_subset() -> None:
    task = make_task({"name": "digits"})
    genes = {**SMALL_DIGITS_GENES, "recipe": {**SMALL_DIGITS_GENES["recipe"], "data_fraction": 0.25}}
    a = task.evaluate(Design.make("macro", genes), 0, EvalSettings(device="cpu"))
    b = task.evaluate(Design.make("macro", genes), 0, EvalSettings(device="cpu"))
    full = task.evaluate(Design.make("macro", SMALL_DIGITS_GENES), 0, EvalSettings(device="cpu"))
    assert a.artifact == b.artifact != full.artifact
    assert 0.5 < a.metrics["val_accuracy"] <= 1.0


def test_time_to_accuracy_is_the_training_time_at_the_first_epoch_past_the_target() -> None:
    task = make_task({"name": "digits"})
    design = Design.make("macro", SMALL_DIGITS_GENES)
    result = task.evaluate(design, 0, EvalSettings(device="cpu", target_accuracy=0.9))
    curve = result.info["curve"]
    first = next((p for p in curve if p["val_accuracy"] >= 0.9), None)
    expected = first["train_time_s"] if first else float("inf")
    assert result.metrics["time_to_accuracy_s"] == expected
    assert curve[-1]["train_time_s"] == result.metrics["train_time_s"]
    # Timed across pieces the same way: the clock carries over in the checkpoint.
    part = task.evaluate(design, 0, EvalSettings(device="cpu", target_accuracy=2.0), until=2)
    assert part.metrics["time_to_accuracy_s"] == float("inf")


def test_pruning_a_design_without_channels_to_cut_changes_nothing() -> None:
    task = make_task({"name": "digits"})
    linear = {**SMALL_DIGITS_GENES, "arch": {**SMALL_DIGITS_GENES["arch"], "blocks": [], "hidden": []}}
    plain = task.evaluate(Design.make("macro", linear), 0, EvalSettings(device="cpu"))
    pruned = task.evaluate(Design.make("macro", {**linear, "deploy": {"prune": 0.5}}), 0, EvalSettings(device="cpu"))
    assert pruned.artifact == plain.artifact and "pruned" not in pruned.info
