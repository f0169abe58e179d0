"""The static check: what it refuses (with a reason naming the line) and what ordinary training code may do."""

from __future__ import annotations

import textwrap

import pytest

from evoforge.sandbox import DEFAULT_IMPORTS, check_source

TRAINING_CODE = '''
"""Train a small network; docstrings may mention __call__ freely."""
from __future__ import annotations

import json
import math

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset


class Pairs(Dataset):
    def __init__(self, n: int) -> None:
        super().__init__()
        self._x = torch.randn(n, 4)

    def __len__(self) -> int:
        return len(self._x)

    def __getitem__(self, i: int):
        return self._x[i], self._x[i].sum()


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))

    def forward(self, x):
        return self.layers(x).squeeze(-1)


def main() -> None:
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=getattr(math, "pi") / 100)
    for x, y in DataLoader(Pairs(64), batch_size=16):
        loss = nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    print(json.dumps({"loss": float(loss), "mean": float(np.mean([1.0, 2.0]))}))


if __name__ == "__main__":
    main()
'''


def check(code: str, allow: frozenset[str] = DEFAULT_IMPORTS) -> list[str]:
    return check_source(textwrap.dedent(code), allow)


def test_ordinary_training_code_passes() -> None:
    assert check(TRAINING_CODE) == []


@pytest.mark.parametrize("module", ["os", "subprocess", "ctypes", "socket", "shutil", "pathlib", "importlib", "sys"])
def test_import_outside_the_allow_list_is_refused_naming_the_module(module: str) -> None:
    assert check(f"x = 1\nimport {module}\n") == [f"line 2: import of '{module}' is not allowed"]


def test_from_import_outside_the_allow_list_is_refused() -> None:
    assert check("from os.path import join") == ["line 1: import of 'os' is not allowed"]


def test_the_allow_list_can_be_changed() -> None:
    assert check("import os", frozenset({"os"})) == []
    assert check("import math", frozenset({"os"})) == ["line 1: import of 'math' is not allowed"]


def test_relative_import_is_refused() -> None:
    assert check("from . import helper") == ["line 1: relative import is not allowed"]


def test_star_import_is_refused() -> None:
    assert check("from torch import *") == ["line 1: 'from torch import *' is not allowed (import names one by one)"]


@pytest.mark.parametrize(
    "code",
    [
        "import torch.utils.cpp_extension",
        "from torch.utils import cpp_extension",
        "import torch.hub",
        "import numpy.f2py",
    ],
)
def test_submodules_that_build_or_fetch_code_are_refused(code: str) -> None:
    reasons = check(code)
    assert reasons and all(r.startswith("line 1: ") for r in reasons)


@pytest.mark.parametrize(
    "name", ["exec", "eval", "compile", "__import__", "open", "input", "breakpoint", "globals", "locals", "vars"]
)
def test_dangerous_builtins_are_refused_called_or_not(name: str) -> None:
    assert f"line 1: use of '{name}' is not allowed" in check(f"{name}('x')")
    assert f"line 1: use of '{name}' is not allowed" in check(f"f = {name}")


def test_dunder_attribute_is_refused() -> None:
    assert check("x = ().__class__") == ["line 1: dunder '__class__' is not allowed"]


def test_dunder_name_is_refused() -> None:
    assert check("b = __builtins__") == ["line 1: dunder '__builtins__' is not allowed"]


def test_main_guard_super_init_and_future_import_pass() -> None:
    code = """
    from __future__ import annotations
    class A(object):
        def __init__(self):
            super().__init__()
            object.__init__(self)
    if __name__ == "__main__":
        print(A.__name__)
    """
    assert check(code) == []


def test_getattr_with_a_computed_name_is_refused() -> None:
    assert check("n = 'sa' + 've'\ngetattr(x, n)") == ["line 2: getattr with a computed attribute name is not allowed"]


def test_getattr_with_a_dunder_constant_is_refused() -> None:
    assert check("setattr(x, '__class__', y)") == [
        "line 1: dunder '__class__' is not allowed",
        "line 1: string naming dunder '__class__' is not allowed",
    ]


def test_getattr_with_a_plain_constant_passes() -> None:
    assert check("import math\nv = getattr(math, 'pi')") == []


@pytest.mark.parametrize(
    "code",
    [
        "import torch\ntorch.save(m, 'w.pt')",
        "import torch\ntorch.load('w.pt')",
        "import numpy as np\nnp.save('a.npy', a)",
        "import numpy as np\nnp.fromfile('a.bin')",
        "a.tofile('a.bin')",
        "frame.to_csv('out.csv')",
        "from torch import save",
        "import torch\ntorch.ops.load_library('x.so')",
    ],
)
def test_file_system_and_native_code_reached_through_allowed_modules_is_refused(code: str) -> None:
    reasons = check(code)
    assert reasons and all("not allowed" in r for r in reasons)


@pytest.mark.parametrize("code", ["import torch\ntorch.os.system('id')", "import random\nrandom._os.getpid()"])
def test_modules_that_allowed_modules_expose_are_refused(code: str) -> None:
    assert any("(file system, processes or native code)" in r for r in check(code))


def test_private_attribute_of_another_object_is_refused() -> None:
    assert check("import torch\nc = torch._C") == [
        "line 2: private attribute '_C' is not allowed (only on self or cls)"
    ]


def test_dunder_in_a_format_string_is_refused() -> None:
    assert check("s = '{0.__globals__}'.format(f)") == ["line 1: string naming dunder '__globals__' is not allowed"]


def test_match_class_pattern_reaching_a_dunder_is_refused() -> None:
    code = """
    match x:
        case object(__class__=c):
            pass
    """
    assert check(code) == ["line 3: dunder '__class__' is not allowed"]


def test_syntax_error_is_refused_with_its_line() -> None:
    reasons = check("x = 1\ndef broken(:\n")
    assert len(reasons) == 1 and reasons[0].startswith("line 2: syntax error")


def test_reasons_come_in_line_order() -> None:
    reasons = check("x = eval('1')\nimport os\ny = open\n")
    assert [r.split(":")[0] for r in reasons] == ["line 1", "line 2", "line 3"]
