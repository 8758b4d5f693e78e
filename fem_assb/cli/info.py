"""`fem-assb info`: versions of the stack and the MPI layout."""
import json


def register(sub):
    p = sub.add_parser("info", help="versions of fem_assb, DOLFINx, PETSc, MPI; ranks; scalar type; solvers",
                       description="Print the versions of fem_assb, DOLFINx, PETSc and the MPI library, the "
                                   "number of MPI ranks, the PETSc scalar type and the linear solvers chosen "
                                   "for this PETSc (AMG: BoomerAMG or GAMG; direct: MUMPS, SuperLU_DIST or "
                                   "PETSc's serial LU) with the reason (printed once, by rank 0). "
                                   "FEM_ASSB_AMG / FEM_ASSB_DIRECT force a choice.")
    p.add_argument("--json", action="store_true", help="one line of JSON with keys fem_assb, dolfinx, petsc, "
                                                        "mpi, ranks, scalar_type, python, linear_solvers")
    p.set_defaults(func=run)


def collect() -> dict:
    import platform

    from mpi4py import MPI
    import dolfinx
    import numpy as np
    from petsc4py import PETSc

    from fem_assb import __version__, linear_solvers

    return {
        "fem_assb": __version__,
        "dolfinx": dolfinx.__version__,
        "petsc": ".".join(map(str, PETSc.Sys.getVersion())),
        "mpi": MPI.Get_library_version().splitlines()[0].split(",")[0].strip(),
        "ranks": MPI.COMM_WORLD.size,
        "scalar_type": np.dtype(PETSc.ScalarType).name,
        "python": platform.python_version(),
        "linear_solvers": linear_solvers.report(),
    }


def run(args):
    from fem_assb.parallel import log

    info = collect()
    if args.json:
        log(json.dumps(info))
    else:
        width = max(map(len, info))
        for k, v in info.items():
            if k == "linear_solvers":
                for kind, c in v.items():
                    log(f"{kind:<{width}}  {c['chosen']} ({c['why']}; available: {', '.join(c['available'])})")
            else:
                log(f"{k:<{width}}  {v}")
    return 0
