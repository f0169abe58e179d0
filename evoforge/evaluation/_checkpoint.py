"""Training checkpoints as plain safetensors files, so resuming a trial unpickles nothing.

Every tensor in the state goes into the safetensors blob under its path in the structure (``opt/state/0/exp_avg``);
the structure around them is JSON in the file's metadata (key ``evoforge.state``). In that JSON each object is a tag:
``{"dict": [[key, value], ...]}`` (keys stay str or int, as an optimizer's ``state`` needs),
``{"tuple": [...]}`` and ``{"tensor": name, "device": type}``; lists, str, numbers, bools and null are themselves.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load, save

__all__ = ["pack_state", "unpack_state"]

FORMAT = "evoforge.checkpoint/1"


def pack_state(state: Any) -> bytes:
    """A safetensors blob holding ``state``: dicts with str or int keys, lists, tuples, str, int, float (inf and nan
    included), bool, None and tensors of any dtype and shape. Tensors are copied (contiguous, on the CPU), so the
    caller's tensors are untouched. Raises ``TypeError`` for any other type or key."""
    tensors: dict[str, torch.Tensor] = {}
    tree = _encode(state, [], tensors)
    return save(tensors, metadata={"format": FORMAT, "evoforge.state": json.dumps(tree, allow_nan=True)})


def unpack_state(data: bytes | bytearray | memoryview, device: torch.device | str) -> Any:
    """The state ``pack_state`` wrote, with dtypes, shapes, int keys and tuples as they were. A tensor that was on
    the CPU comes back on the CPU (random-generator states, Adam's step counts: where training keeps them); every
    other tensor comes back on ``device``. A blob that is not such a checkpoint raises ``ValueError``."""
    data = bytes(data) if isinstance(data, (bytearray, memoryview)) else data
    structure = _metadata(data).get("evoforge.state")
    if not isinstance(structure, str):
        raise ValueError("not an evoforge checkpoint: no 'evoforge.state' in the safetensors metadata")
    try:
        tensors = load(data)
        return _decode(json.loads(structure), tensors, torch.device(device))
    except (SafetensorError, ValueError, KeyError, TypeError, RecursionError) as e:
        raise ValueError(f"malformed checkpoint ({type(e).__name__}: {e})".splitlines()[0]) from None


def _metadata(data: bytes) -> dict[str, Any]:
    """The safetensors header's metadata: an 8-byte little-endian length, then that many bytes of JSON."""
    if not isinstance(data, bytes) or len(data) < 8:
        raise ValueError("not a safetensors checkpoint: shorter than its header length")
    (length,) = struct.unpack_from("<Q", data)
    if length > len(data) - 8:
        raise ValueError(f"not a safetensors checkpoint: header of {length} bytes declared, {len(data) - 8} present")
    try:
        header = json.loads(data[8 : 8 + length])
    except (ValueError, RecursionError) as e:
        raise ValueError(f"not a safetensors checkpoint: header is not JSON: {e}") from None
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ValueError(f"not an evoforge checkpoint: its metadata has no format {FORMAT!r}")
    return metadata


def _encode(value: Any, path: list[str], tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, torch.Tensor):
        name = "/".join(path) or "."
        while name in tensors or name == "__metadata__":  # a key holding "/" could repeat a path
            name += "'"
        # safetensors takes no views or shared storage: a contiguous copy of each tensor is both.
        tensors[name] = value.detach().cpu().clone(memory_format=torch.contiguous_format)
        return {"tensor": name, "device": value.device.type}
    if value is None or isinstance(value, (str, int, float)):  # bool is an int
        return value
    if isinstance(value, list):
        return [_encode(v, [*path, str(i)], tensors) for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, [*path, str(i)], tensors) for i, v in enumerate(value)]}
    if isinstance(value, dict):
        return {"dict": [[_key(k), _encode(v, [*path, str(k)], tensors)] for k, v in value.items()]}
    raise TypeError(f"pack_state: cannot store a {type(value).__name__} at {'/'.join(path) or 'the top'}")


def _key(key: Any) -> str | int:
    if isinstance(key, str) or (isinstance(key, int) and not isinstance(key, bool)):
        return key
    raise TypeError(f"pack_state: dict keys must be str or int, not {type(key).__name__}")


def _decode(tree: Any, tensors: dict[str, torch.Tensor], device: torch.device) -> Any:
    if isinstance(tree, list):
        return [_decode(v, tensors, device) for v in tree]
    if not isinstance(tree, dict):
        return tree
    if set(tree) == {"tensor", "device"}:
        tensor = tensors[tree["tensor"]]
        return tensor if tree["device"] == "cpu" else tensor.to(device)
    if set(tree) == {"tuple"}:
        return tuple(_decode(v, tensors, device) for v in tree["tuple"])
    if set(tree) == {"dict"}:
        return {_key(k): _decode(v, tensors, device) for k, v in tree["dict"]}
    raise ValueError(f"unknown tag {sorted(tree)[:3]}")
