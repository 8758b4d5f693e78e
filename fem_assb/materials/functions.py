"""Functions of the CAM stoichiometry x = c / c_max: OCV, conductivity, diffusivity.

Each function evaluates on numpy arrays (post-processing, tests), on UFL expressions (the
finite-element forms) and on PyBaMM expressions (the P2D model) from one definition: `f(x)`
uses numpy, `f(x, UFL)` builds a UFL expression, `f(x, PYBAMM)` a PyBaMM one. Each states its unit and the x-range where its source is valid;
outside that range tables and interpolants hold their end values, and `out_of_range(x)`
lets solvers report it instead of extrapolating silently.

Functions are plain data: `to_dict()` / `from_dict()` round-trip through TOML so a scenario
can plug in its own table or formula (see `function_from_config`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from fem_assb.errors import InputError


class _Numpy:
    tanh = staticmethod(np.tanh)
    exp = staticmethod(np.exp)
    log = staticmethod(np.log)

    @staticmethod
    def where_lt(x, x0, a, b):
        return np.where(x < x0, a, b)

    @staticmethod
    def clamp(x, lo, hi):
        return np.clip(x, lo, hi)


class _Ufl:
    @property
    def _ufl(self):
        import ufl

        return ufl

    def tanh(self, x):
        return self._ufl.tanh(x)

    def exp(self, x):
        return self._ufl.exp(x)

    def log(self, x):
        return self._ufl.ln(x)

    def where_lt(self, x, x0, a, b):
        return self._ufl.conditional(self._ufl.lt(x, x0), a, b)

    def clamp(self, x, lo, hi):
        u = self._ufl
        return u.max_value(u.min_value(x, hi), lo)


class _Pybamm:
    @property
    def _pb(self):
        import pybamm

        return pybamm

    def tanh(self, x):
        return self._pb.tanh(x)

    def exp(self, x):
        return self._pb.exp(x)

    def log(self, x):
        return self._pb.log(x)

    def where_lt(self, x, x0, a, b):
        return (x < x0) * a + (x >= x0) * b

    def clamp(self, x, lo, hi):
        return self._pb.maximum(self._pb.minimum(x, hi), lo)


NUMPY = _Numpy()
UFL = _Ufl()
PYBAMM = _Pybamm()


@dataclass(frozen=True)
class SOCFunction:
    """Base: a function of stoichiometry x with a unit and a valid x-range."""

    unit: str
    valid: tuple[float, float] = (0.0, 1.0)

    def __call__(self, x, m=NUMPY):  # pragma: no cover - abstract
        raise NotImplementedError

    def out_of_range(self, x) -> bool:
        x = np.asarray(x)
        lo, hi = self.valid
        return bool(x.size and (x.min() < lo - 1e-12 or x.max() > hi + 1e-12))

    def derivative(self, x, h: float = 1e-6):
        """Central finite difference d f / d x (numpy), for reports and impedance."""
        x = np.asarray(x, dtype=float)
        return (self(x + h) - self(x - h)) / (2 * h)

    def to_dict(self) -> dict:
        d = {"kind": self.kind}
        for k, v in self.__dict__.items():
            d[k] = list(v) if isinstance(v, tuple) else v
        return d


@dataclass(frozen=True)
class Constant(SOCFunction):
    """A constant value (no SOC dependence)."""

    value: float = 0.0
    kind = "constant"

    def __call__(self, x, m=NUMPY):
        if m is NUMPY:
            return np.full_like(np.asarray(x, dtype=float), self.value)
        return self.value + 0 * x

    def describe(self) -> str:
        return f"{self.value:.6g} {self.unit}"


@dataclass(frozen=True)
class Chen2020OCV(SOCFunction):
    """NMC811 (LG M50) OCV fit of Chen et al., J. Electrochem. Soc. 167 (2020) 080534.

    U(s) = −0.8090 s + 4.4875 − 0.0428 tanh(18.5138 (s − 0.5542))
           − 17.7326 tanh(15.7890 (s − 0.3117)) + 17.5842 tanh(15.9308 (s − 0.3120)),
    evaluated at s = x + x_shift. The shift moves the curve along the stoichiometry axis
    (used to match a paper's OCV at its initial state without changing the curve's shape).
    """

    x_shift: float = 0.0
    kind = "chen2020"

    def __call__(self, x, m=NUMPY):
        s = x + self.x_shift
        return (-0.8090 * s + 4.4875 - 0.0428 * m.tanh(18.5138 * (s - 0.5542))
                - 17.7326 * m.tanh(15.7890 * (s - 0.3117))
                + 17.5842 * m.tanh(15.9308 * (s - 0.3120)))

    def describe(self) -> str:
        shift = f" at x{self.x_shift:+.4f}" if self.x_shift else ""
        return f"Chen et al. 2020 NMC811 fit{shift} [{self.unit}]"


@dataclass(frozen=True)
class LogLinear(SOCFunction):
    """Log-linear interpolation between (x0, y0) and (x1, y1); end values held outside."""

    x0: float = 0.0
    y0: float = 1.0
    x1: float = 1.0
    y1: float = 1.0
    kind = "loglinear"

    def __post_init__(self):
        if not (self.x1 > self.x0 and self.y0 > 0 and self.y1 > 0):
            raise InputError(f"loglinear function needs x1 > x0 and positive y0, y1; got {self.to_dict()}")

    def __call__(self, x, m=NUMPY):
        t = m.clamp((x - self.x0) / (self.x1 - self.x0), 0.0, 1.0)
        return self.y0 * m.exp(t * math.log(self.y1 / self.y0))

    def describe(self) -> str:
        return (f"log-linear {self.y0:.4g} {self.unit} at x={self.x0:g} to "
                f"{self.y1:.4g} {self.unit} at x={self.x1:g}")


@dataclass(frozen=True)
class Table(SOCFunction):
    """Piecewise-linear table y(x) (or linear in log y with log=True); ends held outside."""

    x: tuple = field(default_factory=tuple)
    y: tuple = field(default_factory=tuple)
    log: bool = False
    kind = "table"

    def __post_init__(self):
        xs, ys = np.asarray(self.x, float), np.asarray(self.y, float)
        if xs.size < 2 or xs.size != ys.size or np.any(np.diff(xs) <= 0):
            raise InputError("table function needs ≥ 2 points with strictly increasing x and as many y values")
        if self.log and np.any(ys <= 0):
            raise InputError("table function with log = true needs positive y values")
        object.__setattr__(self, "x", tuple(float(v) for v in xs))
        object.__setattr__(self, "y", tuple(float(v) for v in ys))

    def __call__(self, x, m=NUMPY):
        ys = np.log(self.y) if self.log else np.asarray(self.y)
        xs = self.x
        if m is NUMPY:
            v = np.interp(np.asarray(x, dtype=float), xs, ys)
        else:
            # nested conditionals: segment i is linear between (x_i, y_i) and (x_i+1, y_i+1)
            v = ys[-1] + 0 * x
            for i in range(len(xs) - 2, -1, -1):
                slope = (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i])
                seg = ys[i] + slope * (x - xs[i])
                v = m.where_lt(x, xs[i + 1], seg, v)
            v = m.where_lt(x, xs[0], ys[0] + 0 * x, v)
        return m.exp(v) if self.log else v

    def describe(self) -> str:
        return f"table of {len(self.x)} points on x∈[{self.x[0]:g}, {self.x[-1]:g}] [{self.unit}]"


@dataclass(frozen=True)
class ORegan2022Diffusivity(SOCFunction):
    """NMC811 (LG M50) chemical diffusivity from GITT, O'Regan, Brosa Planella, Widanage and
    Kendrick, Electrochim. Acta 425 (2022) 140700, at 298.15 K:

        D(x) = 2.7 · 10^(−13.96 − 0.9231 e^(−(x − 0.3216)²/0.002534) − 0.4066 e^(−(x − 0.4532)²/0.003926)
                        − 0.993 e^(−(x − 0.8098)²/0.09924))  m²/s

    (the factor 2.7 is the authors' correction of their GITT values), times `scale` (1 for m²/s;
    unit conversions and sensitivity factors multiply it). x is the stoichiometry of their
    electrode, c/c_max with c_max = 63104 mol/m³, used here as the same lithiation fraction;
    their measurements span x ≈ 0.25–0.95 (`valid`). D falls ≈ 10× from x = 0.25 to 0.85, with
    narrow dips at 0.32 and 0.45.
    """

    scale: float = 1.0
    valid: tuple[float, float] = (0.25, 0.95)
    kind = "oregan2022"

    def __call__(self, x, m=NUMPY):
        e = (-13.96 - 0.9231 * m.exp(-(x - 0.3216) ** 2 / 0.002534) - 0.4066 * m.exp(-(x - 0.4532) ** 2 / 0.003926)
             - 0.993 * m.exp(-(x - 0.8098) ** 2 / 0.09924))
        return self.scale * 2.7 * m.exp(e * math.log(10.0))

    def describe(self) -> str:
        factor = f" × {self.scale:.4g}" if self.scale != 1.0 else ""
        return f"O'Regan et al. 2022 NMC811 GITT fit{factor} [{self.unit}]"


@dataclass(frozen=True)
class Kim2011NCAOCV(SOCFunction):
    """NCA (LiNi0.8Co0.15Al0.05O2) OCV vs Li/Li+ of Kim, Smith, Lee, Santhanagopalan and Pesaran,
    J. Electrochem. Soc. 158 (2011) A955 (as in PyBaMM's NCA_Kim2011 set): a degree-10 polynomial
    in x minus 0.61386 exp(5.8201 x^136.4), the wall at the end of lithiation (3.0 V at x = 0.983,
    2.5 V at 0.987; 4.22 V at 0.35). Beyond `valid` the wall runs away (1.4 V at x = 0.99, −7 V at 0.995)."""

    valid: tuple[float, float] = (0.3, 0.99)
    kind = "kim2011_nca"

    _COEF = (1.638, -2.222, 15.056, -23.488, 81.246, -344.566, 621.3475, -554.774, 264.427, -66.3691, 11.8058)

    def __call__(self, x, m=NUMPY):
        u = 0.0 * x
        for c in self._COEF:  # Horner, highest power first
            u = u * x + c
        return u - 0.61386 * m.exp(5.8201 * x ** 136.4)

    def describe(self) -> str:
        return f"Kim et al. 2011 NCA fit [{self.unit}]"


# --- Liquid electrolyte: functions of the Li+ concentration c (mol/m³), LiPF6 in EC:EMC (3:7) -----
# The same machinery as for the stoichiometry x; `valid` is a concentration range here. Each takes a
# `scale`, so that a material set can anchor a published shape at its paper's value at 1 M.

@dataclass(frozen=True)
class Nyman2008Conductivity(SOCFunction):
    """κ(c) = 0.1297 c³ − 2.51 c^1.5 + 3.329 c (S/m, c in mol/L), × scale; A. Nyman, M. Behm,
    G. Lindbergh, Electrochim. Acta 53 (2008) 6356, as used in PyBaMM's Chen2020 set; measured on
    0.2–2 mol/L."""

    scale: float = 1.0
    valid: tuple[float, float] = (200.0, 2000.0)
    kind = "nyman2008_conductivity"

    def __call__(self, x, m=NUMPY):
        c = x / 1000.0
        return self.scale * (0.1297 * c ** 3 - 2.51 * c ** 1.5 + 3.329 * c)

    def describe(self) -> str:
        return f"Nyman 2008 κ(c) × {self.scale:.4g} [{self.unit}]"


@dataclass(frozen=True)
class Nyman2008Diffusivity(SOCFunction):
    """D(c) = 8.794e-11 c² − 3.972e-10 c + 4.862e-10 (m²/s, c in mol/L), × scale; Nyman et al. 2008."""

    scale: float = 1.0
    valid: tuple[float, float] = (200.0, 2000.0)
    kind = "nyman2008_diffusivity"

    def __call__(self, x, m=NUMPY):
        c = x / 1000.0
        return self.scale * (8.794e-11 * c ** 2 - 3.972e-10 * c + 4.862e-10)

    def describe(self) -> str:
        return f"Nyman 2008 D(c) × {self.scale:.4g} [{self.unit}]"


#: Landesfeind & Gasteiger, J. Electrochem. Soc. 166 (2019) A3079, LiPF6 in EC:EMC (3:7 w:w): p1 … p9
#: of p1 + p2 c + p3 T + p4 c² + p5 c T + p6 T² + p7 c³ + p8 c² T + p9 c T² (c in mol/L, T in K)
LANDESFEIND2019 = {
    "thermodynamic_factor": (2.57e1, -4.51e1, -1.77e-1, 1.94, 2.95e-1, 3.08e-4, 2.59e-1, -9.46e-3, -4.54e-4),
    "transference": (-1.28e1, -6.12, 8.21e-2, 9.04e-1, 3.18e-2, -1.27e-4, 1.75e-2, -3.12e-3, -3.96e-5),
}


@dataclass(frozen=True)
class Landesfeind2019(SOCFunction):
    """Thermodynamic factor or transference number of LiPF6 in EC:EMC (3:7) as a polynomial in c and
    T (LANDESFEIND2019), at the temperature `T`, × scale; measured on ≈ 0.1–2 mol/L."""

    quantity: str = "transference"
    T: float = 298.15
    scale: float = 1.0
    valid: tuple[float, float] = (100.0, 2000.0)
    kind = "landesfeind2019"

    def __post_init__(self):
        if self.quantity not in LANDESFEIND2019:
            raise InputError(f"landesfeind2019 function: quantity '{self.quantity}': accepted "
                             f"{', '.join(LANDESFEIND2019)}")

    def __call__(self, x, m=NUMPY):
        c, T = x / 1000.0, self.T
        p = LANDESFEIND2019[self.quantity]
        return self.scale * (p[0] + p[1] * c + p[2] * T + p[3] * c ** 2 + p[4] * c * T + p[5] * T ** 2
                             + p[6] * c ** 3 + p[7] * c ** 2 * T + p[8] * c * T ** 2)

    def describe(self) -> str:
        return f"Landesfeind 2019 {self.quantity}(c) at {self.T:g} K × {self.scale:.4g} [{self.unit}]"


def anchored(f: SOCFunction, at: float, value: float) -> SOCFunction:
    """`f` rescaled so that f(at) = value (a published shape through a paper's point)."""
    import dataclasses

    return dataclasses.replace(f, scale=f.scale * value / float(f(at)))


_KINDS = {cls.kind: cls for cls in (Constant, Chen2020OCV, Kim2011NCAOCV, LogLinear, Table, ORegan2022Diffusivity,
                                    Nyman2008Conductivity, Nyman2008Diffusivity, Landesfeind2019)}
#: factor from the natural unit of fixed-formula kinds to another unit of the same quantity
_NATURAL = {("oregan2022", "cm²/s"): 1e4}


def function_from_config(data, unit: str, where: str) -> SOCFunction:
    """Build a function from a TOML value: a number (constant) or a table with `kind`.

    `where` names the key for error messages (e.g. "file.toml: [materials.cam] ocv_V").
    """
    def finite(v) -> bool:
        if isinstance(v, (list, tuple)):
            return all(finite(x) for x in v)
        return not isinstance(v, float) or math.isfinite(v)

    if not finite(data if not isinstance(data, dict) else list(data.values())):
        raise InputError(f"{where}: contains a number that is not finite (nan or inf)")
    if isinstance(data, (int, float)) and not isinstance(data, bool):
        return Constant(unit=unit, value=float(data))
    if not isinstance(data, dict) or "kind" not in data:
        raise InputError(f"{where}: expected a number or a table with kind = "
                         f"{' | '.join(sorted(_KINDS))}")
    kind = data["kind"]
    if kind not in _KINDS:
        raise InputError(f"{where}: unknown function kind '{kind}': accepted {', '.join(sorted(_KINDS))}")
    args = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k not in ("kind", "unit")}
    if (kind, unit) in _NATURAL:
        args["scale"] = args.get("scale", 1.0) * _NATURAL[kind, unit]
    try:
        return _KINDS[kind](unit=unit, **args)
    except TypeError as e:
        raise InputError(f"{where}: bad arguments for kind '{kind}': {e}") from None


def scaled(f: SOCFunction, factor: float, unit: str) -> SOCFunction:
    """The same function with its values multiplied by `factor` (unit conversion to SI)."""
    import dataclasses

    if isinstance(f, Constant):
        return dataclasses.replace(f, value=f.value * factor, unit=unit)
    if isinstance(f, LogLinear):
        return dataclasses.replace(f, y0=f.y0 * factor, y1=f.y1 * factor, unit=unit)
    if isinstance(f, Table):
        return dataclasses.replace(f, y=tuple(v * factor for v in f.y), unit=unit)
    if hasattr(f, "scale"):
        return dataclasses.replace(f, scale=f.scale * factor, unit=unit)
    if factor != 1.0:
        raise InputError(f"function kind '{f.kind}' has a fixed unit and cannot be rescaled")
    return dataclasses.replace(f, unit=unit)
