"""The scenario file: what to build, which materials, what to run, how to solve and output.

Data flows one way: StructureConfig → voxel image → MeshConfig → mesh → MaterialsConfig +
steps → problem → SolverConfig → OutputConfig. Units are in the key names (µm, mA/cm², S/cm).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fem_assb.config.schema import Where, opt, parse
from fem_assb.errors import InputError
from fem_assb.materials.library import MATERIAL_SETS

PHASE_CHOICES = ("SE", "CAM", "BINDER", "VOID", "CARBON", "SEPARATOR", "CBD")


@dataclass
class LayerConfig:
    """A homogeneous random packing; several layers stack along x from the separator side."""

    thickness_fraction: float = opt(1.0, lo=0.0, hi=1.0,
                                    help="share of the composite thickness (x) taken by this layer (0: absent)")
    cam_fraction: float = opt(0.65, lo=0.0, hi=1.0, help="CAM volume fraction of the whole layer (voids included)")
    diameters_um: list[float] = opt(default_factory=lambda: [8.0], lo=0.0, lo_open=True, unit="µm",
                                    help="CAM sphere diameters: one value = monomodal, several = multimodal")
    number_ratio: list[float] = opt(default_factory=list, lo=0.0, lo_open=True,
                                    help="relative particle numbers per diameter (default equal), e.g. [1, 1, 2]")
    diameter_spread: float = opt(0.0, lo=0.0, hi=0.45,
                                 help="relative standard deviation of each diameter (normal, truncated at ±2σ; "
                                      "≤ 0.45 keeps every radius ≥ 10 % of its class mean)")
    void_fraction: float = opt(0.0, lo=0.0, hi=1.0, help="residual void volume fraction, placed as blobs in SE")
    void_size_um: float = opt(3.0, lo=0.0, lo_open=True, unit="µm", help="typical void blob diameter")
    binder_ratio: float = opt(0.0, lo=0.0, hi=1.0, help="binder volume ratio V(B):V(CAM), placed as menisci")
    cbd_fraction: float = opt(0.0, lo=0.0, hi=1.0,
                              help="carbon-binder domain (CBD) volume fraction of the layer, placed as menisci around "
                                   "particle contacts (seed 001: 21 %); with a liquid electrolyte a homogenised porous "
                                   "phase (the material set's CBD porosity and κ ratio), with a solid one replaced by SE")
    se: str = opt("complement", choices=("complement", "particles", "packed"),
                  help="SE as the complement of the packing, as overlapping convex particles (voids between), or "
                       "'packed': SE spheres packed together with the CAM spheres, the pores then closed by pressing "
                       "(each pore voxel to the nearer particle surface, CAM to its target fraction), so CAM "
                       "particles fuse into aggregates where the SE grains are too large for the gaps (seed 004)")
    se_particle_um: float = opt(3.0, lo=0.0, lo_open=True, unit="µm",
                                help="SE particle diameter for se = 'particles' or 'packed'")

    @property
    def se_fraction(self) -> float:
        """What CAM, binder, CBD and void leave to the SE (and to voids between SE grains)."""
        return 1.0 - self.cam_fraction * (1 + self.binder_ratio) - self.void_fraction - self.cbd_fraction

    def check(self, where: Where):
        if self.number_ratio and len(self.number_ratio) != len(self.diameters_um):
            where.fail("number_ratio", f"needs one entry per diameter ({len(self.diameters_um)})")
        solid = 1.0 - self.se_fraction
        if solid > 1.0:
            where.fail("cam_fraction", f"+ binder + CBD + void = {solid:.3f} exceeds 1: lower cam_fraction, "
                                       "binder_ratio, cbd_fraction or void_fraction")


@dataclass
class ChannelConfig:
    """A perforation: an SE cylinder along x (quarter channel at a corner for symmetric cells)."""

    radius_um: float = opt(0.0, lo=0.0, unit="µm", help="channel radius")
    position: str = opt("corner", choices=("corner", "center"), help="channel axis at the (y, z) = (0, 0) corner or the centre")


@dataclass
class StructureConfig:
    size_um: list[float] = opt(default_factory=lambda: [60.0, 30.0, 30.0], length=3, lo=0.0, lo_open=True,
                               unit="µm", help="composite cathode box (x: separator → current collector, y, z)")
    voxel_um: float = opt(1.0, lo=0.0, lo_open=True, unit="µm", help="voxel edge length")
    seed: int = opt(0, lo=0, help="random seed: the same seed gives a bit-identical structure")
    separator_um: float | None = opt(None, lo=0.0, unit="µm",
                                     help="SE separator slab at x = 0 (default: the material set's)")
    image: str | None = opt(None, help="voxel image file (.npy, .tif, .raw) used instead of generation")
    image_labels: dict[str, str] = opt(default_factory=dict, choices=PHASE_CHOICES,
                                       help='map of file values to phases, e.g. {0 = "SE", 1 = "CAM"}')
    image_shape: list[int] = opt(default_factory=list, lo=1, help="shape (nx, ny, nz) of a .raw image")
    image_dtype: str = opt("uint8", choices=("uint8", "uint16", "int32", "float32"), help="dtype of a .raw image")
    layers: list[LayerConfig] = opt(default_factory=lambda: [LayerConfig()],
                                    help="packing layers stacked along x (thickness fractions sum to 1)")
    channel: ChannelConfig | None = opt(None, help="SE perforation channel along x")
    cc_wall: bool = opt(False, help="pack the last layer against flat walls at x = 0 and x = L (low CAM contact "
                                    "with the current collector, as in pressed cells)")
    reverse: bool = opt(False, help="mirror the composite along x (reversed layer order)")
    duplicate_x: int = opt(1, lo=1, help="repeat the composite this many times along x (thicker cell)")
    cc_crop_um: float = opt(0.0, lo=0.0, unit="µm", help="crop this thickness at the current collector (x = L)")
    cc_contact_target: float | None = opt(None, lo=0.0, hi=1.0, lo_open=True,
                                          help="crop voxel layers at x = L until A_C/A_CC reaches this value (an error names the "
                                               "reachable range when no crop depth comes within 0.25·target + 0.01)")
    delamination_fraction: float = opt(0.0, lo=0.0, hi=1.0, help="passivated share of the CAM|SE interface area")
    delamination_patch_um: float = opt(3.0, lo=0.0, lo_open=True, unit="µm", help="size of passivated patches")
    cc_delamination_fraction: float = opt(
        0.0, lo=0.0, hi=1.0, hi_open=True,
        help="share of the CAM|current-collector contact area detached (insulated) in random patches; the electrode "
             "keeps all its CAM, unlike cropping, so only the contact changes (A_C/A_CC falls by this share)")
    cc_delamination_patch_um: float = opt(10.0, lo=0.0, lo_open=True, unit="µm",
                                          help="diameter of the detached collector patches")

    def check(self, where: Where):
        if self.image is None:
            total = sum(layer.thickness_fraction for layer in self.layers)
            if abs(total - 1.0) > 1e-9:
                where.fail("layers", f"thickness fractions sum to {total:g}: they must sum to 1")
            n_min = min(self.size_um) / self.voxel_um
            if n_min < 2:
                where.fail("voxel_um", f"= {self.voxel_um:g} gives fewer than 2 voxels across the box: "
                                       f"accepted voxel_um ≤ {min(self.size_um) / 2:g}")
        if self.cc_crop_um and self.cc_contact_target is not None:
            where.fail("cc_crop_um", "and cc_contact_target exclude each other: give one")


@dataclass
class MeshConfig:
    kind: str = opt("voxel", choices=("voxel", "gmsh"),
                    help="voxel → hexahedra (any image); gmsh → tetrahedra (sphere packings)")
    connectivity: str = opt("face", choices=("face", "node"),
                            help="voxel meshes: which voxels of one phase exchange current and Li — 'face': only "
                                 "voxels sharing a face, as in the FV solver and the papers' tools; 'node': also "
                                 "voxels touching only along an edge or at a corner (nodal elements on a plain grid, "
                                 "the default before 2026-12; for comparisons)")
    coarsen: int = opt(1, lo=1, help="voxels per hex cell edge (1 = one cell per voxel; each block becomes one "
                                     "phase, every phase keeping its volume; in x the image is filled up with SE layers at the "
                                     "separator side, in y and z a remainder is cut at the far end; both are logged)")
    refine: int = opt(1, lo=1, hi=8,
                      help="hex cells per voxel edge (each voxel split into refine³ cells of its phase): the same "
                           "image on finer cells, for convergence studies; excludes coarsen > 1")
    separator_growth: float = opt(1.5, lo=1.0, hi=4.0,
                                  help="growth factor of the separator's hex layers away from the composite")
    gmsh_size_um: float | None = opt(None, lo=0.0, lo_open=True, unit="µm",
                                     help="gmsh target element size at interfaces (default: voxel_um)")
    collector_fragment_share: float | None = opt(
        None, lo=0.0, hi=1.0,
        help="voxel meshes: CAM clusters at the collector whose volume per contact area is below this share "
             "of the electrode's are turned into SE (sphere caps a uniform collector current would "
             "over-lithiate); 0 keeps all; default 0.1 with collector.kind = 'uniform', 0 with 'equipotential'")

    def check(self, where: Where):
        if self.refine > 1 and self.coarsen > 1:
            where.fail("refine", f"= {self.refine} and coarsen = {self.coarsen} exclude each other: give one")


@dataclass
class CollectorConfig:
    """The current collector at x = L (fem_assb/electrochem/collector.py)."""

    kind: str = opt("equipotential", choices=("equipotential", "uniform"),
                    help="equipotential: one collector potential, the total current prescribed (a metal foil); "
                         "uniform: the same current density on every CAM facet on the collector")
    contact_resistance_ohm_cm2: float = opt(
        1e-4, lo=0.0, lo_open=True, unit="Ω cm²",
        help="CAM|collector contact resistance of the equipotential collector (the default is a perfect contact "
             "for numerical purposes: 1 µV at 10 mA/cm²)")


@dataclass
class MaterialsConfig:
    set: str = opt("nmc811_li6ps5cl_li", choices=tuple(MATERIAL_SETS), help="named material parameter set")
    cam_ocv_V: Any = opt(None, help="override the OCV: a number or {kind = table|loglinear|chen2020, ...} of x = c/c_max")
    cam_sigma_S_cm: Any = opt(None, help="override the CAM electronic conductivity σ(x), S/cm")
    cam_diffusivity_cm2_s: Any = opt(None, help="override the CAM diffusivity D(x), cm²/s")
    cam_diffusivity_factor: float = opt(1.0, lo=0.0, lo_open=True,
                                        help="multiply the CAM diffusivity D(x) (the set's or the override): "
                                             "a sensitivity factor, e.g. 10 to test whether solid diffusion limits")
    cam_sigma_factor: float = opt(1.0, lo=0.0, lo_open=True,
                                  help="multiply the CAM electronic conductivity σ(x) (the set's or the override): "
                                       "a sensitivity factor, e.g. 0.1 to test how much the electron paths limit")
    cam_i00: float | None = opt(None, lo=0.0, lo_open=True, unit="A cm^2.5/mol^1.5",
                                help="override the CAM exchange-current factor")
    electrolyte_kappa_S_cm: float | None = opt(None, lo=0.0, lo_open=True, unit="S/cm",
                                               help="override the electrolyte's bulk ionic conductivity (a constant)")
    electrolyte_transference: Any = opt(None, help="liquid electrolytes: override the transference number t+(c), a "
                                                   "number in (0, 1] or {kind = ...} of c in mol/m³")
    anode_i0_A_cm2: float | None = opt(None, lo=0.0, lo_open=True, unit="A/cm²",
                                       help="override the Li-metal exchange current density")
    temperature_K: float | None = opt(None, lo=200.0, hi=400.0, unit="K", help="temperature (default 298.15 K)")

    def check(self, where: Where):
        from fem_assb.materials.library import resolve

        resolve(self, where)


@dataclass
class StepConfig:
    """One step of the protocol: galvanostatic discharge or charge, rest, or a constant-voltage
    hold (after a charge: CC-CV)."""

    kind: str = opt("discharge", choices=("discharge", "charge", "rest", "hold"),
                    help="what the step does (hold: constant cell voltage, needs the equipotential collector)")
    current_mA_cm2: float | None = opt(None, lo=0.0, lo_open=True, unit="mA/cm²", help="applied current density")
    c_rate: float | None = opt(None, lo=0.0, lo_open=True, unit="1/h",
                               help="current in C: 1C = the material set's C-rate basis (mAh/g) × CAM loading, "
                                    "or the theoretical capacity per hour when the set has none")
    until_V: float | None = opt(None, lo=0.0, hi=6.0, unit="V",
                                help="cut-off voltage (discharge default: the material set's)")
    duration_h: float | None = opt(None, lo=0.0, lo_open=True, unit="h", help="maximum step duration")
    voltage_V: float | None = opt(None, lo=0.0, lo_open=True, hi=6.0, unit="V", help="hold: the cell voltage held")
    until_current_mA_cm2: float | None = opt(None, lo=0.0, lo_open=True, unit="mA/cm²",
                                             help="hold: end when |current| falls to this")
    until_c_rate: float | None = opt(None, lo=0.0, lo_open=True, unit="1/h",
                                     help="hold: end when |current| falls to this C-rate (e.g. 0.05 for C/20)")

    def check(self, where: Where):
        if self.kind != "hold":
            for key in ("voltage_V", "until_current_mA_cm2", "until_c_rate"):
                if getattr(self, key) is not None:
                    where.fail(key, f"is for hold steps only, not for a {self.kind} step")
        if self.kind == "rest":
            if self.duration_h is None:
                where.fail("duration_h", "is required for a rest step")
            if self.current_mA_cm2 is not None or self.c_rate is not None:
                where.fail("current_mA_cm2", "must not be given for a rest step")
        elif self.kind == "hold":
            if self.voltage_V is None:
                where.fail("voltage_V", "is required for a hold step")
            if self.current_mA_cm2 is not None or self.c_rate is not None or self.until_V is not None:
                where.fail("current_mA_cm2", "c_rate and until_V must not be given for a hold step (the current follows)")
            if self.until_current_mA_cm2 is not None and self.until_c_rate is not None:
                where.fail("until_current_mA_cm2", "or until_c_rate: give at most one")
            if self.until_current_mA_cm2 is None and self.until_c_rate is None and self.duration_h is None:
                where.fail("until_current_mA_cm2", "(or until_c_rate or duration_h) is required for a hold step")
        else:
            if (self.current_mA_cm2 is None) == (self.c_rate is None):
                where.fail("current_mA_cm2", f"or c_rate: give exactly one for a {self.kind} step")
            if self.kind == "charge" and self.until_V is None and self.duration_h is None:
                where.fail("until_V", "is required for a charge step (or give duration_h)")


@dataclass
class SolverConfig:
    """Newton, linear solver and time stepping (backward Euler with step control on ΔU and Δx)."""

    linear: str = opt("auto", choices=("auto", "direct", "iterative"),
                      help="direct = MUMPS LU; iterative = GMRES + block AMG; auto = direct below 5000 unknowns")
    dt_initial_s: float = opt(0.01, lo=0.0, lo_open=True, unit="s",
                              help="first time step after each change of current; steps then grow at most 2× per "
                                   "step under the ΔU and Δx targets (small, because a planar interface with the "
                                   "seed-001 diffusivity saturates within seconds)")
    dt_max_s: float = opt(600.0, lo=0.0, lo_open=True, unit="s", help="largest time step")
    dt_min_s: float = opt(1e-4, lo=0.0, lo_open=True, unit="s", help="smallest time step before giving up")
    max_dU_V: float = opt(0.02, lo=0.0, lo_open=True, unit="V", help="voltage change per step the step control aims at")
    max_dI_rel: float = opt(0.02, lo=0.0, lo_open=True, hi=1.0,
                            help="relative current change per step the step control aims at in voltage holds")
    max_dx: float = opt(0.05, lo=0.0, hi=1.0, lo_open=True, help="stoichiometry change per step the step control aims at")
    cutoff_tol_V: float = opt(1e-3, lo=0.0, lo_open=True, unit="V", help="how closely the cut-off voltage is located")
    newton_atol: float = opt(1e-8, lo=0.0, lo_open=True,
                             help="Newton stops when updates are below this (V for potentials, x for x_Li)")
    newton_max_it: int = opt(12, lo=1, help="Newton iterations before the step is cut")
    checkpoint_every: int = opt(20, lo=0, help="write a checkpoint every N steps (0 = never)")
    max_steps: int = opt(100000, lo=1, help="stop after this many time steps")


@dataclass
class ModelConfig:
    """What the coupled model includes beyond the charge balances and Butler–Volmer."""

    surface_layer: int = opt(24, lo=0, hi=64,
                             help="cells (≥ 2) of the sub-grid solid-diffusion layer in each CAM|SE interface node "
                                  "(0 = none, diffusion on the mesh only): resolves Li penetration depths below "
                                  "the mesh size")
    double_layer: bool = opt(False, help="include double-layer charging currents")

    def check(self, where: Where):
        if self.surface_layer == 1:
            where.fail("surface_layer", "= 1: accepted 0 (no layer) or 2 … 64 cells")


#: the outputs a run can write (electrochem/exports.py)
EXPORTS = ("timeseries", "profile", "collector", "fields", "plots")


@dataclass
class OutputConfig:
    fields_every: int = opt(0, lo=0, help="write 3D fields every N steps (0 = at start and end of each step only)")
    exports: list[str] = opt(
        default_factory=lambda: list(EXPORTS), choices=EXPORTS,
        help="what a run writes besides summary.json: timeseries.csv, profile.csv (+ profile_<V>V.csv), "
             "collector.csv (+ collector_<V>V.csv), the ParaView fields (+ view_fields.py) and the PNG plots; "
             "`impedance` and `p2d` read \"plots\" only")
    profile_bins_um: float | None = opt(None, lo=0.0, lo_open=True, unit="µm",
                                        help="x-bin width of profile.csv (default: the voxel size)")
    snapshot_V: list[float] = opt(default_factory=list, lo=0.0, hi=6.0, unit="V",
                                  help="voltages at which to write the fields and profile_<V>V.csv (located "
                                       "like the cut-off)")


@dataclass
class ImpedanceConfig:
    """Small-signal impedance about a rest state (`fem-assb impedance`)."""

    f_max_Hz: float = opt(7e6, lo=0.0, lo_open=True, unit="Hz", help="highest frequency")
    f_min_Hz: float = opt(1.0, lo=0.0, lo_open=True, unit="Hz", help="lowest frequency")
    per_decade: int = opt(8, lo=1, hi=100, help="frequencies per decade (log-spaced)")
    rest_x_Li: float | None = opt(None, lo=0.0, hi=1.0, lo_open=True, hi_open=True,
                                  help="CAM stoichiometry of the rest state (default: the material set's c0/c_max)")
    linear: str = opt("auto", choices=("auto", "direct", "iterative"),
                      help="direct = MUMPS LU of the real 2 × 2 block system; iterative = FGMRES with the PRESB "
                           "block preconditioner (block AMG inside; far less memory); auto = direct below 20000 unknowns")

    def check(self, where: Where):
        if self.f_min_Hz >= self.f_max_Hz:
            where.fail("f_min_Hz", f"= {self.f_min_Hz:g} must be below f_max_Hz = {self.f_max_Hz:g}")


@dataclass
class P2DConfig:
    """The pseudo-2D model of `fem-assb p2d` (fem_assb/p2d): its particle size and discretisation."""

    particle: str = opt("dsca", choices=("dsca", "median"),
                        help="particle diameter: dsca = the AM specific contact area diameter 6 V_AM/S_AM-SE measured "
                             "on the structure (seed 004), median = the volume median of the generated size "
                             "distribution")
    particle_diameter_um: float | None = opt(None, lo=0.0, lo_open=True, unit="µm",
                                             help="a fixed particle diameter instead of `particle`")
    interface_area: str = opt("voxel", choices=("voxel", "corrected"),
                              help="CAM|SE area behind D_SCA: voxel = the faces the 3D voxel model sees, corrected = "
                                   "× 2/3, the geometric area of smooth particles")
    radial_points: int = opt(40, lo=5, hi=1000, help="nodes across a particle's radius")
    radial_stretch: float = opt(10.0, lo=0.0, hi=20.0,
                                help="exponential grading α of the radial mesh towards the surface (0 = uniform; the "
                                     "outer cell is ≈ (α/N) e^(−α) of the radius): Li penetrates nm to tens of nm "
                                     "with the seed-001 diffusivity")
    x_points: int = opt(40, lo=5, hi=1000, help="nodes across the composite")
    refinement_check: bool = opt(True, help="run again on twice the nodes in x and r and report the capacity change "
                                            "(summary.json: refinement_change; a line when it exceeds 1e-3)")


@dataclass
class Scenario:
    name: str = opt("scenario", help="a short name used in outputs")
    description: str = opt("", help="free text")
    materials: MaterialsConfig = opt(default_factory=MaterialsConfig, help="materials")
    structure: StructureConfig = opt(default_factory=StructureConfig, help="microstructure")
    mesh: MeshConfig = opt(default_factory=MeshConfig, help="meshing")
    collector: CollectorConfig = opt(default_factory=CollectorConfig, help="current collector")
    steps: list[StepConfig] = opt(default_factory=lambda: [StepConfig(current_mA_cm2=1.0)],
                                  help="protocol steps, run in order")
    model: ModelConfig = opt(default_factory=ModelConfig, help="model options")
    solver: SolverConfig = opt(default_factory=SolverConfig, help="time stepping and solvers")
    output: OutputConfig = opt(default_factory=OutputConfig, help="outputs")
    impedance: ImpedanceConfig = opt(default_factory=ImpedanceConfig, help="impedance spectrum settings")
    p2d: P2DConfig = opt(default_factory=P2DConfig, help="the P2D model of `fem-assb p2d`")

    #: folder of the scenario file, to resolve relative paths (not a TOML key)
    base_dir: Path = field(default=Path("."), init=False, repr=False, compare=False)

    def separator_um(self, mats) -> float:
        """The separator thickness (µm): [structure] separator_um, else the material set's."""
        return self.structure.separator_um if self.structure.separator_um is not None else mats.separator_um

    #: keys that moved (before 2026-12-07 → now): still read, with a one-line warning
    MOVED = {("solver", "surface_layer"): ("model", "surface_layer"),
             ("solver", "double_layer"): ("model", "double_layer")}

    @classmethod
    def migrate(cls, table: dict, where: Where) -> dict:
        """The table with moved keys at their new place (a warning names each)."""
        from fem_assb.parallel import warn

        out = {k: dict(v) if isinstance(v, dict) else v for k, v in table.items()}
        output = out.get("output")
        if isinstance(output, dict) and "plots" in output:  # replaced by the list of exports
            plots = output.pop("plots")
            if "exports" in output:
                where.sub("output").fail("plots", "and exports are both given: keep exports only")
            if plots is False:
                output["exports"] = [e for e in EXPORTS if e != "plots"]
            elif plots is not True:
                where.sub("output").fail("plots", f"= {plots!r} is not true or false")
            warn(f"{where.file}: [output] plots = {str(plots).lower()} is replaced by [output] exports "
                 f"(read as exports = {output.get('exports', list(EXPORTS))} this time)")
        for (old_t, old_k), (new_t, new_k) in cls.MOVED.items():
            if isinstance(out.get(old_t), dict) and old_k in out[old_t]:
                value = out[old_t].pop(old_k)
                if new_k in out.setdefault(new_t, {}):
                    where.sub(old_t).fail(old_k, f"and [{new_t}] {new_k} are both given: keep [{new_t}] {new_k} only")
                out[new_t][new_k] = value
                warn(f"{where.file}: [{old_t}] {old_k} has moved to [{new_t}] {new_k} (read there this time)")
        return out


def read_toml(path: str | Path) -> dict:
    """Read a TOML file; unreadable or malformed files are InputErrors."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"{p}: file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{p}: cannot be read: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{p}: is not valid TOML: {e}") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    p = Path(path)
    table = read_toml(p)
    if not table:  # the defaults are a demonstration, not a silent stand-in for a forgotten file
        raise InputError(f"{p}: is empty: a scenario needs at least one table (see `fem-assb check --keys`)")
    sc = parse(Scenario, table, Where(str(p)))
    sc.base_dir = p.resolve().parent
    if sc.structure.image is not None:
        img = Path(sc.structure.image)
        sc.structure.image = str(img if img.is_absolute() else sc.base_dir / img)
    return sc
