from __future__ import annotations

import inspect
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evoforge._errors import GoalError
from evoforge.goal import Search

ENV = "EVOFORGE_PROFILES"  # where `evoforge meta` saves profiles (default ~/.evoforge/profiles)
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


class Profile(BaseModel):
    """A named search setting: the proposer and its settings, and how they were found (the command that
    reproduces them, the suite they were tuned on, the score they reached there)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME.pattern)
    proposer: str
    settings: dict[str, Any]
    found_by: str = Field(description="the command that produced this profile")
    tuning: dict[str, Any] = {}


def builtin_dir() -> Path:
    return Path(__file__).parent


def user_dir() -> Path:
    return Path(os.environ.get(ENV) or Path.home() / ".evoforge" / "profiles").expanduser()


def profile_names() -> list[str]:
    names = {p.stem for d in (builtin_dir(), user_dir()) if d.is_dir() for p in d.glob("*.json")}
    return sorted(names)


def load_profile(name: str) -> Profile:
    """The profile called ``name``: a saved one (``$EVOFORGE_PROFILES``) first, else one shipped with evoforge."""
    if not NAME.match(name):
        raise GoalError(f"search.profile: {name!r} is not a profile name (letters, digits, _ . -)")
    for directory in (user_dir(), builtin_dir()):
        path = directory / f"{name}.json"
        if path.is_file():
            try:
                return Profile.model_validate_json(path.read_text())
            except ValidationError as exc:
                raise GoalError(f"search.profile: {path} is not a valid profile ({exc.errors()[0]['msg']})") from None
    known = ", ".join(profile_names()) or "none"
    raise GoalError(f"search.profile: no profile named {name!r} (known: {known})")


def save_profile(profile: Profile, directory: Path | None = None) -> Path:
    """Write ``profile`` as ``NAME.json`` (atomically: a reader never sees half a file)."""
    directory = directory or user_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{profile.name}.json"
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{profile.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(profile.model_dump(), indent=2) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def proposer_settings(name: str) -> set[str]:
    """The settings a proposer accepts (its keyword-only constructor arguments)."""
    from evoforge.proposers import proposer_class

    params = inspect.signature(proposer_class(name).__init__).parameters.values()
    return {p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}


def resolve(search: Search) -> Search:
    """The goal's ``search`` section with its profile applied: ``proposer``, ``population``, ``tournament`` and
    ``options`` filled in from the profile (``default`` when neither a proposer nor a profile is named), with the
    fields the goal gives taking precedence. Raises ``GoalError`` naming a bad profile or setting."""
    settings: dict[str, Any] = {}
    proposer = search.proposer
    profile_name = search.profile or (None if search.proposer else "default")
    if profile_name is not None:
        profile = load_profile(profile_name)
        if proposer is not None and proposer != profile.proposer:
            uses = profile.proposer
            raise GoalError(
                f"search.proposer: {proposer!r} conflicts with profile {profile_name!r}, which uses {uses!r}"
            )
        proposer, settings = profile.proposer, dict(profile.settings)
    assert proposer is not None
    if search.population is not None and search.tournament is None:
        settings.pop("tournament", None)  # a population set by the goal takes the default tournament, not the profile's
    settings.update(search.options)
    for field in ("population", "tournament"):
        if getattr(search, field) is not None:
            settings[field] = getattr(search, field)
    from evoforge.proposers import proposer_class

    proposer_class(proposer)  # raises naming the known proposers
    allowed = proposer_settings(proposer)
    for key in settings:
        if key not in allowed:
            where = key if key in ("population", "tournament") else f"options.{key}"
            known = ", ".join(sorted(allowed)) or "none"
            raise GoalError(f"search.{where}: the {proposer} proposer has no such setting (its settings: {known})")
    population, tournament = settings.pop("population", None), settings.pop("tournament", None)
    if population is not None and tournament is not None and tournament > population:
        raise GoalError(f"search.tournament: {tournament} cannot exceed population ({population})")
    merged = {
        **search.model_dump(),
        "profile": profile_name,
        "proposer": proposer,
        "population": population,
        "tournament": tournament,
        "options": settings,
    }
    try:
        resolved = Search.model_validate(merged)  # the profile's values are checked like the goal's own
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "search"
        source = f" (from profile {profile_name!r})" if profile_name else ""
        raise GoalError(f"search.{where}: {err['msg'].removeprefix('Value error, ')}{source}") from None
    if resolved.transfer_from and not _learns(proposer):
        raise GoalError(f"search.transfer_from: the {proposer} proposer learns nothing to transfer; use guided")
    return resolved


def _learns(proposer: str) -> bool:
    from evoforge.proposers import Proposer, proposer_class

    return proposer_class(proposer).warm_start is not Proposer.warm_start
