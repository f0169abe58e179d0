"""Structured channel pruning of a trained macro-space network: keep the channels (and dense units) with the
largest L1 weight norms, copy their weights into the narrower network of the same design, then fine-tune briefly.
The pruned network is exactly ``build_network(deployed_genes(genes))``, so it can be rebuilt and exported."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from evoforge.spaces import _macro_layers as layers

Kept = torch.Tensor  # sorted indices of the channels that stay


def _top(weight: torch.Tensor, n: int) -> Kept:
    """The ``n`` output channels of ``weight`` (out, ...) with the largest L1 norms, in their original order."""
    norms = weight.detach().abs().reshape(weight.shape[0], -1).sum(dim=1)
    return torch.sort(torch.topk(norms, n).indices).values


def _copy(dst: nn.Module, src: nn.Module, out: Kept | None, inp: Kept | None) -> None:
    """Copy ``src``'s parameters and buffers into ``dst``, keeping output rows ``out`` and input columns ``inp``."""
    with torch.no_grad():
        for name, target in [*dst.named_parameters(recurse=False), *dst.named_buffers(recurse=False)]:
            value = getattr(src, name)
            if value.dim() == 0:  # num_batches_tracked
                target.copy_(value)
                continue
            if out is not None:
                value = value[out]
            if inp is not None and value.dim() > 1 and target.shape[1] != value.shape[1]:
                value = value[:, inp]
            target.copy_(value)


def _norm(dst: nn.Module, src: nn.Module, out: Kept) -> None:
    if not isinstance(src, nn.Identity):
        _copy(dst, src, out, None)


def _conv_block(d: Any, s: Any, inp: Kept) -> Kept:
    out = _top(s.conv.weight, d.conv.out_channels)
    _copy(d.conv, s.conv, out, inp)
    _norm(d.norm, s.norm, out)
    return out


def _dsconv_block(d: Any, s: Any, inp: Kept) -> Kept:
    _copy(d.depthwise, s.depthwise, inp, None)  # one filter per input channel
    out = _top(s.pointwise.weight, d.pointwise.out_channels)
    _copy(d.pointwise, s.pointwise, out, inp)
    _norm(d.norm, s.norm, out)
    return out


def _residual_block(d: Any, s: Any, inp: Kept) -> Kept:
    inner = _top(s.conv1.weight, d.conv1.out_channels)
    _copy(d.conv1, s.conv1, inner, inp)
    _norm(d.norm1, s.norm1, inner)
    if isinstance(s.shortcut, nn.Identity) and isinstance(d.shortcut, nn.Identity):
        out = inp  # the sum adds input channel i to output channel i: keep the same ones
    elif isinstance(s.shortcut, nn.Identity):  # widths that differed only after rounding: a projection is needed
        out = _top(s.conv2.weight, d.conv2.out_channels)
        with torch.no_grad():  # the projection that picks, for each kept output channel, the same input channel
            d.shortcut.weight.copy_((out[:, None] == inp[None, :]).to(d.shortcut.weight.dtype)[:, :, None, None])
    else:
        joined = torch.cat([s.conv2.weight.flatten(1), s.shortcut.weight.flatten(1)], dim=1)
        out = inp if isinstance(d.shortcut, nn.Identity) else _top(joined, d.conv2.out_channels)
        if not isinstance(d.shortcut, nn.Identity):
            _copy(d.shortcut, s.shortcut, out, inp)
    _copy(d.conv2, s.conv2, out, inner)
    _norm(d.norm2, s.norm2, out)
    return out


def _dense_block(d: Any, s: Any, inp: Kept) -> Kept:
    out = _top(s.linear.weight, d.linear.out_features)
    _copy(d.linear, s.linear, out, inp)
    _norm(d.norm, s.norm, out)
    return out


def transfer(pruned: nn.Module, trained: nn.Module, in_channels: int, spatial: int) -> None:
    """Fill ``pruned`` (built from ``deployed_genes``) with ``trained``'s strongest channels. ``spatial`` is H * W
    of the feature map entering the head (see ``flat_spatial``)."""
    assert isinstance(pruned, layers.Network) and isinstance(trained, layers.Network)
    kept: Kept = torch.arange(in_channels)
    for d, s in zip(pruned.features, trained.features, strict=True):
        if isinstance(s, layers.ConvBlock):
            kept = _conv_block(d, s, kept)
        elif isinstance(s, layers.DSConvBlock):
            kept = _dsconv_block(d, s, kept)
        elif isinstance(s, layers.ResidualBlock):
            kept = _residual_block(d, s, kept)
    for d, s in zip(pruned.head, trained.head, strict=True):
        if isinstance(s, nn.Flatten):  # channel c covers flat positions c*HW .. c*HW + HW - 1
            kept = (kept[:, None] * spatial + torch.arange(spatial, device=kept.device)[None, :]).flatten()
        elif isinstance(s, layers.DenseBlock):
            kept = _dense_block(d, s, kept)
        elif isinstance(s, nn.Linear):  # the classifier: every class stays
            _copy(d, s, None, kept)


def flat_spatial(trained: nn.Module, sample: torch.Tensor) -> int:
    """H * W of the feature map that enters the head, for one sample."""
    assert isinstance(trained, layers.Network)
    was_training = trained.training
    trained.eval()  # a pass in training mode would move the batch-norm statistics
    with torch.no_grad():
        features = trained.features(trained.normalize(sample[:1]))
    trained.train(was_training)
    return int(features[0, 0].numel()) if features.dim() == 4 else 1


@torch.no_grad()
def recalibrate_batch_norms(model: nn.Module, x: torch.Tensor, precision: Any, batch: int = 256) -> None:
    """Re-estimate every batch norm's running statistics on ``x``: after pruning, each layer sees a different mix of
    channels, and the statistics recorded in training no longer describe it (without this, accuracy right after
    pruning can fall to chance)."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the whole pass
    model.train()
    for i in range(0, len(x), batch):
        if len(x[i : i + batch]) < 2 and i > 0:
            continue  # batch norm cannot use a batch of one
        with precision():
            model(x[i : i + batch])
    for m, momentum in zip(norms, momenta, strict=True):
        m.momentum = momentum
    model.eval()
