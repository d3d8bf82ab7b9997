"""Overrides (`--set KEY=VALUE`, a suite's `set` tables) turned into typed values, once, before a run starts.

Vocabulary, used the same way in code, command-line help and docs: an algorithm's **config** is the full set
of its hyperparameters (our agents' config dataclasses, SB3's constructor arguments); a **preset** is the
values published or tuned for one (algorithm, env) pair; **overrides** are what a user sets on top.
"""

from __future__ import annotations

import ast
import dataclasses
import types
import typing
from collections.abc import Iterable


def check_keys(given: Iterable[str], known: Iterable[str], what: str) -> None:
    """A ValueError naming the unknown keys of `given` and listing `known` ones, if there are any."""
    known = list(known)
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ValueError(f"unknown {what} key(s) {unknown}; the keys are: {', '.join(sorted(known))}")


def parse_assignments(items: Iterable[str] | None, what: str) -> dict[str, str]:
    """["key=value", ...] -> {key: value} (strings); a malformed item is a ValueError naming it."""
    parsed = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{what} takes KEY=VALUE, got {item!r}")
        parsed[key.strip()] = value.strip()
    return parsed


def literal(text: str):
    """A Python literal (number, bool, tuple, list, dict, None) from text, else the text itself; `true`,
    `false` and `none` in any case are the literals too."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered == "none":
            return None
        return text


def typed_overrides(config_class: type, overrides: dict, what: str) -> dict:
    """`overrides` (strings from the command line, or values from a suite's TOML) typed by the fields of the
    dataclass `config_class`; an unknown key or a value of the wrong type is a ValueError naming the key."""
    fields = {field.name: field for field in dataclasses.fields(config_class)}
    check_keys(overrides, fields, what)
    hints = typing.get_type_hints(config_class)
    return {key: _coerce(key, value, hints[key]) for key, value in overrides.items()}


def _coerce(key: str, raw, annotation):
    value = literal(raw) if isinstance(raw, str) else raw
    options = typing.get_args(annotation) if isinstance(annotation, types.UnionType) or \
        typing.get_origin(annotation) is typing.Union else (annotation,)
    if value is None and type(None) in options:
        return None
    for option in options:
        origin = typing.get_origin(option) or option
        if origin is tuple and isinstance(value, (tuple, list, int)) and not isinstance(value, bool):
            items = value if isinstance(value, (tuple, list)) else [value]
            if all(isinstance(v, int) and not isinstance(v, bool) for v in items):
                return tuple(items)
        if origin is bool and isinstance(value, bool):
            return value
        if origin is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if origin is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if origin is str and isinstance(value, str):
            return value
        if dataclasses.is_dataclass(origin) and isinstance(value, (dict, origin)):  # e.g. a schedule's dict
            return value
    shown = _type_name(annotation)
    raise ValueError(f"{key}={raw!r}: expected {shown}")


def _type_name(annotation) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")
