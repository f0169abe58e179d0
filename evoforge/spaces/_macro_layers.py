# Building blocks of evoforge's macro-architecture networks. This module depends on torch alone: `evoforge
# export` copies it verbatim into the exported model file, so an exported model loads without evoforge.
from __future__ import annotations

import math

import torch
from torch import nn


def make_activation(name: str) -> nn.Module:
    table = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh, "leaky_relu": nn.LeakyReLU}
    return table[name]()


def make_norm2d(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        return nn.GroupNorm(math.gcd(channels, 8), channels)
    return nn.Identity()


def make_norm1d(kind: str, features: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm1d(features)
    if kind == "group":
        return nn.LayerNorm(features)
    return nn.Identity()


class Normalize(nn.Module):
    """Standardizes raw inputs with statistics of the training split: (x - mean) / std."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, mean: list[float], std: list[float], shape: list[int]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).reshape(shape), persistent=False)
        self.register_buffer("std", torch.tensor(std).reshape(shape), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class ConvBlock(nn.Module):
    """k x k convolution, normalization, activation; keeps the spatial size."""

    def __init__(self, cin: int, cout: int, kernel: int, norm: str, activation: str) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=norm == "none")
        self.norm = make_norm2d(norm, cout)
        self.act = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, cin, H, W) -> (N, cout, H, W)
        return self.act(self.norm(self.conv(x)))


class DSConvBlock(nn.Module):
    """Depthwise-separable convolution: a k x k depthwise then a 1 x 1 pointwise convolution."""

    def __init__(self, cin: int, cout: int, kernel: int, norm: str, activation: str) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, kernel, padding=kernel // 2, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=norm == "none")
        self.norm = make_norm2d(norm, cout)
        self.act = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, cin, H, W) -> (N, cout, H, W)
        return self.act(self.norm(self.pointwise(self.depthwise(x))))


class ResidualBlock(nn.Module):
    """Two k x k convolutions with a shortcut (a 1 x 1 projection when the width changes)."""

    def __init__(self, cin: int, cout: int, kernel: int, norm: str, activation: str) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=norm == "none")
        self.norm1 = make_norm2d(norm, cout)
        self.act1 = make_activation(activation)
        self.conv2 = nn.Conv2d(cout, cout, kernel, padding=kernel // 2, bias=norm == "none")
        self.norm2 = make_norm2d(norm, cout)
        self.shortcut = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1, bias=False)
        self.act2 = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, cin, H, W) -> (N, cout, H, W)
        y = self.norm2(self.conv2(self.act1(self.norm1(self.conv1(x)))))
        return self.act2(y + self.shortcut(x))


class DenseBlock(nn.Module):
    """Linear layer, normalization, activation, dropout."""

    def __init__(self, fin: int, fout: int, norm: str, activation: str, dropout: float) -> None:
        super().__init__()
        self.linear = nn.Linear(fin, fout, bias=norm == "none")
        self.norm = make_norm1d(norm, fout)
        self.act = make_activation(activation)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, fin) -> (N, fout)
        return self.drop(self.act(self.norm(self.linear(x))))


class GlobalAvgPool(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, H, W) -> (N, C)
        return x.mean(dim=(2, 3))


class Network(nn.Module):
    """normalize -> features (convolutional blocks) -> head (to a vector, dense blocks, classifier)."""

    def __init__(self, normalize: nn.Module, features: list[nn.Module], head: list[nn.Module]) -> None:
        super().__init__()
        self.normalize = normalize
        self.features = nn.Sequential(*features)
        self.head = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, *input_shape) -> (N, classes) logits
        return self.head(self.features(self.normalize(x)))


CONSTRUCTORS = {
    "ConvBlock": ConvBlock,
    "DSConvBlock": DSConvBlock,
    "ResidualBlock": ResidualBlock,
    "DenseBlock": DenseBlock,
    "GlobalAvgPool": GlobalAvgPool,
    "nn.MaxPool2d": nn.MaxPool2d,
    "nn.AvgPool2d": nn.AvgPool2d,
    "nn.Flatten": nn.Flatten,
    "nn.Dropout": nn.Dropout,
    "nn.Linear": nn.Linear,
}
