"""The mapping language: how a channel's target fields are filled, declared in ``prism.yaml``.

Each target field of a channel (``channels.<name>.fields.<target>``) takes exactly one *source*,
optionally with a value map, a condition and transforms:

=================  ===============================================================================
source             value
=================  ===============================================================================
``attribute: X``   the PIM attribute X in the channel's locale and Akeneo channel (scope),
                   inherited from its product models; select and multiselect give option
                   labels in the channel's locale (``label: false`` keeps the codes); metrics
                   convert with ``unit:``; price collections take ``currency:`` (default: the
                   channel's)
``role: name``     the attribute configured for that role under ``attributes:`` (presets use roles)
``field: price``   a golden-record field (``contracts.golden.GOLDEN_FIELDS``)
``constant: v``    a fixed value
``template: ...``  text with ``{placeholders}``: ``{field.sku}``, ``{attribute.color}``,
                   ``{role.brand}``, or a bare name (a golden field, else a role, else an
                   attribute); missing parts are dropped with the separators next to them
``first: [...]``   the first of several sources that has a value (a fallback chain)
=================  ===============================================================================

Modifiers (on any source): ``map`` (inline ``{from: to}`` or ``{file: lookup.csv, from: col,
to: col}``; unmapped values pass unless ``strict: true``), ``when`` (a condition: the field is
empty where it does not hold), ``transform`` (a list applied in order: ``strip_html``,
``{truncate: N}`` at a word boundary — without N the format's limit —, ``{case:
upper|lower|title|sentence}``, ``{replace: {pattern: regex, with: text}}``, ``{round: N}``,
``{prefix: s}``, ``{suffix: s}``, ``trim``).

Conditions (``when`` and channel filters) test a golden field or an attribute: ``{field: family,
in: [...]}``, ``{attribute: color, equals: red}``, ``{field: availability, not_in: [...]}``,
``{attribute: gender, exists: true}``; ``all:``/``any:``/``not:`` combine them.

These models check the shape; what a target field, attribute or golden field means is checked
against the channel's format and the PIM before a run starts (``mapping.validate``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from contracts.paths import LocalPath
from contracts.validators import Strict

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
CASES = ("upper", "lower", "title", "sentence")


# --- conditions --------------------------------------------------------------------------------


class Test(Strict):
    """One test of a golden field or an attribute (exactly one of them, one operator)."""

    field: str | None = None
    attribute: str | None = None
    equals: Any = None
    in_: tuple[Any, ...] | None = Field(default=None, alias="in")
    not_in: tuple[Any, ...] | None = None
    exists: bool | None = None
    at_least: float | None = None
    at_most: float | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_subject_one_operator(self) -> Test:
        if (self.field is None) == (self.attribute is None):
            msg = "a test names exactly one of 'field' or 'attribute'"
            raise ValueError(msg)
        operators = ("equals", "in_", "not_in", "exists", "at_least", "at_most")
        given = [o.rstrip("_") for o in operators if getattr(self, o) is not None]
        if len(given) != 1:
            msg = "a test has exactly one of equals, in, not_in, exists, at_least, at_most"
            msg += f" (got {given})"
            raise ValueError(msg)
        return self


class All(Strict):
    all: tuple[Condition, ...] = Field(min_length=1)


class AnyOf(Strict):
    any: tuple[Condition, ...] = Field(min_length=1)


class Not(Strict):
    not_: Condition = Field(alias="not")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _condition_kind(value: Any) -> str:
    if isinstance(value, dict):
        for key in ("all", "any", "not"):
            if key in value:
                return key
        return "test"
    kinds: dict[type, str] = {All: "all", AnyOf: "any", Not: "not"}
    return kinds.get(type(value), "test")


Condition = Annotated[
    Annotated[Test, Tag("test")]
    | Annotated[All, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[Not, Tag("not")],
    Discriminator(_condition_kind),
]


# --- transforms --------------------------------------------------------------------------------


class Truncate(Strict):
    truncate: int | None = Field(default=None, ge=1)
    """characters; None: the target field's maximum length"""


class Case(Strict):
    case: Literal["upper", "lower", "title", "sentence"]


class ReplaceRule(Strict):
    pattern: str
    with_: str = Field(default="", alias="with")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as error:
            msg = f"not a regular expression: {error}"
            raise ValueError(msg) from None
        return value


class Replace(Strict):
    replace: ReplaceRule


class Round(Strict):
    round: int = Field(ge=0, le=6)


class Prefix(Strict):
    prefix: str


class Suffix(Strict):
    suffix: str


SimpleTransform = Literal["strip_html", "trim", "truncate"]
_TRANSFORMS: dict[str, type[BaseModel]] = {
    "truncate": Truncate,
    "case": Case,
    "replace": Replace,
    "round": Round,
    "prefix": Prefix,
    "suffix": Suffix,
}


def _transform_kind(value: Any) -> str:
    if isinstance(value, str):
        return "simple"
    if isinstance(value, dict):
        keys = [k for k in value if k in _TRANSFORMS]
        return keys[0] if len(keys) == 1 and len(value) == 1 else "unknown"
    return next((k for k, m in _TRANSFORMS.items() if isinstance(value, m)), "unknown")


Transform = Annotated[
    Annotated[SimpleTransform, Tag("simple")]
    | Annotated[Truncate, Tag("truncate")]
    | Annotated[Case, Tag("case")]
    | Annotated[Replace, Tag("replace")]
    | Annotated[Round, Tag("round")]
    | Annotated[Prefix, Tag("prefix")]
    | Annotated[Suffix, Tag("suffix")],
    Discriminator(
        _transform_kind,
        custom_error_type="unknown_transform",
        custom_error_message="a transform is strip_html, trim, truncate or one of {truncate: N}, "
        "{case: ...}, {replace: {pattern, with}}, {round: N}, {prefix: s}, {suffix: s}",
    ),
]


# --- value maps --------------------------------------------------------------------------------


class LookupFile(Strict):
    """A CSV lookup table (header row; comma separated), e.g. PIM category -> Google taxonomy;
    a relative path is relative to the configuration file."""

    file: LocalPath
    from_: str = Field(alias="from")
    to: str

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


ValueMap = Annotated[LookupFile | dict[str, Any], Field(union_mode="left_to_right")]
"""A lookup file when the map has exactly ``file``, ``from`` and ``to``, else an inline map."""


# --- sources -----------------------------------------------------------------------------------


class _Modifiers(Strict):
    map: ValueMap | None = None
    strict: bool = False
    """with ``map``: a value the map does not know becomes empty (default: passes unchanged)"""
    when: Condition | None = None
    transform: tuple[Transform, ...] = ()


class AttributeSource(_Modifiers):
    attribute: str = Field(min_length=1)
    locale: str | None = None
    """default: the channel's locale"""
    scope: str | None = None
    """default: the channel's Akeneo channel"""
    label: bool = True
    """select/multiselect: option labels in the locale (False: the option codes)"""
    unit: str | None = None
    """metric: convert to this Akeneo unit (e.g. KILOGRAM); the value is the amount"""
    currency: str | None = None
    """price collection: this currency's amount (default: the channel's currency)"""
    separator: str = ", "
    """multiselect: between the labels"""


class RoleSource(_Modifiers):
    role: str = Field(min_length=1)
    label: bool = True
    unit: str | None = None
    separator: str = ", "


class GoldenSource(_Modifiers):
    field: str = Field(min_length=1)
    currency: str | None = None
    """money fields (``price``): this currency (default: the channel's)"""


class ConstantSource(_Modifiers):
    constant: Any


class TemplateSource(_Modifiers):
    template: str = Field(min_length=1)

    @field_validator("template")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        for name in _PLACEHOLDER.findall(value):
            if not name or not re.fullmatch(r"(?:(?:field|attribute|role)\.)?[\w-]+", name):
                msg = f"placeholder {{{name}}}: use {{name}}, {{field.x}}, {{attribute.x}}"
                msg += " or {role.x}"
                raise ValueError(msg)
        return value

    def placeholders(self) -> list[str]:
        return _PLACEHOLDER.findall(self.template)


class FirstSource(_Modifiers):
    first: tuple[Source, ...] = Field(min_length=1)


_SOURCES: dict[str, type[BaseModel]] = {
    "attribute": AttributeSource,
    "role": RoleSource,
    "field": GoldenSource,
    "constant": ConstantSource,
    "template": TemplateSource,
    "first": FirstSource,
}


def _source_kind(value: Any) -> str:
    if isinstance(value, dict):
        keys = [k for k in _SOURCES if k in value]
        return keys[0] if len(keys) == 1 else "unknown"
    return next((k for k, m in _SOURCES.items() if isinstance(value, m)), "unknown")


def _expand_shorthand(value: Any) -> Any:
    """``"field:sku"``, ``"attribute:color"``, ``"role:name"``; any other string is a template."""
    if not isinstance(value, str):
        return value
    kind, _, rest = value.partition(":")
    if kind in ("field", "attribute", "role") and rest:
        return {kind: rest}
    return {"template": value}


_SourceKinds = Annotated[
    Annotated[AttributeSource, Tag("attribute")]
    | Annotated[RoleSource, Tag("role")]
    | Annotated[GoldenSource, Tag("field")]
    | Annotated[ConstantSource, Tag("constant")]
    | Annotated[TemplateSource, Tag("template")]
    | Annotated[FirstSource, Tag("first")],
    Discriminator(
        _source_kind,
        custom_error_type="unknown_source",
        custom_error_message="a field takes exactly one of attribute, role, field, constant, "
        "template or first",
    ),
]
Source = Annotated[_SourceKinds, BeforeValidator(_expand_shorthand)]
"""One of the source kinds, told by its key; a string is a shorthand (``"field:sku"``,
``"attribute:color"``, ``"role:name"``) or a template (``"{brand} {name}"``)."""


# --- filters -----------------------------------------------------------------------------------


class Selection(Strict):
    """Which products a filter includes or excludes (every given criterion must hold)."""

    categories: tuple[str, ...] = ()
    """category codes: a product in any of them or below them"""
    families: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    """option codes of the brand role"""
    availability: tuple[Literal["in_stock", "backorder", "out_of_stock"], ...] = ()
    where: Condition | None = None

    def empty(self) -> bool:
        return not (
            self.categories or self.families or self.brands or self.availability or self.where
        )


class Filters(Strict):
    """Which enabled products go to a channel: those matching ``include`` (when given), not
    matching ``exclude``, at least ``completeness`` complete (0..1). Filtered products are
    counted (``products = published + quarantined + filtered + disabled``); disabled products
    never go to any channel."""

    include: Selection | None = None
    exclude: Selection | None = None
    completeness: float | None = Field(default=None, ge=0, le=1)

    def active(self) -> bool:
        return bool(
            (self.include and not self.include.empty())
            or (self.exclude and not self.exclude.empty())
            or self.completeness
        )


All.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()
FirstSource.model_rebuild()
