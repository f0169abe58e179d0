"""JSON plus bytes in one blob, without pickle: what crosses a process or a database as a value.

A blob is ``MAGIC``, the header's length (8 bytes, little-endian), the header (UTF-8 JSON) and then the raw byte
segments back to back. The header is ``{"sizes": [n0, n1, ...], "value": ...}``: the value with each ``bytes`` in it
replaced by ``{"$b": i}``, the i-th segment. A dict of the value's own that has a ``"$b"`` or ``"$d"`` key is
written as ``{"$d": {...}}`` so it is never read back as a reference. Infinities and nan are written as Python's
``json`` writes and reads them (``Infinity``, ``-Infinity``, ``NaN``). Reading a blob parses JSON and slices bytes;
nothing in it is ever executed or imported.
"""

from __future__ import annotations

import itertools
import json
import struct
from typing import Any

__all__ = ["pack", "unpack"]

MAGIC = b"evoforge-codec-1\n"
_LENGTH = struct.Struct("<Q")
_TAGS = ("$b", "$d")


def pack(value: Any) -> bytes:
    """One blob holding ``value``: dicts with str keys, lists, str, int, float (inf and nan included), bool, None,
    and ``bytes`` (or ``bytearray``) anywhere. Tuples are written as lists and come back as lists; bytearrays come
    back as bytes. Raises ``TypeError`` for any other type or a dict key that is not a str."""
    segments: list[bytes] = []
    tree = _encode(value, segments)
    header = json.dumps({"sizes": [len(s) for s in segments], "value": tree}, allow_nan=True, separators=(",", ":"))
    encoded = header.encode()
    return b"".join([MAGIC, _LENGTH.pack(len(encoded)), encoded, *segments])


def unpack(data: bytes | bytearray | memoryview) -> Any:
    """The value ``pack`` wrote into ``data``. Any malformed, truncated or hostile input raises ``ValueError`` with
    a one-line message, and no length read from the input is trusted beyond the input's actual size."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"not an evoforge codec blob: a {type(data).__name__}, not bytes")
    # A view, so the body is copied once, into its segments (a database driver may hand over a memoryview).
    header, body = _split(memoryview(bytes(data) if isinstance(data, memoryview) else data))
    if set(header) != {"sizes", "value"}:
        raise ValueError("malformed blob: the header needs exactly 'sizes' and 'value'")
    sizes, tree = header["sizes"], header["value"]
    if not isinstance(sizes, list) or not all(type(n) is int and n >= 0 for n in sizes):
        raise ValueError("malformed blob: 'sizes' must be a list of non-negative integers")
    if sum(sizes) != len(body):
        raise ValueError(f"malformed blob: segments declare {sum(sizes)} bytes, {len(body)} follow the header")
    ends = list(itertools.accumulate(sizes))
    segments = [bytes(body[end - n : end]) for end, n in zip(ends, sizes, strict=True)]
    try:
        return _decode(tree, segments)
    except RecursionError:
        raise ValueError("malformed blob: value nested too deeply") from None


def _split(data: memoryview) -> tuple[dict[str, Any], memoryview]:
    """The parsed header and the bytes after it, checked against the data's real size."""
    if data[: len(MAGIC)] != MAGIC:
        raise ValueError("not an evoforge codec blob: wrong magic bytes")
    start = len(MAGIC) + _LENGTH.size
    if len(data) < start:
        raise ValueError("truncated blob: no header length")
    (length,) = _LENGTH.unpack_from(data, len(MAGIC))
    if length > len(data) - start:
        raise ValueError(f"truncated blob: header of {length} bytes declared, {len(data) - start} present")
    try:
        header = json.loads(bytes(data[start : start + length]).decode())
    except (ValueError, RecursionError) as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ValueError(f"malformed blob: header is not JSON: {e}") from None
    if not isinstance(header, dict):
        raise ValueError("malformed blob: header is not a JSON object")
    return header, data[start + length :]


def _encode(value: Any, segments: list[bytes]) -> Any:
    if isinstance(value, (bytes, bytearray)):
        segments.append(bytes(value))
        return {"$b": len(segments) - 1}
    if value is None or isinstance(value, (str, int, float)):  # bool is an int
        return value
    if isinstance(value, (list, tuple)):
        return [_encode(v, segments) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("pack: dict keys must be str")
        items = {k: _encode(v, segments) for k, v in value.items()}
        return {"$d": items} if any(tag in value for tag in _TAGS) else items
    raise TypeError(f"pack: cannot encode a {type(value).__name__}")


def _decode(tree: Any, segments: list[bytes]) -> Any:
    if isinstance(tree, list):
        return [_decode(v, segments) for v in tree]
    if not isinstance(tree, dict):
        return tree
    if len(tree) == 1 and "$b" in tree:
        index = tree["$b"]
        if type(index) is not int or not 0 <= index < len(segments):
            raise ValueError(f"malformed blob: bytes reference {index!r} out of range")
        return segments[index]
    if len(tree) == 1 and "$d" in tree:
        if not isinstance(tree["$d"], dict):
            raise ValueError("malformed blob: an escaped dict is not a JSON object")
        tree = tree["$d"]  # its keys are the value's own, never tags
    elif any(tag in tree for tag in _TAGS):
        raise ValueError("malformed blob: a tag key in an unescaped dict")
    return {k: _decode(v, segments) for k, v in tree.items()}
