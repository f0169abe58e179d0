from __future__ import annotations

import copy

import pytest
import torch

from evoforge.evaluation._prune import flat_spatial, transfer
from evoforge.spaces import InputSpec, build_network, deployed_genes
from tests.conftest import SMALL_DIGITS_GENES

IMAGE = InputSpec((1, 8, 8), 10, (4.9,), (6.0,))
BLOCKS = {
    "conv": [{"type": "conv", "width": 16, "kernel": 3}],
    "pool+dsconv": [{"type": "pool", "op": "max"}, {"type": "dsconv", "width": 16, "kernel": 3}],
    "conv+identity residual": [
        {"type": "conv", "width": 16, "kernel": 3},
        {"type": "residual", "width": 16, "kernel": 3},
    ],
    "projection residual": [{"type": "residual", "width": 24, "kernel": 5}],
}


def _genes(blocks: list, norm: str, pooling: str) -> dict:
    g = copy.deepcopy(SMALL_DIGITS_GENES)
    g["arch"].update(blocks=blocks, norm=norm, pooling=pooling, hidden=[32])
    return g


def _trained_like(genes: dict) -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_network(genes, IMAGE)
    for m in model.modules():  # running statistics that are not the defaults, as after training
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2.0)
    return model.eval()


@pytest.mark.parametrize("blocks", list(BLOCKS.values()), ids=list(BLOCKS))
@pytest.mark.parametrize("norm", ["batch", "group", "none"])
@pytest.mark.parametrize("pooling", ["flatten", "avg"])
def test_pruning_nothing_copies_the_network_exactly(blocks: list, norm: str, pooling: str) -> None:
    genes = _genes(blocks, norm, pooling)
    trained = _trained_like(genes)
    copy_ = build_network(genes, IMAGE).eval()
    x = torch.randn(4, 1, 8, 8)
    transfer(copy_, trained, 1, flat_spatial(trained, x))
    assert torch.equal(copy_(x), trained(x))


@pytest.mark.parametrize("blocks", list(BLOCKS.values()), ids=list(BLOCKS))
def test_pruning_half_keeps_the_strongest_channels_of_each_layer(blocks: list) -> None:
    genes = {**_genes(blocks, "batch", "flatten"), "deploy": {"prune": 0.5}}
    trained = _trained_like(genes)
    pruned = build_network(deployed_genes(genes), IMAGE).eval()
    x = torch.randn(4, 1, 8, 8)
    transfer(pruned, trained, 1, flat_spatial(trained, x))
    assert pruned(x).shape == (4, 10)
    assert sum(p.numel() for p in pruned.parameters()) < 0.5 * sum(p.numel() for p in trained.parameters())
    first = next(m for m in trained.features.modules() if isinstance(m, torch.nn.Conv2d) and m.groups == 1)
    kept = next(m for m in pruned.features.modules() if isinstance(m, torch.nn.Conv2d) and m.groups == 1)
    norms = first.weight.abs().flatten(1).sum(1)
    strongest = norms.sort(descending=True).values[: kept.out_channels]
    assert torch.equal(kept.weight.abs().flatten(1).sum(1).sort(descending=True).values, strongest)


@pytest.mark.parametrize(
    ("inp", "blocks", "fraction"),
    [
        # the original's projection (16 -> 24 channels) becomes an identity once both round to 2
        (IMAGE, [{"type": "conv", "width": 16, "kernel": 3}, {"type": "residual", "width": 24, "kernel": 3}], 0.9),
        # the original's identity (8 input channels, width 8) needs a projection once the width is cut to 4
        (InputSpec((8, 6, 6), 10, (0.0,) * 8, (1.0,) * 8), [{"type": "residual", "width": 8, "kernel": 3}], 0.5),
    ],
    ids=["projection-to-identity", "identity-to-projection"],
)
def test_a_residual_shortcut_that_changes_kind_under_pruning_still_transfers(
    inp: InputSpec, blocks: list, fraction: float
) -> None:
    genes = {**_genes(blocks, "batch", "flatten"), "deploy": {"prune": fraction}}
    torch.manual_seed(0)
    trained = build_network(genes, inp).eval()
    pruned = build_network(deployed_genes(genes), inp).eval()
    x = torch.randn(3, *inp.shape)
    transfer(pruned, trained, inp.shape[0], flat_spatial(trained, x))
    assert pruned(x).shape == (3, 10)
