"""The homogenised half cell of the P2D model: Li metal | SE separator | composite regions along
x | collector. SI units. Every number carries where it came from (`sources`), so that a run can
say which parameters were measured on the 3D structure and which are material data.

Effective properties enter as measured: σ_eff = σ ε/τ² for the SE network (ions) and the CAM
network (electrons), with ε the phase's volume fraction of the composite and τ² its tortuosity
factor ε σ_bulk/σ_eff from a face-based FV solve; no Bruggeman relation is assumed. The
Butler–Volmer interface area per volume is a = 3 ε_AM / r_p of spheres of radius r_p: with the
specific contact area diameter, r_p = D_SCA/2 = 3 V_AM/S_AM-SE, that is the measured CAM|SE area
(seed 004).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from fem_assb.materials.types import MaterialSet


@dataclass
class Region:
    """A homogeneous slice of the composite along x."""

    thickness: float  # m
    eps_se: float  # SE (ion conductor) volume fraction of the region
    eps_am: float  # CAM volume fraction
    tau2_se: float  # tortuosity factor of the SE network, ε σ_bulk / σ_eff
    tau2_am: float  # tortuosity factor of the CAM network
    particle_radius: float  # m, the P2D particle radius
    interface_area: float  # m²/m³, measured CAM|SE area per region volume (reported; 3 ε_AM / r_p is used)
    d_sca: float  # m, 6 V_AM / S_AM-SE
    d50: float | None = None  # m, volume-median particle diameter when known
    sources: dict = field(default_factory=dict)

    @property
    def model_interface_area(self) -> float:
        """a = 3 ε_AM / r_p, the area the P2D model uses (m²/m³)."""
        return 3.0 * self.eps_am / self.particle_radius


@dataclass
class Cell:
    mats: MaterialSet
    separator: float  # m, SE slab at the anode
    regions: list[Region]
    area: float = 1.0  # m², geometric area (outputs are per area)
    sources: dict = field(default_factory=dict)

    @property
    def thickness(self) -> float:
        return sum(r.thickness for r in self.regions)

    def theoretical_capacity(self) -> float:
        """C/m² between c0 and c_max of all CAM."""
        from fem_assb.units import F

        cam = self.mats.cam
        return (cam.c_max - cam.c0) * F * sum(r.eps_am * r.thickness for r in self.regions)

    def to_dict(self) -> dict:
        """Every parameter with its unit and source (p2d_parameters.json)."""
        regions = []
        for r in self.regions:
            d = asdict(r)
            d["model_interface_area"] = r.model_interface_area
            regions.append(d)
        cam, el, an = self.mats.cam, self.mats.electrolyte, self.mats.anode
        return {
            "units": {"thickness": "m", "separator": "m", "particle_radius": "m", "d_sca": "m", "d50": "m",
                      "interface_area": "m²/m³", "model_interface_area": "m²/m³", "area": "m²"},
            "material_set": self.mats.name, "material_references": list(self.mats.references),
            "separator": self.separator, "area": self.area, "regions": regions, "sources": self.sources,
            "materials": {"cam": cam.name, "cam_sources": cam.sources, "electrolyte": el.name,
                          "electrolyte_sources": el.sources, "anode": an.name, "anode_sources": an.sources,
                          "kappa_S_m": el.kappa, "c_e_mol_m3": el.c_e, "c_max_mol_m3": cam.c_max,
                          "c0_mol_m3": cam.c0, "i00_SI": cam.i00, "alpha": cam.alpha, "anode_i0_A_m2": an.i0,
                          "ocv": cam.ocv.describe(), "sigma": cam.sigma.describe(),
                          "diffusivity": cam.diffusivity.describe()},
        }
