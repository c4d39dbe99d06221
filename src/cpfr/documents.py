"""Settings and instance files (JSON or YAML) read safely, and pydantic's problems said for people.

Every file a person writes by hand for cpfr — an inventory or network instance, a partner's
collaboration arrangement, an API body — is read here and validated by a pydantic model that
also documents it. A file that is not UTF-8, not valid JSON/YAML, too large or nested too deep
is one :class:`~cpfr.exceptions.InputError`; a model's first problem is said as
``file: path.to[2].field: expected ..., got ...``.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from cpfr.bounds import shown
from cpfr.exceptions import InputError, LimitError

MAX_DOCUMENT_BYTES = 20_000_000
"""Largest settings or instance file: a list of 100,000 numbers at its bound fits in a few MB."""

SUFFIXES = (".json", ".yaml", ".yml")

Model = TypeVar("Model", bound=BaseModel)


def read_document(path: Path, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> Any:
    """Read ``path`` (.json, .yaml or .yml, UTF-8) into plain data: dicts, lists, text, numbers.

    Raises
    ------
    InputError
        No such file, an unknown file type, text that is not UTF-8, or not valid JSON or YAML.
    LimitError
        A file larger than ``max_bytes``.
    """
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{path}: unknown file type {suffix!r} — expected .json, .yaml or .yml")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    size = path.stat().st_size
    if size > max_bytes:
        raise LimitError(f"{path}: {size:,} bytes, at most {max_bytes:,} are supported")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path}: not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start})"
        ) from None
    try:
        return json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:  # JSONDecodeError, and numbers too long to read
        reason = " ".join(str(error).split())[:200]
        raise InputError(f"{path}: not valid {'JSON' if suffix == '.json' else 'YAML'}: {reason}") from None
    except RecursionError:
        raise InputError(f"{path}: nested too deeply") from None


def validated(model: type[Model], data: object, label: str) -> Model:
    """Validate plain ``data`` into ``model``; the first problem is an InputError naming file and path."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as error:
        problems = error.errors(include_url=False)
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputError(f"{label}: {problem_text(problems[0])}{more}") from None


def problem_text(problem: Mapping[str, Any], path: str | None = None) -> str:
    """Say one pydantic problem as ``path: what was expected, got what``."""
    kind, context = problem["type"], problem.get("ctx") or {}
    path = field_path(problem["loc"]) if path is None else path
    value = problem.get("input")
    if kind == "missing":
        text = "missing"
    elif kind == "extra_forbidden":
        text = "unknown field"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        text = f"expected an object (a mapping of fields), got {type_name(value)}"
    elif kind == "list_type":
        text = f"expected a list, got {type_name(value)}"
    elif kind == "too_short":
        text = f"expected at least {context.get('min_length')} item(s), got {context.get('actual_length')}"
    elif kind == "too_long":
        text = f"expected at most {context.get('max_length'):,} items (cpfr's bound)"
    elif kind == "literal_error":
        text = f"expected {context.get('expected')}, got {shown(value)}"
    elif kind == "union_tag_invalid":
        path = f"{path}.{context.get('discriminator', '').strip(chr(39))}"
        text = f"expected one of {context.get('expected_tags')}, got {shown(context.get('tag'))}"
    elif kind == "union_tag_not_found":
        path = f"{path}.{context.get('discriminator', '').strip(chr(39))}"
        text = "missing"
    else:
        text = str(problem["msg"])
    if path and text.startswith(("[", ".")):  # a list check naming its item: nodes[3].id ...
        return f"{path}{text}"
    return f"{path}: {text}" if path else text


def field_path(location: tuple[Any, ...], branches: Mapping[str, Collection[str]] | None = None) -> str:
    """Write a pydantic location as the field path a person reads: ``nodes[2].holding_cost``.

    ``branches`` maps a field holding a tagged union to its tags: the branch pydantic names
    after the field (``demand.normal.mean``) is not a field of the file (``demand.mean``).
    """
    text = ""
    previous: Any = None
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif branches and previous in branches and part in branches[previous]:
            pass
        else:
            text += f".{part}" if text else str(part)
        previous = part
    return text


def type_name(value: object) -> str:
    """Name a JSON value's type as a person would: an object, a list, text, a number, true/false, null."""
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return "a number" if isinstance(value, int | float) else type(value).__name__
