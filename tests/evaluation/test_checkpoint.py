from __future__ import annotations

import contextlib
import math
from typing import Any

import pytest
import torch
from safetensors.torch import load

from evoforge.design import Design
from evoforge.evaluation._checkpoint import pack_state, unpack_state
from evoforge.evaluation._train import Training
from evoforge.spaces import build_network
from evoforge.tasks import EvalSettings, make_task
from evoforge.tasks._digits import DigitsTask
from tests.conftest import SMALL_DIGITS_GENES

CPU = torch.device("cpu")
RECIPES = {
    "adamw-onecycle": {"optimizer": "adamw", "schedule": "onecycle"},
    "sgd-cosine": {"optimizer": "sgd", "schedule": "cosine", "lr": 0.1},
}


def _training(recipe: dict[str, Any], n_train: int, seed: int) -> Training:
    # Dropout and shift augmentation draw from both generators a checkpoint carries.
    genes = {
        "arch": {**SMALL_DIGITS_GENES["arch"], "dropout": 0.3, "hidden": [32]},
        "recipe": {**SMALL_DIGITS_GENES["recipe"], "augment": "shift", **recipe},
    }
    genes = Design.make("macro", genes).genes
    splits = DigitsTask().load_splits()
    torch.manual_seed(seed)
    return Training(build_network(genes, splits.input_spec()), genes["recipe"], seed, n_train, CPU)


def _epoch(training: Training, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    assert training.run_epoch(x, y, 0.5, contextlib.nullcontext)
    return {k: v.clone() for k, v in training.model.state_dict().items()}


@pytest.mark.parametrize("recipe", list(RECIPES.values()), ids=list(RECIPES))
def test_a_restored_training_continues_bit_for_bit(recipe: dict[str, Any]) -> None:
    splits = DigitsTask().load_splits()
    x, y = torch.from_numpy(splits.x_train[:512]), torch.from_numpy(splits.y_train[:512])
    straight = _training(recipe, len(y), seed=3)
    _epoch(straight, x, y)
    blob = pack_state(straight.state())
    expected = _epoch(straight, x, y)

    resumed = _training(recipe, len(y), seed=99)  # another seed: everything must come from the checkpoint
    resumed.load(unpack_state(blob, CPU))
    got = _epoch(resumed, x, y)
    assert resumed.epoch == straight.epoch == 2
    assert all(torch.equal(got[k], expected[k]) for k in expected)


def test_a_state_round_trips_with_types_dtypes_and_int_keys() -> None:
    state: dict[str, Any] = {
        "state": {0: {"step": torch.tensor(3.0), "buf": torch.arange(6.0).reshape(2, 3).t()}},
        "groups": [{"params": [0, 1], "betas": (0.9, 0.999), "lr": 1e-3, "fused": None, "nesterov": False}],
        "bf16": torch.ones(2, 2, dtype=torch.bfloat16),
        "gen": torch.Generator().get_state(),
        "empty": torch.zeros(0, 4),
        "limits": [math.inf, -math.inf, 2.0, 2],
        "name": "ключ",
    }
    back = unpack_state(pack_state(state), CPU)
    assert back["groups"] == state["groups"] and back["name"] == state["name"] and back["limits"] == state["limits"]
    assert type(back["limits"][2]) is float and type(back["limits"][3]) is int
    for got, want in [
        (back["state"][0]["step"], state["state"][0]["step"]),
        (back["state"][0]["buf"], state["state"][0]["buf"]),
        (back["bf16"], state["bf16"]),
        (back["gen"], state["gen"]),
        (back["empty"], state["empty"]),
    ]:
        assert got.dtype == want.dtype and got.shape == want.shape and torch.equal(got, want)
    assert math.isnan(unpack_state(pack_state({"x": math.nan}), CPU)["x"])


def test_an_empty_state_round_trips() -> None:
    assert unpack_state(pack_state({}), CPU) == {}
    assert unpack_state(pack_state([]), CPU) == []


def test_a_checkpoint_is_a_plain_safetensors_file() -> None:
    weight = torch.randn(3, 4)
    tensors = load(pack_state({"model": {"fc.weight": weight}, "epoch": 1}))
    assert list(tensors) == ["model/fc.weight"] and torch.equal(tensors["model/fc.weight"], weight)


def test_a_trial_paused_at_a_milestone_hands_back_a_safetensors_checkpoint() -> None:
    task = make_task({"name": "digits"})
    result = task.evaluate(Design.make("macro", SMALL_DIGITS_GENES), 0, EvalSettings(device="cpu"), until=1)
    assert result.checkpoint is not None
    names = set(load(result.checkpoint))  # any safetensors reader sees the tensors by their place in the state
    assert {"training/model/head.1.weight", "training/opt/state/0/exp_avg", "training/gen"} <= names
    assert unpack_state(result.checkpoint, CPU)["training"]["epoch"] == 1


def test_packing_does_not_alias_the_callers_tensors() -> None:
    weight = torch.zeros(2)
    state = {"a": weight, "b": weight}  # shared storage, which safetensors alone refuses
    back = unpack_state(pack_state(state), CPU)
    weight += 1
    assert torch.equal(back["a"], torch.zeros(2)) and torch.equal(back["b"], torch.zeros(2))


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage" * 10, pack_state({"w": torch.ones(4)})[:-3], b"\xff" * 8 + b"{}", b"\x02" + bytes(7) + b"{}"],
    ids=["empty", "garbage", "truncated", "forged-length", "no-metadata"],
)
def test_unpacking_anything_but_a_checkpoint_is_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError):
        unpack_state(data, CPU)


def test_a_plain_safetensors_file_is_not_a_checkpoint() -> None:
    from safetensors.torch import save

    with pytest.raises(ValueError, match="not an evoforge checkpoint"):
        unpack_state(save({"w": torch.ones(2)}), CPU)


def test_a_value_torch_cannot_store_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        pack_state({"f": lambda: 0})
