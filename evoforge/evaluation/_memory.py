"""Peak memory of a forward pass, measured on the device that runs it."""

from __future__ import annotations

import weakref
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves


class _LiveTensorBytes(TorchDispatchMode):
    """Counts the bytes of every storage an operation creates while they are alive, and the peak of that count.
    Storages are told apart by address, so views of one storage count once, and views of the storages that
    existed before (``resident``: weights, buffers, the input) do not count at all."""

    def __init__(self, resident: set[int]) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0
        self._resident = resident
        self._alive: set[int] = set()

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        for leaf in tree_leaves(out):
            if isinstance(leaf, torch.Tensor):
                self._track(leaf.untyped_storage())
        return out

    def _track(self, storage: torch.UntypedStorage) -> None:
        key, size = storage.data_ptr(), storage.nbytes()
        if key in self._alive or key in self._resident or size == 0:
            return
        self._alive.add(key)
        self.live += size
        self.peak = max(self.peak, self.live)
        weakref.finalize(storage, self._free, key, size)

    def _free(self, key: int, size: int) -> None:
        self._alive.discard(key)
        self.live -= size


def _packed(model: nn.Module) -> list[torch.Tensor]:
    """Weights that quantized layers keep packed, outside ``parameters()``."""
    out: list[torch.Tensor] = []
    for m in model.modules():
        packed = getattr(m, "_packed_params", None)
        if packed is not None and hasattr(packed, "_weight_bias"):
            out += [t for t in packed._weight_bias() if isinstance(t, torch.Tensor)]
    return out


def _resident(model: nn.Module, batch: torch.Tensor) -> dict[int, int]:
    """Address -> bytes of the storages that exist before the pass: weights (packed ones too), buffers, the
    input."""
    out = {
        t.untyped_storage().data_ptr(): t.untyped_storage().nbytes()
        for t in [*model.parameters(), *model.buffers(), batch]
    }
    for t in _packed(model):  # quantized tensors: count their elements at their element size
        out[id(t)] = t.numel() * t.element_size()
    return out


@torch.no_grad()
def peak_memory_mb(model: nn.Module, batch: torch.Tensor) -> float:
    """Peak memory (MiB) of one inference forward pass over ``batch``: the weights, buffers and input plus the
    largest total of intermediate tensors alive at once. On CUDA the allocator's own peak is read; on CPU every
    storage the pass allocates is counted while it lives."""
    model.eval()
    if batch.device.type == "cuda":
        torch.cuda.synchronize(batch.device)
        torch.cuda.reset_peak_memory_stats(batch.device)
        base = torch.cuda.memory_allocated(batch.device)
        model(batch)
        torch.cuda.synchronize(batch.device)
        extra = torch.cuda.max_memory_allocated(batch.device) - base
        return (sum(_resident(model, batch).values()) + extra) / 2**20
    resident = _resident(model, batch)
    counter = _LiveTensorBytes(set(resident))
    with counter:
        model(batch)
    return (sum(resident.values()) + counter.peak) / 2**20
