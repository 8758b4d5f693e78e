"""`fem-assb info`: versions of the stack and the MPI layout."""
import json


def register(sub):
    p = sub.add_parser("info", help="versions of fem_assb, DOLFINx, PETSc, MPI; ranks; scalar type",
                       description="Print the versions of fem_assb, DOLFINx, PETSc and the MPI library, the "
                                   "number of MPI ranks and the PETSc scalar type (printed once, by rank 0).")
    p.add_argument("--json", action="store_true", help="one line of JSON with keys fem_assb, dolfinx, petsc, "
                                                        "mpi, ranks, scalar_type")
    p.set_defaults(func=run)


def collect() -> dict:
    import dolfinx
    import numpy as np
    from mpi4py import MPI
    from petsc4py import PETSc

    from fem_assb import __version__

    return {
        "fem_assb": __version__,
        "dolfinx": dolfinx.__version__,
        "petsc": ".".join(map(str, PETSc.Sys.getVersion())),
        "mpi": MPI.Get_library_version().splitlines()[0].split(",")[0].strip(),
        "ranks": MPI.COMM_WORLD.size,
        "scalar_type": np.dtype(PETSc.ScalarType).name,
    }


def run(args):
    from fem_assb.parallel import log

    info = collect()
    if args.json:
        log(json.dumps(info))
    else:
        width = max(map(len, info))
        for k, v in info.items():
            log(f"{k:<{width}}  {v}")
    return 0
