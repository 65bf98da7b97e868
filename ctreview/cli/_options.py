"""Command-line flags built from a settings dataclass, so defaults and help live in one place.

A field's ``metadata`` may hold ``help``, ``choices``, ``flag`` (the flag's
name when it is not ``--field-name``) and ``cli=False`` to keep it off the
command line. Flags default to None, so only what the user typed overrides
the dataclass's own defaults.
"""
from __future__ import annotations

import argparse
import dataclasses
import typing
from typing import Any, TypeVar

T = TypeVar("T")


def _flag(spec: dataclasses.Field, prefix: str = "") -> str:
    return str(spec.metadata.get("flag") or "--" + (prefix + spec.name).replace("_", "-"))


def _kind(cls: type, name: str) -> type:
    hint = typing.get_type_hints(cls)[name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args else hint


def add_settings_flags(parser: argparse.ArgumentParser | Any, cls: type, *, skip: tuple[str, ...] = (),
                       prefix: str = "") -> None:
    """Add one flag per field of the dataclass ``cls`` (defaults shown from ``cls()``).

    ``prefix`` (e.g. ``"anogan_"``) goes before every flag's name and destination,
    for the settings of one family among others.
    """
    defaults = cls()
    for spec in dataclasses.fields(cls):
        if spec.name in skip or not spec.metadata.get("cli", True):
            continue
        default = getattr(defaults, spec.name)
        text = str(spec.metadata.get("help", spec.name))
        if default is not None:
            text += f" (default: {default})"
        parser.add_argument(_flag(spec, prefix), dest=prefix + spec.name, type=_kind(cls, spec.name), default=None,
                            choices=spec.metadata.get("choices"), help=text)


def settings_from_args(cls: type[T], args: argparse.Namespace, **fixed: Any) -> T:
    """Build ``cls`` from the flags the user gave (and ``fixed`` values); the rest keep their defaults."""
    values = {spec.name: getattr(args, spec.name) for spec in dataclasses.fields(cls)  # type: ignore[arg-type]
              if getattr(args, spec.name, None) is not None}
    return cls(**{**values, **fixed})
