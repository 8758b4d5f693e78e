"""Which algebraic multigrid and which direct factorisation this PETSc offers, and the options
fem_assb uses for each.

PETSc builds differ: Debian's has hypre and MUMPS; the `dolfinx-solver-real` wheel has MUMPS and
SuperLU_DIST but no hypre. fem_assb prefers BoomerAMG (hypre) for the potential blocks and
conductivity solves and falls back to PETSc's own smoothed-aggregation GAMG; it prefers MUMPS
for direct solves, then SuperLU_DIST, then PETSc's serial LU. `FEM_ASSB_AMG` and
`FEM_ASSB_DIRECT` (environment) force a choice, for comparisons; asking for a package this PETSc
lacks is an error, never a silent substitute. `fem-assb info` reports the choices and why.
"""
from __future__ import annotations

import os

from fem_assb.errors import InputError

AMG_CHOICES = ("boomeramg", "gamg")
DIRECT_CHOICES = ("mumps", "superlu_dist", "petsc")
_PACKAGE = {"boomeramg": "hypre", "gamg": None, "mumps": "mumps", "superlu_dist": "superlu_dist", "petsc": None}


def _has(package: str | None) -> bool:
    from petsc4py import PETSc

    return package is None or PETSc.Sys.hasExternalPackage(package)


def _pick(env: str, choices: tuple[str, ...]) -> tuple[str, str]:
    forced = os.environ.get(env, "").strip().lower()
    if forced:
        if forced not in choices:
            raise InputError(f"{env}={forced!r}: accepted {', '.join(choices)}")
        if not _has(_PACKAGE[forced]):
            raise InputError(f"{env}={forced}: this PETSc was built without {_PACKAGE[forced]}")
        return forced, f"forced by {env}"
    for name in choices:
        if _has(_PACKAGE[name]):
            missing = [_PACKAGE[c] for c in choices[:choices.index(name)]]
            why = f"this PETSc has no {', '.join(missing)}" if missing else "first choice"
            return name, why
    raise AssertionError("the last choice needs no external package")


def amg() -> str:
    """'boomeramg' or 'gamg' (module docstring)."""
    return _pick("FEM_ASSB_AMG", AMG_CHOICES)[0]


def direct() -> str:
    """'mumps', 'superlu_dist' or 'petsc' (PETSc's LU, one rank only)."""
    return _pick("FEM_ASSB_DIRECT", DIRECT_CHOICES)[0]


def amg_options(prefix: str = "") -> dict:
    """PETSc options of one AMG V-cycle on a scalar, symmetric positive definite block with
    27-point hex (or tetrahedral) stencils and conductivity jumps between phases.

    BoomerAMG: PMIS coarsening with truncated extended interpolation and one level of
    aggressive coarsening (≈ 4× cheaper V-cycles than the classical defaults here, for ≈ 30 %
    more Krylov iterations). GAMG: smoothed aggregation with a small drop threshold (the
    27-point stencil's weak corner couplings otherwise make aggregates that cross phase
    jumps), Chebyshev/SOR smoothing (with Jacobi a seed-002 contact cut stalled at its first
    step), interpolation reused while the operator's pattern holds (Newton refreshes rebuild
    only the Galerkin products). Figures: docs/SOLVERS.md."""
    if amg() == "boomeramg":
        opts = {"pc_type": "hypre", "pc_hypre_type": "boomeramg",
                "pc_hypre_boomeramg_strong_threshold": 0.5, "pc_hypre_boomeramg_coarsen_type": "PMIS",
                "pc_hypre_boomeramg_interp_type": "ext+i", "pc_hypre_boomeramg_P_max": 4,
                "pc_hypre_boomeramg_agg_nl": 1}
    else:
        opts = {"pc_type": "gamg", "pc_gamg_type": "agg", "pc_gamg_threshold": 0.02,
                "pc_gamg_agg_nsmooths": 1, "pc_gamg_reuse_interpolation": True,
                "mg_levels_ksp_type": "chebyshev", "mg_levels_pc_type": "sor",
                "mg_levels_ksp_max_it": 2}
    return {prefix + k: v for k, v in opts.items()}


def set_direct(pc, comm_size: int) -> None:
    """Make `pc` an LU factorisation with the package `direct()` picks."""
    from fem_assb.errors import SolverError

    name = direct()
    pc.setType("lu")
    if name == "petsc" and comm_size > 1:
        raise SolverError("this PETSc has neither MUMPS nor SuperLU_DIST: a direct solve runs on one rank only; "
                          "use solver.linear = \"iterative\" or run serially")
    pc.setFactorSolverType(name)


def configure(ksp, name: str, settings: dict, build=None) -> None:
    """Give `ksp` PETSc options of its own (a prefix unique to this solver, so that solvers
    with different settings never share them) and apply them. `build()`, if given, runs between
    the two: sub-solvers it creates (field splits) take the prefix they are created under, so
    they must be created after it is set and before the options are read."""
    from petsc4py import PETSc

    prefix = f"fem_assb_{name}_{id(ksp)}_"
    ksp.setOptionsPrefix(prefix)
    opts = PETSc.Options(prefix)
    for key, value in settings.items():
        opts[key] = value
    if build is not None:
        build()
    ksp.setFromOptions()


def block_amg_ksp(A, splits, restart: int = 200):
    """GMRES on the coupled cell system `A`, preconditioned by a multiplicative field split over
    `splits` (name, index set) as CellSystem.field_splits gives them: one AMG V-cycle on the
    potentials ("phi": a symmetric positive definite two-domain Laplacian joined by the
    interface conductance) and on a liquid electrolyte's Li+ ("ce": diffusion, D/h² ≫ 1/Δt),
    block-Jacobi ILU on the strongly diagonal stoichiometry block ("c": lumped mass/Δt +
    diffusion). Used by the discharge's Newton and by impedance for K + ωM."""
    from petsc4py import PETSc

    ksp = PETSc.KSP().create(A.comm)
    ksp.setOperators(A)
    # sub-solver options are read at the first solve; a run that stops before it must not end
    # with PETSc's list of unused options
    PETSc.Options()["options_left"] = 0
    names = [name for name, _ in splits]
    settings = {"ksp_type": "gmres", "ksp_gmres_restart": restart, "pc_fieldsplit_type": "multiplicative",
                "fieldsplit_phi_ksp_type": "preonly", **amg_options("fieldsplit_phi_"),
                "fieldsplit_c_ksp_type": "preonly", "fieldsplit_c_pc_type": "bjacobi",
                "fieldsplit_c_sub_pc_type": "ilu"}
    if "ce" in names:
        settings.update({"fieldsplit_ce_ksp_type": "preonly", **amg_options("fieldsplit_ce_")})
    pc = ksp.getPC()
    pc.setType("fieldsplit")
    configure(ksp, "block_amg", settings, build=lambda: pc.setFieldSplitIS(*splits))
    return ksp


def report() -> dict:
    """The choices and why, for `fem-assb info`."""
    out = {}
    for key, env, choices in (("amg", "FEM_ASSB_AMG", AMG_CHOICES), ("direct", "FEM_ASSB_DIRECT", DIRECT_CHOICES)):
        name, why = _pick(env, choices)
        out[key] = {"chosen": name, "why": why,
                    "available": [c for c in choices if _has(_PACKAGE[c])]}
    return out
