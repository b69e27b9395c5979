"""Strict loading of the world's hand-edited YAML: duplicate keys are errors too.

PyYAML keeps the last of two equal keys without a word, so a copied-and-edited block in a data file
would silently replace its original; these checks report it as ``file:line: dotted.key: reason``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel

from rearing.datafile import read_yaml, validate_yaml
from rearing.io import InputError, field_path

T = TypeVar("T", bound=BaseModel)


def duplicate_keys(path: str | Path, text: str) -> list[str]:
    """One problem per mapping key that repeats an earlier key of the same mapping."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return []
    found: list[tuple[int, str]] = []
    stack: list[tuple[yaml.Node | None, list[str | int]]] = [(root, [])]
    while stack:
        node, loc = stack.pop()
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                name = str(key.value)
                line = key.start_mark.line + 1
                if name in first:
                    where = field_path([*loc, name])
                    found.append((line, f"{path}:{line}: {where}: duplicate key (first at line {first[name]})"))
                else:
                    first[name] = line
                stack.append((value, [*loc, name]))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, [*loc, i]) for i, item in enumerate(node.value))
    return [problem for _, problem in sorted(found, key=lambda item: item[0])]


def load_strict(path: str | Path, model: type[T]) -> T:
    """Read and validate one data file as ``model``, rejecting duplicate keys as well."""
    data, text = read_yaml(path)
    problems = duplicate_keys(path, text)
    if problems:
        raise InputError(problems)
    return validate_yaml(path, text, data, model)
