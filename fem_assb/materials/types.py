"""Material types. All values SI: mol/m³, S/m, m²/s, A/m², F/m², kg/m³, V, K."""
from __future__ import annotations

from dataclasses import dataclass, field

from fem_assb.materials.functions import SOCFunction
from fem_assb.units import F


@dataclass(frozen=True)
class ActiveMaterial:
    """An intercalation cathode active material (CAM)."""

    name: str
    c_max: float  # mol/m³, maximum Li concentration
    c0: float  # mol/m³, Li concentration of the charged (initial) state
    density: float  # kg/m³
    ocv: SOCFunction  # V vs Li/Li+, of x = c / c_max
    sigma: SOCFunction  # S/m, electronic conductivity of x
    diffusivity: SOCFunction  # m²/s, chemical diffusion coefficient of x
    i00: float  # A m^(1+3α) mol^-(1+α): i0 = i00 c_e^α c^α (c_max − c)^(1−α)
    alpha: float  # anodic symmetry factor
    c_dl: float = 0.0  # F/m² of CAM|electrolyte interface
    sources: dict = field(default_factory=dict)

    @property
    def x0(self) -> float:
        return self.c0 / self.c_max

    @property
    def specific_capacity(self) -> float:
        """Usable capacity from c0 to c_max per CAM mass, C/kg."""
        return (self.c_max - self.c0) * F / self.density


@dataclass(frozen=True)
class SolidElectrolyte:
    """A single-ion conducting solid electrolyte (t+ = 1, constant c_e)."""

    name: str
    kappa: float  # S/m
    c_e: float | None = None  # mol/m³ (needed for Butler-Volmer kinetics)
    density: float | None = None  # kg/m³ (needed for masses / energy density)
    sources: dict = field(default_factory=dict)
    transference: float = 1.0


@dataclass(frozen=True)
class LiquidElectrolyte:
    """A binary liquid electrolyte in concentrated-solution theory: properties are functions of
    the Li+ concentration c (mol/m³); `c_e` is the initial, uniform concentration."""

    name: str
    c_e: float  # mol/m³
    kappa: SOCFunction  # S/m, bulk ionic conductivity κ(c)
    diffusivity: SOCFunction  # m²/s, salt diffusivity D(c)
    transference: SOCFunction  # t+(c)
    thermodynamic_factor: SOCFunction  # 1 + d ln f±/d ln c
    density: float | None = None
    sources: dict = field(default_factory=dict)


@dataclass(frozen=True)
class LithiumMetal:
    """A planar Li-metal anode, a Butler-Volmer boundary condition with U0 = 0."""

    name: str
    i0: float  # A/m², exchange current density
    alpha: float
    c_dl: float = 0.0  # F/m²
    specific_capacity: float = 3861 * 3.6e3  # C/kg (3861 mAh/g)
    density: float = 534.0  # kg/m³
    sources: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Binder:
    name: str
    density: float  # kg/m³
    sources: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MaterialSet:
    """A cell's materials and the operating defaults of the study it comes from."""

    name: str
    description: str
    cam: ActiveMaterial
    electrolyte: SolidElectrolyte | LiquidElectrolyte
    anode: LithiumMetal
    separator_um: float
    cutoff_V: float
    temperature: float = 298.15  # K
    cbd_kappa_ratio: float | None = None  # liquid case: κ_eff(CBD) / κ (also D_eff / D)
    cbd_porosity: float | None = None  # liquid case: electrolyte volume fraction of the CBD
    separator_kappa_ratio: float = 1.0  # liquid case: porous separator κ_eff / κ (also D_eff / D)
    separator_porosity: float = 1.0  # liquid case: electrolyte volume fraction of the separator
    #: specific capacity defining 1C for `c_rate` steps, mAh per g CAM (None: the structure's
    #: theoretical capacity from c_max − c0 defines 1C)
    c_rate_mAh_g: float | None = None
    references: tuple = ()

    @property
    def liquid(self) -> bool:
        """A liquid electrolyte (concentrated solution) rather than a single-ion solid one."""
        return isinstance(self.electrolyte, LiquidElectrolyte)
