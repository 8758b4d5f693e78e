"""Typed configuration from TOML: dataclasses whose fields carry unit, range and help.

`parse(cls, table, where)` checks every key (unknown keys, types, ranges, choices) and raises
`InputError` with one line naming the file, the table, the key and what is accepted, e.g.

    demo.toml: [structure.layers.1] cam_fraction = 1.3 is out of range: accepted 0 ≤ cam_fraction ≤ 1

A dataclass may define `check(self, where)` for rules between fields. `describe(cls)` lists
the keys with units, ranges and help (used by `fem-assb check --keys`).
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import MISSING, dataclass, field

from fem_assb.errors import InputError


def opt(default=MISSING, *, help: str, unit: str = "", lo=None, hi=None, lo_open: bool = False,
        hi_open: bool = False, choices=None, length: int | None = None, default_factory=MISSING):
    """A configuration field: default, help text, unit and accepted range/choices."""
    meta = dict(help=help, unit=unit, lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open,
                choices=tuple(choices) if choices else None, length=length)
    if default_factory is not MISSING:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Where:
    """Location of a table in a file, for error messages."""

    file: str
    table: str = ""

    def sub(self, name) -> "Where":
        return Where(self.file, f"{self.table}.{name}" if self.table else str(name))

    def key(self, key: str) -> str:
        t = f" [{self.table}]" if self.table else ""
        return f"{self.file}:{t} {key}"

    def fail(self, key: str, msg: str):
        raise InputError(f"{self.key(key)} {msg}")


def _range_text(name: str, m: dict) -> str:
    lo, hi = m["lo"], m["hi"]
    parts = []
    if lo is not None:
        parts.append(f"{lo:g} {'<' if m['lo_open'] else '≤'} ")
    parts.append(name)
    if hi is not None:
        parts.append(f" {'<' if m['hi_open'] else '≤'} {hi:g}")
    return "".join(parts)


def _check_range(value, name: str, m: dict, where: Where, shown=None):
    lo, hi = m["lo"], m["hi"]
    bad = ((lo is not None and (value < lo or (m["lo_open"] and value == lo)))
           or (hi is not None and (value > hi or (m["hi_open"] and value == hi))))
    if bad:
        where.fail(name, f"= {shown if shown is not None else value!r} is out of range: accepted "
                         f"{_range_text(name, m)}{' ' + m['unit'] if m['unit'] else ''}")


def _type_name(tp) -> str:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        return _type_name(inner)
    if tp is typing.Any:
        return "a number or a function table"
    if origin is list:
        inner = _type_name(typing.get_args(tp)[0]).split(" ", 1)[1]
        return f"a list of {inner}s"
    if origin is dict:
        return "a table"
    if dataclasses.is_dataclass(tp):
        return "a table"
    return {float: "a number", int: "an integer", bool: "true or false", str: "a string"}.get(tp, str(tp))


def _convert(value, tp, name: str, m: dict, where: Where):
    """Check/convert one value against a type hint."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):  # X | None: TOML has no null, absent means None
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        return _convert(value, inner, name, m, where)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            where.fail(name, f"must be a table ([{where.sub(name).table}])")
        return parse(tp, value, where.sub(name))
    if origin is list:
        (inner,) = typing.get_args(tp)
        if not isinstance(value, list):
            where.fail(name, f"must be {_type_name(tp)}, got {value!r}")
        if m.get("length") and len(value) != m["length"]:
            where.fail(name, f"must have {m['length']} entries, got {len(value)}")
        if dataclasses.is_dataclass(inner):
            return [parse(inner, v, where.sub(f"{name}.{i + 1}")) if isinstance(v, dict)
                    else where.fail(name, "must be an array of tables") for i, v in enumerate(value)]
        out = [_convert(v, inner, f"{name}[{i}]", {**m, "choices": m.get("choices")}, where)
               for i, v in enumerate(value)]
        return out
    if origin is dict:
        if not isinstance(value, dict):
            where.fail(name, f"must be a table, got {value!r}")
        _, vt = typing.get_args(tp)
        return {str(k): _convert(v, vt, f"{name}.{k}", {**m, "lo": None, "hi": None}, where)
                for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            where.fail(name, f"must be a number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):  # nan passes every range comparison
            where.fail(name, f"= {value!r} is not a finite number")
    elif tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            where.fail(name, f"must be an integer, got {value!r}")
    elif tp is bool:
        if not isinstance(value, bool):
            where.fail(name, f"must be true or false, got {value!r}")
    elif tp is str:
        if not isinstance(value, str):
            where.fail(name, f"must be a string, got {value!r}")
    elif tp is typing.Any:
        return value
    if m.get("choices") and value not in m["choices"]:
        where.fail(name, f"= {value!r} is not accepted: choose one of {', '.join(map(str, m['choices']))}")
    if tp in (float, int):
        _check_range(value, name, m, where)
    return value


def parse(cls, table: dict, where: Where):
    """Build dataclass `cls` from a TOML table, validating every key (keys a class has moved
    are taken at their new place first: `cls.migrate`)."""
    if hasattr(cls, "migrate"):
        table = cls.migrate(table, where)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = [k for k in table if k not in fields]
    if unknown:
        where.fail(repr(unknown[0]).strip("'"), f"is not a known key: accepted {', '.join(fields)}")
    kwargs = {}
    for name, f in fields.items():
        if name in table:
            kwargs[name] = _convert(table[name], hints[name], name, dict(f.metadata), where)
        elif f.default is MISSING and f.default_factory is MISSING:
            where.fail(name, f"is required ({f.metadata.get('help', '')})")
    obj = cls(**kwargs)
    if hasattr(obj, "check"):
        obj.check(where)
    return obj


def describe(cls, prefix: str = "") -> list[str]:
    """Lines documenting every key of `cls` (recursively)."""
    hints = typing.get_type_hints(cls)
    lines = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        tp = hints[f.name]
        m = f.metadata
        sub = tp
        if typing.get_origin(tp) in (typing.Union, types.UnionType):
            (sub,) = [a for a in typing.get_args(tp) if a is not type(None)]
        inner = typing.get_args(sub)[0] if typing.get_origin(sub) is list else None
        name = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(sub):
            lines.append(f"[{name}]  {m.get('help', '')}")
            lines += describe(sub, name + ".")
            continue
        if inner is not None and dataclasses.is_dataclass(inner):
            lines.append(f"[[{name}]]  {m.get('help', '')}")
            lines += describe(inner, name + ".")
            continue
        default = f.default if f.default is not MISSING else (
            f.default_factory() if f.default_factory is not MISSING else "required")
        extra = []
        if m.get("unit"):
            extra.append(m["unit"])
        if m.get("lo") is not None or m.get("hi") is not None:
            extra.append(_range_text("x", m))
        if m.get("choices"):
            extra.append("|".join(map(str, m["choices"])))
        extra.append(f"default {default!r}")
        lines.append(f"  {name} = {_type_name(tp)} ({'; '.join(extra)})  {m.get('help', '')}")
    return lines
