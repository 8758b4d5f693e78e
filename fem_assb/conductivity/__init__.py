"""Effective conductivity and tortuosity (seed 000's flux-based method): a steady
−∇·(σ∇φ) = 0 with φ = U at x = 0 and φ = 0 at x = L, insulated elsewhere."""
from __future__ import annotations


def solve_image(labels, h_um: float, sigma: dict, discretization: str, U: float = 1.0, axis: str = "x",
                contact: dict | None = None, rtol: float = 1e-10, comm=None, cc_delaminated=None,
                connectivity: str = "face"):
    """σ_eff of a voxel image with the face-based FV ('fv') or nodal FEM ('fem') method;
    `cc_delaminated` (ny, nz) insulates those pixels of x = L (FV only); `connectivity` chooses
    the FEM mesh's voxel connectivity (mesh/voxel.py; FV is face-based by construction)."""
    from fem_assb.errors import InputError

    if discretization == "fv":
        from fem_assb.conductivity.fv import solve_fv

        return solve_fv(labels, h_um, sigma, U, axis, contact, rtol, comm, cc_delaminated)
    if cc_delaminated is not None:
        raise InputError("discretization 'fem' does not model a detached collector contact "
                         "(structure.cc_delamination_fraction > 0): accepted 'fv'")
    from fem_assb.conductivity.fem import solve_fem_voxels

    return solve_fem_voxels(labels, h_um, sigma, U, axis, contact, rtol, comm, connectivity)
