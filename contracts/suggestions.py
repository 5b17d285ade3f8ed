"""Suggestions for a misspelt key or value: "did you mean 'currency'?".

``nearest`` and ``did_you_mean`` pick the close matches by difflib's similarity ratio.
``accepted_keys`` and ``accepted_values`` say what a pydantic model accepts at the location of a
validation error, so the message about an unknown key or value can name the nearest valid one.
A location may hold the tag of the union member pydantic chose (``pim.akeneo.base_url``,
``...where.all.all.0.test.bogus``): a tag selects that member, a part the models cannot place is
passed over.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, Tag
from pydantic.fields import FieldInfo

Loc = Sequence[str | int]
_Member = tuple[Any, str | None]
"""a concrete type and the tag pydantic puts in an error's location when it picks it"""
_UNIONS = (Union, types.UnionType)
_CUTOFF = 0.6
"""difflib's default: below it, nothing is suggested"""
_TIE = 0.05


def nearest(word: str, choices: Iterable[str], limit: int = 3) -> list[str]:
    """The choices closest to ``word`` (case-insensitive): the best one and any about as
    close (within 0.05 of difflib's ratio), at most ``limit``; none when nothing is close."""
    scored = []
    for choice in dict.fromkeys(choices):
        ratio = difflib.SequenceMatcher(None, word.lower(), choice.lower()).ratio()
        if ratio >= _CUTOFF:
            scored.append((ratio, choice))
    scored.sort(key=lambda pair: -pair[0])
    return [c for ratio, c in scored[:limit] if ratio >= scored[0][0] - _TIE]


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """``"did you mean 'currency'?"`` (or two or three), or ``""`` when nothing is close."""
    if not isinstance(word, str):
        return ""
    found = [repr(c) for c in nearest(word, choices) if c != word]
    if not found:
        return ""
    return f"did you mean {' or '.join(found)}?"


def hint(word: object, choices: Iterable[str]) -> str:
    """``"; did you mean 'currency'?"`` to append to a message, or ``""``."""
    found = did_you_mean(word, choices)
    return f"; {found}" if found else ""


def accepted_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys the mapping at ``loc`` accepts (the fields' aliases, else their names)."""
    keys: dict[str, None] = {}
    for kind, _ in _walk(model, loc):
        if _is_model(kind):
            keys.update(dict.fromkeys(f.alias or n for n, f in kind.model_fields.items()))
    return list(keys)


def accepted_values(model: type[BaseModel], loc: Loc) -> list[str]:
    """The values a ``Literal`` at ``loc`` accepts, or the tags of a union there."""
    members = _walk(model, loc)
    values = [str(v) for kind, _ in members if _is_literal(kind) for v in get_args(kind)]
    return values or [tag for _, tag in members if tag is not None]


def _walk(model: type[BaseModel], loc: Loc) -> list[_Member]:
    members: list[_Member] = [(model, None)]
    for part in loc:
        found = [m for member in members for m in _step(member, part)]
        members = found or members  # a part no model places (an internal tag) is passed over
    return members


def _step(member: _Member, part: str | int) -> list[_Member]:
    kind, tag = member
    if tag is not None:
        return [(kind, None)] if part == tag else []
    if _is_model(kind):
        if part == kind.__name__:  # the member a plain union picked
            return [(kind, None)]
        field = next((f for n, f in kind.model_fields.items() if part in (n, f.alias)), None)
        return [] if field is None else _members_of_field(field)
    origin: Any = get_origin(kind)
    args = get_args(kind)
    if origin in (dict, Mapping) and isinstance(part, str) and len(args) == 2:
        return _members(args[1])
    if origin in (tuple, list) and isinstance(part, int) and args:
        if origin is list or args[-1] is Ellipsis:
            return _members(args[0])
        return _members(args[part]) if part < len(args) else []
    return []


def _members_of_field(field: FieldInfo) -> list[_Member]:
    members = _members(field.annotation)
    if isinstance(field.discriminator, str):
        return _tagged_by(members, field.discriminator)
    return members


def _members(annotation: Any) -> list[_Member]:
    """The concrete types ``annotation`` stands for, with the tags that select them."""
    origin: Any = get_origin(annotation)
    if origin is Annotated:
        inner, *metadata = get_args(annotation)
        members = _members(inner)
        for item in metadata:
            if isinstance(item, Tag):
                return [(kind, item.tag) for kind, _ in members]
            if isinstance(item, FieldInfo) and isinstance(item.discriminator, str):
                return _tagged_by(members, item.discriminator)
        return members
    if origin in _UNIONS:
        return [m for arg in get_args(annotation) for m in _members(arg)]
    return [(annotation, None)]


def _tagged_by(members: list[_Member], discriminator: str) -> list[_Member]:
    """Each model member once per value its ``Literal`` discriminator field takes."""
    tagged: list[_Member] = []
    for kind, tag in members:
        field = kind.model_fields.get(discriminator) if _is_model(kind) else None
        values = get_args(field.annotation) if field is not None else ()
        tagged += [(kind, str(v)) for v in values] or [(kind, tag)]
    return tagged


def _is_model(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, BaseModel)


def _is_literal(kind: Any) -> bool:
    origin: Any = get_origin(kind)
    return origin is Literal
