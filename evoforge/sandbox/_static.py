"""The static check of generated code: a deny-list and an allow-list read off the syntax tree.

It is defence in depth, not a proof: Python offers many roads to any object, and this check closes the obvious ones so
that a refusal comes early and with a reason. What contains code is the runtime sandbox (limits, namespaces).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection

# Top-level modules generated code may import.
DEFAULT_IMPORTS: frozenset[str] = frozenset(
    {"torch", "numpy", "math", "random", "json", "time", "collections", "functools", "itertools", "dataclasses"}
    | {"typing", "statistics", "sklearn", "scipy", "operator", "copy", "__future__", "abc", "enum", "re", "string"}
)
# Builtins that run or load code, read input or files, or expose namespaces: refused wherever named, called or not.
DENIED_BUILTINS = frozenset(
    {"exec", "eval", "compile", "__import__", "open", "input", "breakpoint", "globals", "locals", "vars", "help"}
)
# Builtins that take an attribute name as a string: allowed with a constant name that passes the attribute rules.
NAME_TAKING_BUILTINS = frozenset({"getattr", "setattr", "delattr", "hasattr"})
# Dunders that ordinary code needs (`if __name__ == "__main__"`, `super().__init__()`, `from __future__ import`).
ALLOWED_DUNDERS = frozenset({"__name__", "__init__", "__future__", "__main__"})
# Submodules of allowed modules that build or load native code, or fetch code from the network.
DENIED_MODULES = ("torch.utils.cpp_extension", "torch.hub", "torch.ops", "numpy.ctypeslib", "numpy.f2py")
# Modules that allowed modules expose as attributes (`torch.os`, `random._os`): refused as attribute names.
MODULE_NAMES = frozenset(
    {"os", "sys", "subprocess", "shutil", "socket", "pathlib", "ctypes", "importlib", "builtins", "pickle"}
    | {"marshal", "io", "tempfile", "glob", "multiprocessing", "signal", "posix", "nt"}
)
# Attribute names refused on any object: they reach the file system, processes or native code through allowed
# modules (`torch.save`, `numpy.load`, `frame.to_csv`), evaluate strings as code, or take names as strings.
DENIED_ATTRIBUTES = MODULE_NAMES | frozenset(
    {"save", "load", "fromfile", "tofile", "to_csv", "to_pickle", "to_parquet", "savez", "savez_compressed"}
    | {"savetxt", "loadtxt", "genfromtxt", "memmap", "open_memmap", "savemat", "loadmat", "from_file"}
    | {"load_library", "cpp_extension", "ctypeslib", "f2py", "hub", "ops", "system", "popen", "spawn", "environ"}
    | {"getenv", "get_type_hints", "attrgetter", "methodcaller"}
)
SELF_NAMES = frozenset({"self", "cls"})  # private attributes are the code's own business only on these
DUNDER = re.compile(r"__\w+__")


def check_source(
    source: str, allow_imports: Collection[str] = DEFAULT_IMPORTS, filename: str = "<candidate>"
) -> list[str]:
    """Reasons the code ``source`` is refused, each ``"line N: ..."``, in line order; [] when it passes.

    Refused: a syntax error; an import whose top-level module is not in ``allow_imports``, a relative or ``*``
    import, an import of a ``DENIED_MODULES`` submodule; any use of a ``DENIED_BUILTINS`` name; ``getattr`` and
    kin with a computed name; any dunder name, attribute or string (outside docstrings) except ``ALLOWED_DUNDERS``
    (defining dunder methods such as ``__len__`` is allowed: only reaching them is not); ``DENIED_ATTRIBUTES`` on
    any object (``torch.save``, ``numpy.load``, ``x.to_csv``, ``torch.os``); private attributes (``_name``) except
    on ``self`` and ``cls``. Defence in depth only: the runtime limits are what contain code.
    """
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as e:
        return [f"line {e.lineno or 0}: syntax error: {e.msg}"]
    checker = _Checker(frozenset(allow_imports), _docstrings(tree))
    checker.visit(tree)
    return [reason for _, reason in sorted(checker.reasons, key=lambda item: item[0])]


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes (never evaluated, so free to mention dunders)."""
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def attribute_problem(name: str, owner: ast.expr | None = None) -> str | None:
    """Why reaching attribute ``name`` (of ``owner``) is refused, or None."""
    if DUNDER.fullmatch(name):
        return None if name in ALLOWED_DUNDERS else f"dunder '{name}' is not allowed"
    if name in DENIED_ATTRIBUTES or name.lstrip("_") in MODULE_NAMES:
        return f"attribute '{name}' is not allowed (file system, processes or native code)"
    if name.startswith("_") and not (isinstance(owner, ast.Name) and owner.id in SELF_NAMES):
        return f"private attribute '{name}' is not allowed (only on self or cls)"
    return None


class _Checker(ast.NodeVisitor):
    def __init__(self, allow_imports: frozenset[str], docstrings: set[int]) -> None:
        self.allow, self.docstrings = allow_imports, docstrings
        self.reasons: list[tuple[int, str]] = []

    def refuse(self, node: ast.AST, reason: str) -> None:
        self.reasons.append((getattr(node, "lineno", 0), f"line {getattr(node, 'lineno', 0)}: {reason}"))

    def check_module(self, node: ast.AST, module: str) -> bool:
        """Refuse importing ``module`` if it is not allowed; True if it is allowed."""
        if module.split(".")[0] not in self.allow:
            self.refuse(node, f"import of '{module.split('.')[0]}' is not allowed")
        elif any(module == m or module.startswith(m + ".") for m in DENIED_MODULES):
            self.refuse(node, f"import of '{module}' is not allowed (native code or code from the network)")
        else:
            return True
        return False

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.check_module(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self.refuse(node, "relative import is not allowed")
            return
        module = node.module or ""
        if not self.check_module(node, module) or module == "__future__":
            return
        for alias in node.names:
            if alias.name == "*":
                self.refuse(node, f"'from {module} import *' is not allowed (import names one by one)")
            elif self.check_module(node, f"{module}.{alias.name}") and (problem := attribute_problem(alias.name)):
                self.refuse(node, problem)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in DENIED_BUILTINS:
            self.refuse(node, f"use of '{node.id}' is not allowed")
        elif DUNDER.fullmatch(node.id) and node.id not in ALLOWED_DUNDERS:
            self.refuse(node, f"dunder '{node.id}' is not allowed")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if problem := attribute_problem(node.attr, node.value):
            self.refuse(node, problem)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id in NAME_TAKING_BUILTINS:
            name = node.args[1] if len(node.args) > 1 else None
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                self.refuse(node, f"{node.func.id} with a computed attribute name is not allowed")
            elif problem := attribute_problem(name.value, node.args[0]):
                self.refuse(node, problem)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        # Format strings reach attributes too: "{0.__class__}".format(x).
        if isinstance(node.value, str) and id(node) not in self.docstrings:
            for match in DUNDER.findall(node.value):
                if match not in ALLOWED_DUNDERS:
                    self.refuse(node, f"string naming dunder '{match}' is not allowed")

    def visit_MatchClass(self, node: ast.MatchClass) -> None:  # `case C(__class__=c)` reads attributes by name
        for name in node.kwd_attrs:
            if problem := attribute_problem(name):
                self.refuse(node, problem)
        self.generic_visit(node)
