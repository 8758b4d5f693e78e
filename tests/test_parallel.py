"""MPI helpers on 2 ranks."""
import numpy as np
import pytest
from mpi4py import MPI

from fem_assb.parallel import allmax, allsum


@pytest.mark.mpi
def test_reductions_across_ranks():
    comm = MPI.COMM_WORLD
    assert comm.size == 2, "run the mpi tests under mpirun -n 2"
    assert allsum(comm.rank + 1) == 3
    assert np.array_equal(allsum(np.array([comm.rank, 1.0])), [1.0, 2.0])
    assert allmax(comm.rank) == 1
