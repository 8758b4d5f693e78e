"""The study file: a base scenario, the parameters to vary, and what to compute per case.

    [study]
    name = "seed001-perforated"
    kind = "discharge"                 # discharge | conductivity | impedance | p2d
    realizations = 1                   # seeds: base seed, base seed + 1, ...
    report = "scenarios.perforated:report"   # optional: module:function(study_dir, table)
    extends = "study.toml"             # optional: start from another study file (see read_study)

    [[study.vary]]                     # groups vary together (zipped); groups multiply (product)
    keys = ["structure.channel.radius_um"]
    values = [[0], [8], [16]]

    [conductivity]                     # kind = conductivity: what to solve
    sigma = "SE=1,CAM=1e-4"            # S/cm (or material = "lgps")
    discretization = "fv"
    with_discharge = false             # kind = discharge: also σ_eff of each case's composite

    [base]                             # a scenario, exactly as in a scenario file
    [base.structure] ...

Keys are dotted paths into the base scenario; arrays of tables take a 1-based index
("structure.layers.2.cam_fraction"). Every case is validated like a scenario file before
anything runs.
"""
from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fem_assb.config.scenario import Scenario, read_toml
from fem_assb.config.schema import Where, opt, parse
from fem_assb.errors import InputError


@dataclass
class VaryGroup:
    keys: list[str] = opt(help="dotted scenario keys varied together")
    values: list[Any] = opt(help="one list of values (one per key) per point")

    def check(self, where: Where):
        for i, v in enumerate(self.values):
            if not isinstance(v, list) or len(v) != len(self.keys):
                where.fail("values", f"entry {i + 1} must be a list of {len(self.keys)} value(s), one per key")


@dataclass
class StudyConfig:
    name: str = opt(help="study name")
    kind: str = opt("discharge", choices=("discharge", "conductivity", "impedance", "p2d"),
                    help="what each case computes (p2d: the P2D model with parameters measured on the case's structure)")
    realizations: int = opt(1, lo=1, help="random realizations per point (seeds base + 0, 1, ...)")
    report: str | None = opt(None, help="module:function building figures and tables from the case results")
    vary: list[VaryGroup] = opt(default_factory=list, help="parameter groups")


@dataclass
class ConductivityConfig:
    sigma: str | None = opt(None, help="phase conductivities in S/cm, e.g. SE=1,CAM=1e-4")
    material: str | None = opt(None, help="electrolyte: SE = κ, CAM = 1e-4 κ")
    discretization: str = opt("fv", choices=("fv", "fem"), help="face-based FV or nodal FEM")
    axis: str = opt("x", choices=("x", "y", "z"), help="transport direction")
    contact_resistance: str | None = opt(None, help="e.g. CAM:SE=40 (Ω cm²)")
    with_discharge: bool = opt(False, help="kind = discharge: also compute σ_eff of each case's composite "
                                           "(without separator) with these settings")


@dataclass
class StudyFile:
    study: StudyConfig = opt(help="the study")
    base: dict = opt(default_factory=dict, help="the base scenario")
    conductivity: ConductivityConfig = opt(default_factory=ConductivityConfig, help="conductivity settings")


@dataclass
class Case:
    index: int
    name: str
    params: dict  # varied key → value (and "realization")
    scenario: Scenario
    raw: dict = field(repr=False, default_factory=dict)


def _set(d: dict, path: str, value, where: str):
    parts = path.split(".")
    node = d
    for k, part in enumerate(parts[:-1]):
        nxt = parts[k + 1]
        if isinstance(node, list):
            idx = int(part) - 1
            if not 0 <= idx < len(node):
                raise InputError(f"{where}: key '{path}': index {part} out of range (1..{len(node)})")
            node = node[idx]
            continue
        if part not in node:
            node[part] = [] if nxt.isdigit() else {}
        node = node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last) - 1] = value
    else:
        node[last] = value


def _label(value) -> str:
    """A value as part of a case folder name: lists joined by x, tables (e.g. a material
    function) by their values; characters other than letters, digits and . _ + - become -."""
    if isinstance(value, list):
        return "x".join(_label(v) for v in value)
    if isinstance(value, dict):
        return "-".join(_label(v) for v in value.values())
    if isinstance(value, float):
        return f"{value:g}"
    return re.sub(r"[^A-Za-z0-9._+-]", "-", str(value))


def _merge(parent: dict, child: dict) -> dict:
    out = copy.deepcopy(parent)
    for k, v in child.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def read_study(path: str | Path, _seen: tuple = ()) -> dict:
    """The study file's tables, with `[study] extends = "OTHER.toml"` resolved: the other file
    (relative to this one) is the starting point, tables merge key by key, and any other value,
    arrays included (e.g. the `[[study.vary]]` groups), replaces the inherited one."""
    p = Path(path).resolve()
    if p in _seen:
        raise InputError(f"{p}: [study] extends forms a cycle")
    raw = read_toml(p)
    parent = raw.get("study", {}).pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise InputError(f"{p}: [study] extends must be a file name (string)")
    return _merge(read_study(p.parent / parent, _seen + (p,)), raw)


def load_study(path: str | Path) -> tuple[StudyFile, list[Case]]:
    """Read a study file and expand it into validated cases."""
    p = Path(path)
    spec = parse(StudyFile, read_study(p), Where(str(p)))
    groups = spec.study.vary
    points = list(itertools.product(*[g.values for g in groups])) if groups else [()]
    cases = []
    base_seed = spec.base.get("structure", {}).get("seed", 0)
    for point in points:
        for r in range(spec.study.realizations):
            raw = copy.deepcopy(spec.base)
            params = {}
            for g, vals in zip(groups, point):
                for key, val in zip(g.keys, vals):
                    _set(raw, key, copy.deepcopy(val), f"{p}: [[study.vary]]")
                    params[key] = val
            if spec.study.realizations > 1:
                raw.setdefault("structure", {})["seed"] = base_seed + r
            params["realization"] = r
            idx = len(cases)
            label = "_".join(_label(v) for k, v in params.items() if k != "realization")
            name = f"{idx:04d}" + (f"_{label}" if label else "") + (f"_r{r}" if spec.study.realizations > 1 else "")
            raw.setdefault("name", f"{spec.study.name}-{idx}")
            sc = parse(Scenario, raw, Where(f"{p} (case {idx}: {params})"))
            sc.base_dir = p.resolve().parent
            if sc.structure.image is not None and not Path(sc.structure.image).is_absolute():
                sc.structure.image = str(sc.base_dir / sc.structure.image)
            cases.append(Case(idx, name[:120], params, sc, raw))
    return spec, cases
