from __future__ import annotations

import random

import pytest
import torch

from evoforge.design import Design
from evoforge.spaces import InputSpec, MacroOptions, MacroSpace, build_network
from evoforge.spaces._macro_ops import OPERATORS
from tests.conftest import SMALL_DIGITS_GENES

IMAGE = InputSpec((1, 8, 8), 10, (4.9,), (6.0,))
FLAT = InputSpec((5,), 3, (0.0,) * 5, (1.0,) * 5)
# Every efficiency gene searched; designs without a ``deploy`` section (SMALL_DIGITS_GENES) stay valid.
EFFICIENT = MacroOptions(
    precisions=["fp32", "bf16"],
    channels_last=[False, True],
    compile=[False, True],
    quantize=["none", "int8"],
    prune=[0.0, 0.5],
    data_fractions=[0.5, 1.0],
)


def _parents(space: MacroSpace, n: int = 12) -> list[Design]:
    rng = random.Random(7)
    return [Design.make("macro", SMALL_DIGITS_GENES)] + [space.sample(rng) for _ in range(n)]


def _forward(design: Design, inp: InputSpec) -> torch.Tensor:
    model = build_network(design.genes, inp).eval()
    with torch.no_grad():
        return model(torch.rand(2, *inp.shape))


@pytest.mark.parametrize("operator", sorted(OPERATORS))
def test_every_operator_yields_a_valid_buildable_model(operator: str) -> None:
    space = MacroSpace(IMAGE, EFFICIENT)
    applied = 0
    for i, parent in enumerate(_parents(space)):
        try:
            mutation = space.mutate(parent, random.Random(i), operator)
        except ValueError:
            continue  # the operator does not apply to this parent (e.g. remove_block with no blocks)
        applied += 1
        assert mutation.operator == operator and mutation.rationale
        assert mutation.design != parent
        space.validate(mutation.design)
        assert _forward(mutation.design, IMAGE).shape == (2, 10)
    assert applied > 0, f"{operator} never applied"


def test_samples_are_valid_and_build_for_images_and_flat_inputs() -> None:
    for inp in (IMAGE, FLAT):
        space = MacroSpace(inp)
        rng = random.Random(0)
        for _ in range(30):
            design = space.sample(rng)
            space.validate(design)
            assert _forward(design, inp).shape == (2, inp.classes)


def test_flat_inputs_get_dense_only_networks() -> None:
    space = MacroSpace(FLAT)
    rng = random.Random(1)
    for _ in range(20):
        assert space.sample(rng).genes["arch"]["blocks"] == []
    with pytest.raises(ValueError):
        space.mutate(Design.make("macro", {**SMALL_DIGITS_GENES}), rng, "add_block")


def test_validate_rejects_designs_outside_the_space() -> None:
    space = MacroSpace(IMAGE, MacroOptions(max_blocks=2))
    genes = Design.make("macro", SMALL_DIGITS_GENES).genes
    genes["arch"]["blocks"] = [{"type": "pool", "op": "max"}] * 4  # 8 -> 0 pixels
    with pytest.raises(ValueError, match="arch.blocks"):
        space.validate(Design.make("macro", genes))
    genes = Design.make("macro", SMALL_DIGITS_GENES).genes
    genes["recipe"]["lr"] = 50.0
    with pytest.raises(ValueError, match="recipe.lr"):
        space.validate(Design.make("macro", genes))


def test_static_metrics_count_params_and_flops() -> None:
    space = MacroSpace(IMAGE)
    design = Design.make("macro", SMALL_DIGITS_GENES)
    metrics = space.static_metrics(design)
    # conv 1->16 3x3 without bias (batch norm) + bn 32 + linear 16*8*8 -> 10
    assert metrics["params"] == 16 * 9 + 32 + 1024 * 10 + 10
    assert metrics["flops"] > 0


def test_residual_and_separable_blocks_build_with_width_changes() -> None:
    genes = Design.make("macro", SMALL_DIGITS_GENES).genes
    genes["arch"]["blocks"] = [
        {"type": "residual", "width": 8, "kernel": 3},
        {"type": "dsconv", "width": 24, "kernel": 5},
        {"type": "pool", "op": "avg"},
        {"type": "residual", "width": 24, "kernel": 3},
    ]
    genes["arch"]["norm"], genes["arch"]["pooling"] = "group", "avg"
    assert _forward(Design.make("macro", genes), IMAGE).shape == (2, 10)


def test_efficiency_genes_are_sampled_only_when_searched() -> None:
    rng = random.Random(0)
    plain = MacroSpace(IMAGE).sample(rng)
    assert "deploy" not in plain.genes and "data_fraction" not in plain.genes["recipe"]
    searched = [MacroSpace(IMAGE, EFFICIENT).sample(rng) for _ in range(20)]
    assert all(
        set(d.genes["deploy"]) == {"precision", "channels_last", "compile", "quantize", "prune"} for d in searched
    )
    assert {d.genes["recipe"]["data_fraction"] for d in searched} == {0.5, 1.0}


def test_an_efficiency_gene_outside_the_space_is_refused() -> None:
    genes = {**SMALL_DIGITS_GENES, "deploy": {"precision": "bf16"}}
    with pytest.raises(ValueError, match="deploy.precision"):
        MacroSpace(IMAGE).validate(Design.make("macro", genes))
    with pytest.raises(ValueError, match="deploy.turbo: unknown"):
        MacroSpace(IMAGE, EFFICIENT).validate(Design.make("macro", {**SMALL_DIGITS_GENES, "deploy": {"turbo": 1}}))
