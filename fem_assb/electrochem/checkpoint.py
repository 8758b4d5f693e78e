"""Checkpoints independent of the parallel partition: every field is stored as (dof keys,
values) gathered on rank 0, and read back by nearest-key lookup, so a run can resume on any
number of ranks. A dof's key is its coordinates and the lowest midpoint of the cells around it
(`dof_keys`): the vertex copies of a face-connected mesh share coordinates but not cells. The
stepper state is stored alongside as JSON. Both files are written atomically; the checkpoint of
step N replaces that of the previous checkpoint. State that is not a finite-element function
(the surface layers of the interface pairs, the step predictor's rates) is stored the same way
as `PointData`: values at keys, filled in place on loading. Fields and stepper state are one file,
renamed into place at once, so a kill at any moment leaves either the previous checkpoint or the
new one, never a mix."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fem_assb.io.atomic import atomic_write_bytes


@dataclass
class PointData:
    """Values (n, ...) at keys (n, k) of this rank (e.g. `dof_keys` rows); keys on several
    ranks carry equal values."""

    points: np.ndarray
    values: np.ndarray


def dof_keys(V) -> np.ndarray:
    """(n, 6) per dof (owned and ghost) of a scalar space: its coordinates and the
    lexicographically lowest midpoint of the cells that hold it (m)."""
    import dolfinx.mesh

    mesh = V.mesh
    tdim = mesh.topology.dim
    n_cells = mesh.topology.index_map(tdim).size_local + mesh.topology.index_map(tdim).num_ghosts
    dofs = V.dofmap.list[:n_cells]
    mid = dolfinx.mesh.compute_midpoints(mesh, tdim, np.arange(n_cells, dtype=np.int32))
    d = dofs.ravel()
    m = np.repeat(mid, dofs.shape[1], axis=0)
    order = np.lexsort((m[:, 2], m[:, 1], m[:, 0], d))
    first = order[np.r_[d.size > 0, d[order][1:] != d[order][:-1]]] if d.size else order
    lowest = np.zeros((V.dofmap.index_map.size_local + V.dofmap.index_map.num_ghosts, 3))
    lowest[d[first]] = m[first]
    return np.hstack([V.tabulate_dof_coordinates(), lowest])


def _owned(f):
    if isinstance(f, PointData):
        return f.points, f.values
    n = f.function_space.dofmap.index_map.size_local
    return dof_keys(f.function_space)[:n], f.x.array[:n]


def _targets(f):
    """Where loaded values go: (keys, array to fill)."""
    if isinstance(f, PointData):
        return f.points, f.values
    return dof_keys(f.function_space), f.x.array


def save(folder: Path, functions: dict, state: dict, comm) -> None:
    arrays = {}
    for name, f in functions.items():
        x, v = _owned(f)
        xs, vs = comm.gather(x, root=0), comm.gather(v.copy(), root=0)
        if comm.rank == 0:
            arrays[f"{name}_x"] = np.concatenate(xs)
            arrays[f"{name}_v"] = np.concatenate(vs)
    if comm.rank == 0:
        buf = io.BytesIO()
        np.savez(buf, state_json=np.array(json.dumps(state)), **arrays)
        atomic_write_bytes(folder / FILE, buf.getvalue())
    comm.barrier()


FILE = "checkpoint.npz"


def exists(folder: Path) -> bool:
    return (folder / FILE).is_file()


def read_state(folder: Path) -> dict:
    """The stepper state stored with the checkpoint."""
    with np.load(folder / FILE) as data:
        return json.loads(str(data["state_json"]))


def load(folder: Path, functions: dict) -> dict:
    """Fill the functions (owned and ghost dofs) and point data from the checkpoint; return the
    stepper state."""
    from scipy.spatial import cKDTree

    data = np.load(folder / FILE)
    for name, f in functions.items():
        if f"{name}_x" not in data:
            from fem_assb.errors import InputError

            raise InputError(f"{folder}: the checkpoint has no {name} (written with other solver settings); "
                             "resume with the scenario that wrote it")
        points, target = _targets(f)
        tree = cKDTree(data[f"{name}_x"])
        d, i = tree.query(points)
        scale = np.abs(data[f"{name}_x"]).max()
        if d.size and d.max() > 1e-9 * scale:
            from fem_assb.errors import InputError

            raise InputError(f"{folder}: the checkpoint belongs to another mesh (field {name}); "
                             "resume with the scenario that wrote it")
        target[:] = data[f"{name}_v"][i]
    return json.loads(str(data["state_json"]))
