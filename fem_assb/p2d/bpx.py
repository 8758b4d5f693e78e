"""The homogenised cell as a BPX (Battery Parameter eXchange, schema of the `bpx` package 1.1)
file, validated before it is written, so that other P2D tools can run the same cell.

What BPX cannot express, and what the file holds instead (also in its Header.Description):
- a lithium-metal counter electrode: BPX needs an intercalation negative electrode. The file
  has a 1 µm stand-in with a flat 0 V OCP, Li metal's molar density as c_max, fast diffusion,
  unit interface area per geometric area and the Li-metal exchange current at half filling;
- several regions along x: one set per electrode. Regions are combined as resistances in series
  (ionic and electronic transport efficiencies), with the thickness-weighted fractions and the
  total interface area kept (particle radius 3 ε_AM / a);
- σ(x) of the CAM: BPX's electrode conductivity is a number; the file has the effective value
  σ(x0) · ε_AM/τ²_AM at the initial state (BPX readers then apply no further correction to it);
- α ≠ 0.5: BPX kinetics are symmetric (both seed sets have α = 0.5);
- t+ = 1 and a constant c_e are expressible (cation transference number 1); the dense SE
  separator has porosity and efficiency 1 − 1e-6 (`DENSE`).
Functions of stoichiometry (OCP, D) are written as 101-point tables.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fem_assb.p2d.cell import Cell
from fem_assb.units import F

LI_MOLAR_DENSITY = 76_900.0  # mol/m³ (0.534 g/cm³ / 6.94 g/mol)
#: porosity and transport efficiency of the dense SE separator: 1 − 1e-6, since BPX readers derive a
#: Bruggeman exponent log(efficiency)/log(porosity) (PyBaMM's divides by zero at exactly 1)
DENSE = 1.0 - 1e-6
STANDIN_THICKNESS = 1e-6  # m


def _table(f) -> dict:
    x = np.linspace(0.0, 1.0, 101)
    return {"x": x.tolist(), "y": np.asarray(f(x), float).tolist()}


def document(cell: Cell) -> dict:
    m = cell.mats
    cam, el, an = m.cam, m.electrolyte, m.anode
    L = cell.thickness
    R = cell.regions
    b_se = L / sum(r.thickness * r.tau2_se / r.eps_se for r in R)  # σ_eff/σ of the regions in series
    b_am = L / sum(r.thickness * r.tau2_am / r.eps_am for r in R)
    eps_se = sum(r.eps_se * r.thickness for r in R) / L
    eps_am = sum(r.eps_am * r.thickness for r in R) / L
    a = sum(r.model_interface_area * r.thickness for r in R) / L
    c_half = 0.5 * LI_MOLAR_DENSITY
    k_li = an.i0 / (F * np.sqrt(el.c_e * c_half * (LI_MOLAR_DENSITY - c_half)))
    limits = ("Li-metal anode as a 1 µm intercalation stand-in (flat 0 V OCP); "
              f"{len(R)} region(s) combined in series; CAM conductivity as its effective value at x0; "
              "symmetric kinetics")
    return {
        "Header": {"BPX": "1.0.0", "Model": "DFN", "Title": f"fem_assb P2D cell, {m.name}",
                   "Description": f"Solid-state half cell measured on a 3D structure (fem_assb.p2d). Not expressible in "
                                  f"BPX, approximated: {limits}.",
                   "References": ", ".join(m.references)},
        "Parameterisation": {
            "Cell": {"Electrode area [m2]": cell.area, "External surface area [m2]": 2.0 * cell.area,
                     "Volume [m3]": cell.area * (STANDIN_THICKNESS + cell.separator + L),
                     "Number of electrode pairs connected in parallel to make a cell": 1,
                     "Lower voltage cut-off [V]": m.cutoff_V, "Upper voltage cut-off [V]": float(cam.ocv(cam.x0)) + 0.1,
                     "Nominal cell capacity [A.h]": cell.theoretical_capacity() * cell.area / 3600.0,
                     "Reference temperature [K]": m.temperature},
            "Electrolyte": {"Cation transference number": 1.0, "Diffusivity [m2.s-1]": 1e-12,
                            "Conductivity [S.m-1]": el.kappa},
            "Negative electrode": {
                "Thickness [m]": STANDIN_THICKNESS, "Porosity": 0.5, "Transport efficiency": 1.0,
                "Conductivity [S.m-1]": 1.0e7, "Minimum stoichiometry": 0.01, "Maximum stoichiometry": 0.99,
                "Maximum concentration [mol.m-3]": LI_MOLAR_DENSITY, "Particle radius [m]": 1e-7,
                "Surface area per unit volume [m-1]": 1.0 / STANDIN_THICKNESS, "Diffusivity [m2.s-1]": 1e-9,
                "OCP [V]": {"x": [0.0, 1.0], "y": [0.0, 0.0]}, "Entropic change coefficient [V.K-1]": 0.0,
                "Reaction rate constant [mol.m-2.s-1]": k_li},
            "Positive electrode": {
                "Thickness [m]": L, "Porosity": eps_se, "Transport efficiency": b_se,
                "Conductivity [S.m-1]": float(cam.sigma(cam.x0)) * b_am,
                "Minimum stoichiometry": cam.x0, "Maximum stoichiometry": 1.0,
                "Maximum concentration [mol.m-3]": cam.c_max, "Particle radius [m]": 3.0 * eps_am / a,
                "Surface area per unit volume [m-1]": a, "Diffusivity [m2.s-1]": _table(cam.diffusivity),
                "OCP [V]": _table(cam.ocv), "Entropic change coefficient [V.K-1]": 0.0,
                "Reaction rate constant [mol.m-2.s-1]": cam.i00 / F},
            "Separator": {"Thickness [m]": cell.separator, "Porosity": DENSE, "Transport efficiency": DENSE},
        },
        "State": {"Initial conditions": {"Initial state-of-charge": 1.0, "Initial temperature [K]": m.temperature,
                                         "Initial electrolyte concentration [mol.m-3]": el.c_e}},
    }


def write(cell: Cell, path: Path) -> None:
    """Validate against the BPX schema, then write atomically."""
    import copy
    import warnings

    import bpx

    from fem_assb.io.atomic import atomic_write_json

    doc = document(cell)
    with warnings.catch_warnings():  # the stoichiometry-limit check warns about the stand-in's flat OCP
        warnings.simplefilter("ignore")
        bpx.parse_bpx_obj(copy.deepcopy(doc))  # it converts the dict in place
    atomic_write_json(path, doc)
