from __future__ import annotations

import math
import os
import struct
from typing import Any

import pytest

from evoforge._codec import MAGIC, pack, unpack

VALUES = {
    "scalars": [None, True, False, 0, -7, 2**70, 1.5, -0.0, "", "text"],
    "nested-bytes": {"a": [b"\x00\x01", {"b": b"xyz", "c": [b"", b"\xff" * 3]}], "d": b"tail"},
    "empty-bytes": b"",
    "empty-containers": {"list": [], "dict": {}, "nested": [[], {}]},
    "unicode": {"ключ": "значение", "emoji": "🧬✓", "nul": "a\x00b"},
    "tag-keys": {"$b": 0, "$d": {"$b": b"raw"}, "inner": [{"$b": 1, "x": 2}]},
}


@pytest.mark.parametrize("value", list(VALUES.values()), ids=list(VALUES))
def test_a_packed_value_unpacks_equal(value: Any) -> None:
    assert unpack(pack(value)) == value


def test_infinities_and_nan_round_trip() -> None:
    inf, minus, nan = unpack(pack([math.inf, -math.inf, math.nan]))
    assert inf == math.inf and minus == -math.inf and math.isnan(nan)


def test_several_megabytes_of_bytes_round_trip() -> None:
    big = os.urandom(5 * 1024 * 1024)
    assert unpack(pack({"artifact": big, "small": b"x"})) == {"artifact": big, "small": b"x"}


def test_tuples_come_back_as_lists_and_bytearrays_as_bytes() -> None:
    assert unpack(pack({"t": (1, (2, b"x")), "ba": bytearray(b"yz")})) == {"t": [1, [2, b"x"]], "ba": b"yz"}


def test_a_memoryview_of_a_blob_unpacks() -> None:
    assert unpack(memoryview(pack({"k": b"v"}))) == {"k": b"v"}


@pytest.mark.parametrize("value", [{1: "int key"}, {"set": {1, 2}}, object()], ids=["int-key", "set", "object"])
def test_packing_a_value_outside_json_and_bytes_is_a_type_error(value: Any) -> None:
    with pytest.raises(TypeError):
        pack(value)


def _blob(header: bytes, body: bytes = b"", length: int | None = None) -> bytes:
    return MAGIC + struct.pack("<Q", len(header) if length is None else length) + header + body


MALFORMED = {
    "empty": b"",
    "wrong-magic": b"evoforge-codec-9\n" + pack(1)[len(MAGIC) :],
    "truncated-length": MAGIC + b"\x01\x00",
    "truncated-body": pack({"a": b"0123456789"})[:-3],
    "extra-body": pack({"a": b"0123"}) + b"!",
    "forged-header-length": _blob(b'{"sizes":[],"value":1}', length=2**63),
    "forged-segment-size": _blob(b'{"sizes":[1099511627776],"value":{"$b":0}}', b"abc"),
    "negative-size": _blob(b'{"sizes":[-1,4],"value":1}', b"abc"),
    "header-not-json": _blob(b"{not json"),
    "header-not-utf8": _blob(b'{"sizes":[],"value":"\xff"}'),
    "header-not-object": _blob(b"[1,2]"),
    "header-missing-value": _blob(b'{"sizes":[]}'),
    "reference-out-of-range": _blob(b'{"sizes":[1],"value":{"$b":1}}', b"a"),
    "reference-not-int": _blob(b'{"sizes":[1],"value":{"$b":"0"}}', b"a"),
    "unescaped-tag": _blob(b'{"sizes":[1],"value":{"$b":0,"x":1}}', b"a"),
    "escape-not-object": _blob(b'{"sizes":[],"value":{"$d":[1]}}'),
    "deeply-nested": _blob(b'{"sizes":[],"value":' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    "not-bytes": "a str",
}


@pytest.mark.parametrize("data", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_input_is_a_one_line_value_error(data: Any) -> None:
    with pytest.raises(ValueError) as raised:
        unpack(data)
    assert raised.type is ValueError and "\n" not in str(raised.value)
