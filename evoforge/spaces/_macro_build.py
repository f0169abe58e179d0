"""From macro-space genes to layer specifications: the one description that both the builder and the
exporter read, so the model evoforge trains and the file it exports have the same structure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from evoforge.spaces import _macro_layers as layers
from evoforge.spaces._input import InputSpec


@dataclass(frozen=True)
class LayerSpec:
    kind: str  # a key of layers.CONSTRUCTORS
    args: tuple[Any, ...]
    out_shape: tuple[int, ...]  # per-sample shape after this layer


_BLOCK_CLASSES = {"conv": "ConvBlock", "dsconv": "DSConvBlock", "residual": "ResidualBlock"}


def feature_specs(genes: dict[str, Any], inp: InputSpec) -> list[LayerSpec]:
    arch = genes["arch"]
    shape = inp.shape
    specs: list[LayerSpec] = []
    for block in arch["blocks"]:
        c, h, w = shape
        if block["type"] == "pool":
            shape = (c, h // 2, w // 2)
            kind = "nn.MaxPool2d" if block["op"] == "max" else "nn.AvgPool2d"
            specs.append(LayerSpec(kind, (2,), shape))
        else:
            shape = (block["width"], h, w)
            args = (c, block["width"], block["kernel"], arch["norm"], arch["activation"])
            specs.append(LayerSpec(_BLOCK_CLASSES[block["type"]], args, shape))
    return specs


def head_specs(genes: dict[str, Any], inp: InputSpec, feature_shape: tuple[int, ...]) -> list[LayerSpec]:
    arch = genes["arch"]
    specs: list[LayerSpec] = []
    if len(feature_shape) == 3:
        if arch["pooling"] == "avg":
            feature_shape = (feature_shape[0],)
            specs.append(LayerSpec("GlobalAvgPool", (), feature_shape))
        else:
            feature_shape = (feature_shape[0] * feature_shape[1] * feature_shape[2],)
            specs.append(LayerSpec("nn.Flatten", (), feature_shape))
    width = feature_shape[0]
    for hidden in arch["hidden"]:
        specs.append(
            LayerSpec("DenseBlock", (width, hidden, arch["norm"], arch["activation"], arch["dropout"]), (hidden,))
        )
        width = hidden
    if arch["dropout"] > 0:
        specs.append(LayerSpec("nn.Dropout", (arch["dropout"],), (width,)))
    specs.append(LayerSpec("nn.Linear", (width, inp.classes), (inp.classes,)))
    return specs


def network_specs(genes: dict[str, Any], inp: InputSpec) -> tuple[list[LayerSpec], list[LayerSpec]]:
    features = feature_specs(genes, inp)
    shape = features[-1].out_shape if features else inp.shape
    return features, head_specs(genes, inp, shape)


def build_network(genes: dict[str, Any], inp: InputSpec) -> nn.Module:
    features, head = network_specs(genes, inp)
    normalize = layers.Normalize(list(inp.mean), list(inp.std), inp.stats_shape())
    return layers.Network(
        normalize,
        [layers.CONSTRUCTORS[s.kind](*s.args) for s in features],  # type: ignore[operator]
        [layers.CONSTRUCTORS[s.kind](*s.args) for s in head],  # type: ignore[operator]
    )
