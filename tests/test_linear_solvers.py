"""The Krylov solvers fem_assb configures get the options it gives them, sub-solvers included."""
import numpy as np
from mpi4py import MPI

from fem_assb import linear_solvers


def two_field_system(n: int = 40):
    """A 1D Laplacian (the "phi" rows) coupled to a mass-dominated diagonal block ("c")."""
    from petsc4py import PETSc

    A = PETSc.Mat().createAIJ([2 * n, 2 * n], nnz=4, comm=MPI.COMM_SELF)
    for i in range(n):
        A[i, i] = 2.0 + (i == 0)
        if i:
            A[i, i - 1] = A[i - 1, i] = -1.0
        A[n + i, n + i] = 10.0
        A[i, n + i] = A[n + i, i] = 0.1
    A.assemble()
    splits = [(name, PETSc.IS().createGeneral(np.arange(k * n, (k + 1) * n, dtype=PETSc.IntType), comm=MPI.COMM_SELF))
              for k, name in enumerate(("phi", "c"))]
    return A, splits


def test_field_split_sub_solvers_take_the_block_options():
    """The AMG V-cycle on the potentials and block-Jacobi ILU on the stoichiometry reach the split
    solvers (a prefix set after the splits were made once left them on PETSc's ILU default: 3.5–14×
    more GMRES iterations per Newton step, the same answers)."""
    A, splits = two_field_system()
    ksp = linear_solvers.block_amg_ksp(A, splits)
    b = A.createVecLeft()
    b.set(1.0)
    x = A.createVecRight()
    ksp.setTolerances(rtol=1e-10)
    ksp.solve(b, x)
    phi, c = ksp.getPC().getFieldSplitSubKSP()
    assert phi.getPC().getType() == {"boomeramg": "hypre", "gamg": "gamg"}[linear_solvers.amg()]
    assert c.getPC().getType() == "bjacobi"
    assert phi.getOptionsPrefix().startswith(ksp.getOptionsPrefix())
    r = A.createVecLeft()
    A.mult(x, r)
    assert ksp.getConvergedReason() > 0 and (r - b).norm() < 1e-8 * b.norm()


def test_solvers_do_not_share_options():
    """Two block solvers and a conductivity solver: each reads only its own settings."""
    from petsc4py import PETSc

    A, splits = two_field_system()
    first, second = (linear_solvers.block_amg_ksp(A, splits) for _ in range(2))
    assert first.getOptionsPrefix() != second.getOptionsPrefix()
    plain = PETSc.KSP().create(MPI.COMM_SELF)
    plain.setOperators(A)
    linear_solvers.configure(plain, "plain", {"ksp_type": "cg", "pc_type": "jacobi"})
    assert (plain.getType(), plain.getPC().getType()) == ("cg", "jacobi")
    assert first.getType() == "gmres" and first.getPC().getType() == "fieldsplit"
