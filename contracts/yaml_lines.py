"""A YAML file read with where each of its keys is, so a message about a key path names the line.

``read_yaml`` parses one document (UTF-8) and keeps its node tree besides the data. A file
that cannot be read or parsed fails with ``YamlFileError`` naming ``path:line:column`` (1-based,
as editors count), never PyYAML's ``"<unicode string>"``.

``YamlDocument.line_of(loc)`` is the line of the key a path names. A path may hold parts the
file does not have, such as the tag of the union member pydantic picked (``akeneo`` in
``pim.akeneo.base_url``): they are passed over, and the line is that of the deepest key of the
path the file has. So a missing key gets the line of the mapping that misses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Loc = Sequence[str | int]


class YamlFileError(ValueError):
    """The file cannot be read as one YAML document; the message starts with its path."""


@dataclass(frozen=True)
class YamlDocument:
    path: Path
    data: Any
    root: yaml.Node | None

    def line_of(self, loc: Loc) -> int | None:
        """The 1-based line of the key ``loc`` names (or of the nearest key above it)."""
        if self.root is None:
            return None
        return _search(self.root, tuple(loc), self.root.start_mark.line + 1)[1]

    def where(self, loc: Loc) -> str:
        """``path:line`` of the key ``loc`` names; the path alone for an empty document."""
        line = self.line_of(loc)
        return str(self.path) if line is None else f"{self.path}:{line}"


def read_yaml(path: Path) -> YamlDocument:
    """One YAML document with its node tree; ``YamlFileError`` when it cannot be read."""
    text = _text(path)
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as error:
        raise YamlFileError(_at_position(path, text, error)) from None
    try:
        root = loader.get_single_node()
        data = None if root is None else loader.construct_document(root)
    except yaml.MarkedYAMLError as error:
        raise YamlFileError(_marked(path, error)) from None
    finally:
        loader.dispose()
    return YamlDocument(path, data, root)


def _text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        msg = f"{path}: file not found"
        raise YamlFileError(msg) from None
    except IsADirectoryError:
        msg = f"{path}: is a folder, not a file"
        raise YamlFileError(msg) from None
    except OSError as error:
        msg = f"{path}: cannot read it: {error.strerror}"
        raise YamlFileError(msg) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        msg = f"{path}:{line}:{column}: not UTF-8 text (byte 0x{raw[error.start]:02x}); "
        msg += "save the file as UTF-8"
        raise YamlFileError(msg) from None


def _marked(path: Path, error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
    problem = error.problem or error.context or "not valid YAML"
    if error.context and error.problem:
        start = error.context_mark
        at = f" started at {start.line + 1}:{start.column + 1}" if start else ""
        problem += f" ({error.context}{at})"
    if "'\\t'" in problem:
        problem += "; YAML indents with spaces, not tabs"
    return f"{where}: not valid YAML: {problem}"


def _at_position(path: Path, text: str, error: yaml.reader.ReaderError) -> str:
    line = text.count("\n", 0, error.position) + 1
    column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
    reason = f"{error.reason} (character #x{error.character:04x})"
    return f"{path}:{line}:{column}: not valid YAML: {reason}"


def _search(node: yaml.Node, loc: tuple[str | int, ...], line: int) -> tuple[int, int]:
    """(how many parts of ``loc`` matched, the line of the last key matched), the deepest
    reading of ``loc`` first: each part is either a key of ``node`` or passed over."""
    if not loc:
        return 0, line
    best = _search(node, loc[1:], line)
    child = _child(node, loc[0])
    if child is not None:
        matched, deeper = _search(child[1], loc[1:], child[0])
        if matched + 1 >= best[0]:
            best = matched + 1, deeper
    return best


def _child(node: yaml.Node, part: str | int) -> tuple[int, yaml.Node] | None:
    """(the key's line, the value) of ``part`` in a mapping or sequence node."""
    if isinstance(node, yaml.SequenceNode):
        if isinstance(part, int) and 0 <= part < len(node.value):
            item = node.value[part]
            return item.start_mark.line + 1, item
        return None
    if not isinstance(node, yaml.MappingNode):
        return None
    # reversed: a repeated key's last value counts; keys merged in with `<<: *defaults` are
    # here too (constructing the data flattened them in), at their lines in the anchor
    for key, value in reversed(node.value):
        if isinstance(key, yaml.ScalarNode) and key.value == str(part):
            return key.start_mark.line + 1, value
    return None
