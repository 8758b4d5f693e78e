"""What both discretizations share: inputs, percolation filtering, results, fits, estimates.

σ_eff = I L / (U A); τ² = ε σ_bulk / σ_eff with ε the volume fraction of the conducting
phase in the whole volume (voids included) and σ_bulk its conductivity (seed 000 eq. 11).
The off-diagonal terms follow from the mean transverse current densities under the applied
through-plane gradient: σ_13 = ⟨j_y⟩ L / U, σ_23 = ⟨j_z⟩ L / U (seed 000 eq. 5, x3 = transport).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import ndimage

from fem_assb.errors import InputError
from fem_assb.phases import Phase, phase_from_name

FACE = ndimage.generate_binary_structure(3, 1)  # 6-connectivity: two-point-flux (face) coupling
NODE = ndimage.generate_binary_structure(3, 3)  # 26-connectivity: nodal FEM couples via edges/corners


def parse_sigma(spec: str) -> dict[Phase, float]:
    """'SE=0.7e-3,CAM=1e-7,void=0' (S/cm) → {Phase: S/m}."""
    values = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        if "=" not in part:
            raise InputError(f"--sigma entry '{part}' needs the form PHASE=VALUE (S/cm), e.g. SE=0.7e-3")
        name, value = part.split("=", 1)
        values[name] = value
    return sigma_si(values, "--sigma")


def sigma_si(values: dict, what: str) -> dict[Phase, float]:
    """{phase or phase name: σ in S/cm} → {Phase: S/m}, each σ a number ≥ 0 (`what` names the
    input in errors)."""
    out = {}
    for name, value in values.items():
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise InputError(f"{what} {name}={value}: not a number") from None
        if not v >= 0:
            raise InputError(f"{what} {name}={value}: is out of range: accepted σ ≥ 0 S/cm")
        out[phase_from_name(name) if isinstance(name, str) else Phase(name)] = v * 100.0
    return out


def parse_contact(spec: str | None) -> dict | None:
    """'CAM:SE=40,...' (Ω cm² per phase pair) → {(Phase, Phase): Ω m²}, None for no spec."""
    if not spec:
        return None
    out = {}
    for part in spec.split(","):
        try:
            pair, value = part.split("=")
            a, b = pair.split(":")
            r = float(value)
        except ValueError:
            raise InputError(f"--contact-resistance '{part}': expected PHASE:PHASE=OHM_CM2, e.g. CAM:SE=40") from None
        if r < 0:
            raise InputError(f"--contact-resistance {part}: is out of range: accepted R ≥ 0 Ω cm²")
        out[(phase_from_name(a), phase_from_name(b))] = r * 1e-4  # Ω cm² → Ω m²
    return out


def sigma_from_material(name: str) -> dict[Phase, float]:
    """SE = the electrolyte's κ; CAM = NCM_IONIC_RATIO × κ (seed 000 §2.2); others 0."""
    from fem_assb.materials import NCM_IONIC_RATIO, electrolyte

    k = electrolyte(name, "--material").kappa
    return {Phase.SE: k, Phase.SE_PASSIVE: k, Phase.SEPARATOR: k, Phase.CAM: NCM_IONIC_RATIO * k}


def phase_sigma_table(sigma: dict) -> np.ndarray:
    """σ (S/m) per phase value; SE's value also applies to passivated SE and the separator."""
    table = np.zeros(max(Phase) + 1)
    for p, v in sigma.items():
        table[int(p)] = v
    for alias in (Phase.SE_PASSIVE, Phase.SEPARATOR):
        if alias not in sigma and Phase.SE in sigma:
            table[int(alias)] = sigma[Phase.SE]
    return table


def reference_phase(sigma: dict) -> Phase:
    """The conducting phase characterised by τ²: the one with the largest σ."""
    return max(sigma, key=lambda p: sigma[p])


def spanning_mask(conducting: np.ndarray, structure, closed_L: np.ndarray | None = None) -> np.ndarray:
    """Conducting voxels in clusters that touch both x = 0 and x = L (others are removed:
    floating clusters would make the system singular and carry no current); `closed_L` marks
    pixels of the x = L face that are insulated (a detached collector contact)."""
    from fem_assb.microstructure.analysis import connected_to_faces

    to0, toL = connected_to_faces(conducting, closed_L, structure)
    return to0 & toL


@dataclass
class ConductivityResult:
    sigma_eff: float  # S/cm
    sigma_eff_rel: float  # σ_eff / σ_bulk of the reference phase
    tau_factor: float  # τ² (inf if not percolating)
    volume_fraction: float  # ε of the reference phase (whole volume, voids included)
    percolating_fraction: float  # share of the reference phase in spanning clusters
    sigma_13: float  # S/cm
    sigma_23: float  # S/cm
    reference_phase: str
    sigma_bulk: float  # S/cm
    axis: str
    discretization: str
    dofs: int
    iterations: int
    residual: float  # relative residual of the linear solve
    current_balance: float  # |I(x=0) − I(x=L)| / I: conservation check
    wall_time: float  # s
    message: str = ""
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["units"] = {"sigma_eff": "S/cm", "sigma_13": "S/cm", "sigma_23": "S/cm", "sigma_bulk": "S/cm",
                      "wall_time": "s"}
        return d


def make_result(I, I_out, jy, jz, U, L, A, V, ref, sigma_bulk, eps, perc, **kw) -> ConductivityResult:
    """Assemble a result from the computed currents (SI inputs)."""
    sigma_eff = I * L / (U * A)
    rel = sigma_eff / sigma_bulk
    tau2 = eps / rel if rel > 0 else float("inf")
    return ConductivityResult(
        sigma_eff=sigma_eff / 100.0, sigma_eff_rel=rel, tau_factor=tau2, volume_fraction=eps,
        percolating_fraction=perc, sigma_13=jy / V * L / U / 100.0, sigma_23=jz / V * L / U / 100.0,
        reference_phase=ref.name, sigma_bulk=sigma_bulk / 100.0,
        current_balance=abs(I - I_out) / abs(I) if I else 0.0, **kw)


def not_percolating(ref, sigma_bulk, eps, axis, disc, t) -> ConductivityResult:
    return ConductivityResult(0.0, 0.0, float("inf"), eps, 0.0, 0.0, 0.0, ref.name, sigma_bulk / 100.0, axis,
                              disc, 0, 0, 0.0, 0.0, t,
                              message=f"no conducting path between x = 0 and x = L along {axis}: σ_eff = 0")


# --- Bruggeman and the Ohmic current estimate (seed 000 eqs. 14-19) ---------------------------


def bruggeman(eps):
    """τ² = ε^(−1/2)."""
    return np.asarray(eps, float) ** -0.5


def fit_modified_bruggeman(eps, tau2) -> tuple[float, float]:
    """Least-squares fit of τ² = γ ε^(−α) in log space; returns (γ, α)."""
    eps, tau2 = np.asarray(eps, float), np.asarray(tau2, float)
    ok = np.isfinite(tau2) & (tau2 > 0) & (eps > 0)
    if ok.sum() < 2:
        raise InputError("the modified Bruggeman fit needs at least two finite τ² values")
    slope, intercept = np.polyfit(np.log(eps[ok]), np.log(tau2[ok]), 1)
    return float(np.exp(intercept)), float(-slope)


def estimate_current(sigma_bulk_S_cm: float, nu_se: float, nu_am: float, void: float, tau2: float,
                     dU_V: float, thickness_um: float, capacity_mAh_g: float, density_g_cm3: float):
    """Ohmic current density (mA/cm²) and C-rate (1/h) of a composite (seed 000 eqs. 15, 17).

    j = σ ν_SE (1 − φ) / τ² · ΔU / l;  C = σ / (c_AM ρ_AM τ²) · (ν_SE / ν_AM) · ΔU / l².
    """
    l_cm = thickness_um * 1e-4
    j = sigma_bulk_S_cm * nu_se * (1 - void) / tau2 * dU_V / l_cm  # A/cm²
    c_rate = sigma_bulk_S_cm / (capacity_mAh_g * 1e-3 * density_g_cm3 * tau2) * (nu_se / nu_am) * dU_V / l_cm ** 2
    return j * 1e3, c_rate
