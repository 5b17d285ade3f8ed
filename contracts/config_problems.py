"""A configuration file's problems, one line each: ``file:line: key.path: reason``.

Pydantic's validation errors become problems here, with the nearest valid key or value for a
misspelt one ("did you mean 'currency'?"); the checks that run after loading (inputs,
credentials, channel mappings) report theirs as problems too, so all read the same way and
all of a file's problems are listed at once, in the order of their lines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from contracts.suggestions import accepted_keys, accepted_values, did_you_mean, hint, nearest
from contracts.yaml_lines import YamlDocument

Loc = tuple[str | int, ...]
_QUOTED_NAME = re.compile(r"'(\w+)'")
_PREFIXES = ("Value error, ", "Assertion failed, ")
_LEADING_PATH = re.compile(
    r"^(?P<path>[A-Za-z_]\w*(?:\.[\w-]+|\[\d+\])+): (?P<reason>.+)$", re.DOTALL
)
_PART = re.compile(r"[^.\[\]]+|\[(\d+)\]")


class Problem(NamedTuple):
    loc: Loc
    """the key path, as pydantic gives it (a union member's tag included)"""
    reason: str

    @property
    def key_path(self) -> str:
        return ".".join(str(p) for p in self.loc) or "(top level)"


def from_message(message: str, loc: Loc = ()) -> Problem:
    """A problem from a message that starts with a dotted key path (``MappingError``'s
    ``channels.shop.preset: ...``), the path relative to ``loc``; else at ``loc`` itself."""
    match = _LEADING_PATH.match(message)
    if match is None:
        return Problem(loc, message)
    parts = [int(m[1]) if m[1] else m[0] for m in _PART.finditer(match["path"])]
    return Problem((*loc, *parts), match["reason"])


def from_validation(error: ValidationError, model: type[BaseModel], data: Any) -> list[Problem]:
    """Each of pydantic's errors as a problem; ``data`` is the input ``model`` was given."""
    return [_problem(item, model, data) for item in error.errors()]


def render(problems: Sequence[Problem], origin: str, document: YamlDocument | None) -> str:
    """One line per problem, ``where: key.path: reason``, in the order of their lines; where
    is ``file:line`` with a ``document``, else ``origin``."""

    def line(problem: Problem) -> int:
        return (document.line_of(problem.loc) if document else None) or 0

    lines = [
        f"{document.where(p.loc) if document else origin}: {p.key_path}: {p.reason}"
        for p in sorted(problems, key=line)
    ]
    if len(lines) == 1:
        return lines[0]
    return "\n".join([f"{origin}: {len(lines)} problems", *lines])


def _problem(item: ErrorDetails, model: type[BaseModel], data: Any) -> Problem:
    loc, kind = tuple(item["loc"]), item["type"]
    reason = item["msg"]
    for prefix in _PREFIXES:
        reason = reason.removeprefix(prefix)
    if kind == "extra_forbidden":
        known = accepted_keys(model, loc[:-1])
        guess = did_you_mean(loc[-1], known) or f"(valid here: {', '.join(known)})"
        return Problem(loc, f"unknown key; {guess}")
    if kind == "missing":
        return Problem(loc, "required key missing" + _misspelt(model, data, loc))
    if kind == "literal_error":
        return Problem(loc, reason + hint(item["input"], accepted_values(model, loc)))
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _unknown_tag(item, model, loc)
    if kind in ("value_error", "assertion_error"):
        named = from_message(reason, loc)  # a model's check that names the key it is about
        if len(named.loc) > len(loc) and named.loc[len(loc)] in accepted_keys(model, loc):
            return named
    return Problem(loc, reason)


def _unknown_tag(item: ErrorDetails, model: type[BaseModel], loc: Loc) -> Problem:
    """``erp.kind: unknown kind 'file' (kinds: files, sap); did you mean 'files'?``"""
    context = item.get("ctx") or {}
    given, valid = context.get("tag"), accepted_values(model, loc)
    field = _QUOTED_NAME.fullmatch(str(context.get("discriminator", "")))
    if field is None:
        return Problem(loc, item["msg"] + hint(given, valid))
    name, kinds = field[1], ", ".join(valid)
    if given is None:
        return Problem((*loc, name), f"required key missing ({name}s: {kinds})")
    reason = f"unknown {name} {given!r} ({name}s: {kinds})"
    return Problem((*loc, name), reason + hint(given, valid))


def _misspelt(model: type[BaseModel], data: Any, loc: Loc) -> str:
    """For a missing key: a key beside it the model does not know that looks like it."""
    given = _value_at(data, loc[:-1])
    if not isinstance(given, dict) or not isinstance(loc[-1], str):
        return ""
    known = set(accepted_keys(model, loc[:-1]))
    strangers = [k for k in given if isinstance(k, str) and k not in known]
    found = nearest(loc[-1], strangers, limit=1)
    return f" (is {found[0]!r} a misspelling of it?)" if found else ""


def _value_at(data: Any, loc: Loc) -> Any:
    """The input at ``loc``; parts the input does not have (a union's tag) are passed over."""
    for part in loc:
        in_list = isinstance(data, list) and isinstance(part, int) and part < len(data)
        if in_list or (isinstance(data, dict) and part in data):
            data = data[part]
    return data
