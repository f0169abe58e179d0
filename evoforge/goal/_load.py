from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from evoforge._errors import GoalError
from evoforge.goal._schema import Goal


def _one_line(exc: ValidationError, source: str) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-after")) or "goal"
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = "unknown field"
    elif err["type"] == "missing":
        message = "required field is missing"
    return f"{source}: {where}: {message}"


def goal_from_dict(data: Any, source: str = "goal") -> Goal:
    """Validate a goal given as plain data; the error names the first bad field."""
    if not isinstance(data, dict):
        raise GoalError(f"{source}: expected a mapping of goal fields, got {type(data).__name__}")
    try:
        return Goal.model_validate(data)
    except ValidationError as exc:
        raise GoalError(_one_line(exc, source)) from None


def load_goal(path: str | Path) -> Goal:
    """Read and validate a goal from a YAML (or JSON) file."""
    path = Path(path)
    if not path.is_file():
        raise GoalError(f"{path}: goal file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise GoalError(f"{path}: {where}not valid YAML ({getattr(exc, 'problem', exc)})") from None
    return goal_from_dict(data, str(path))


def goal_from_json(text: str) -> Goal:
    return goal_from_dict(json.loads(text))
