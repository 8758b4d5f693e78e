"""MPI helpers on 2 ranks."""
import numpy as np
import pytest
from mpi4py import MPI

from fem_assb.parallel import allsum


@pytest.mark.mpi
def test_reductions_across_ranks():
    comm = MPI.COMM_WORLD
    assert comm.size == 2, "run the mpi tests under mpirun -n 2"
    assert allsum(comm.rank + 1, comm) == 3
    assert np.array_equal(allsum(np.array([comm.rank, 1.0]), comm), [1.0, 2.0])
    alone = comm.Split(comm.rank, comm.rank)  # a one-rank group reduces over itself only
    assert allsum(comm.rank + 1, alone) == comm.rank + 1
    alone.Free()
