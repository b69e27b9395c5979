"""Editable data files (YAML): read, validate with pydantic, and report every problem by line.

Frames, pools, phrasings, the ladder and the experiment config are data an educator or researcher
edits by hand; a mistake there must come back as ``file:line: dotted.key: reason``, never as a
traceback from deep inside a renderer.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from functools import cache
from importlib import resources
from pathlib import Path
from string import Formatter
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from rearing.io import InputError, error_message, field_path

T = TypeVar("T", bound=BaseModel)


class DataRecord(BaseModel):
    """Base of a record read from a data file: unknown keys are errors, and the record is frozen,
    since a packaged file is read once per process and every reader shares that one copy."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def identifier(noun: str, why: str) -> Any:
    """The type of a name that must be an identifier (letters, digits and ``_``, not first a digit)."""

    def check(name: str) -> str:
        if not IDENTIFIER.fullmatch(name):
            raise ValueError(f"'{name}' is not a valid {noun} name: use letters, digits and _ only "
                             f"(not starting with a digit), since {why}")
        return name

    return Annotated[str, AfterValidator(check)]


IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def package_data(package: str, name: str) -> Path:
    """A data file shipped inside a package (``rearing.world``, ``data/frames.yaml``)."""
    return Path(str(resources.files(package) / name))


def package_data_files(package: str, folder: str = "data") -> list[Path]:
    """Every file under a package's data folder, recursively, in path order: what a stage that
    reads the package's data lists among its external inputs, so an edited file re-runs it."""
    root = package_data(package, folder)
    return sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def read_yaml(path: str | Path, strict: bool = True) -> tuple[Any, str]:
    """A YAML file's parsed content and its text; a missing or unparsable file, or (``strict``)
    one with a repeated key, is an ``InputError``. A linter that reports every problem at once
    reads with ``strict=False`` and asks :func:`duplicate_keys` itself."""
    path = Path(path)
    if not path.is_file():
        raise InputError([f"{path}: no such file"])
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise InputError([f"{path}{line}: <yaml>: {exc}"]) from exc
    problems = duplicate_keys(path, text) if strict else []
    if problems:
        raise InputError(problems)
    return data, text


def duplicate_keys(path: str | Path, text: str) -> list[str]:
    """One problem per mapping key that repeats an earlier key of the same mapping: PyYAML keeps the
    last of two equal keys without a word, so a copied-and-edited block would silently replace its original."""
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


def validation_problems(path: str | Path, text: str, error: ValidationError) -> list[str]:
    """One ``file:line: dotted.key: reason`` line per pydantic error, the line found in ``text``."""
    problems = []
    for item in error.errors():
        line = yaml_line(text, [str(part) for part in item["loc"]])
        where = f"{path}:{line}" if line else str(path)
        problems.append(f"{where}: {field_path(item['loc']) or '<document>'}: {error_message(item)}")
    return problems


def validate_yaml(path: str | Path, text: str, data: Any, model: type[T], context: dict | None = None) -> T:
    """Validate parsed YAML ``data`` (from ``text``) as ``model``; errors name the line."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise InputError(validation_problems(path, text, exc)) from None


def load_yaml(path: str | Path, model: type[T], context: dict | None = None) -> T:
    """Read and validate one data file as ``model``."""
    data, text = read_yaml(path)
    return validate_yaml(path, text, data, model, context)


def load_data(model: type[T], package: str, name: str, path: str | Path | None = None) -> T:
    """A data file as ``model``: ``path`` when given, else the file the package ships (read and
    validated once per process, since renderers ask for it on every document)."""
    return load_yaml(path, model) if path is not None else _packaged(model, package, name)


@cache
def _packaged(model: type[T], package: str, name: str) -> T:
    return load_yaml(package_data(package, name), model)


def yaml_line(text: str, loc: list[str]) -> int | None:
    """1-based line of the deepest existing key along ``loc`` in a YAML document."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if getattr(k, "value", None) == part), None)
            if pair is None:
                return line
            line = pair[0].start_mark.line + 1
            node = pair[1]
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def template_slots(template: str) -> list[str]:
    """The ``{slot}`` names a phrasing uses, in order; a malformed phrasing raises ``ValueError``."""
    return [field for _, field, _, _ in Formatter().parse(template) if field is not None]


def slot_problem(template: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> str | None:
    """Why ``template`` cannot be filled by a renderer that fills ``allowed``, or None when it can.

    ``required`` are the slots that carry scenario content, which no phrasing may drop. A list that
    takes no slots is printed as written, so a brace there would show up in the text.
    """
    if not template.strip():
        return "empty phrasing"
    if not allowed:
        return None if "{" not in template and "}" not in template else \
            "takes no slots: braces would be printed as written"
    listed = ", ".join(f"{{{slot}}}" for slot in allowed)
    try:
        parsed = list(Formatter().parse(template))
    except ValueError as exc:
        return f"malformed phrasing ({exc}); write a slot as {{name}} (allowed slots: {listed})"
    if any("{" in literal or "}" in literal for literal, *_ in parsed):
        return "braces are for slots only: no literal {{ or }}"
    used = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in allowed:
            return f"unknown slot {{{name}}} (allowed slots: {listed})"
        if spec or conversion:
            return f"slot {{{name}}} must be written plainly, without !conversion or :format"
        used.append(name)
    missing = [slot for slot in required if slot not in used]
    if missing:
        return f"missing slot {{{missing[0]}}}: every phrasing here must carry it"
    return None


def phrasing(*allowed: str, required: tuple[str, ...] = ()) -> Any:
    """The type of one phrasing in a data file, checked against the slots its renderer fills."""

    def check(template: str) -> str:
        problem = slot_problem(template, allowed, required)
        if problem:
            raise ValueError(problem)
        return template

    return Annotated[str, AfterValidator(check)]


def phrasing_list(*allowed: str, required: tuple[str, ...] = (), at_least: int = 1) -> Any:
    """The type of a list of alternative phrasings (see :func:`phrasing`); ``at_least`` is how many
    alternatives the renderer draws without repeats."""
    return Annotated[list[phrasing(*allowed, required=required)], Field(min_length=at_least)]


def reference_file(reference: str) -> Path | None:
    """The source file of the module a ``module:function`` reference names, or None when there is
    none to find. Finding it imports the module's parent packages (as importing it would), not the
    module itself; a stage lists the file among its inputs, so editing your renderer re-runs it."""
    module = reference.partition(":")[0]
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    origin = Path(spec.origin) if spec is not None and spec.origin else None
    return origin if origin is not None and origin.is_file() else None


def import_reference(reference: str, what: str) -> Any:
    """The object a ``module:function`` reference in a data file or config names (a renderer of
    your own, a view...); one that cannot be imported is an ``InputError`` naming it."""
    module, _, name = reference.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise InputError([f"{what} '{reference}' cannot be imported: {exc}"]) from exc


def raise_problems(title: str, problems: list[tuple[tuple, str]]) -> None:
    """Raise ``(key path, reason)`` problems found by a model's own checks as one pydantic error, so
    each is reported at its key (and so at its line) like any field error; nothing when empty."""
    if problems:
        raise ValidationError.from_exception_data(title, [
            InitErrorDetails(type=PydanticCustomError("check", "{reason}", {"reason": reason}), loc=loc, input=None)
            for loc, reason in problems
        ])
