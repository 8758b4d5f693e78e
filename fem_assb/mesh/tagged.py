"""A mesh with its cell tags (Phase) and facet tags (Facet), plus geometry facts, and its
XDMF storage. Coordinates are in metres."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fem_assb.phases import Facet, Phase


@dataclass
class TaggedMesh:
    mesh: object  # dolfinx.mesh.Mesh
    cell_tags: object  # dolfinx.mesh.MeshTags (Phase values)
    facet_tags: object  # dolfinx.mesh.MeshTags (Facet values), owned facets only
    info: dict = field(default_factory=dict)  # lengths in µm: separator_um, length_um, area_um2, kind, ...

    @property
    def comm(self):
        return self.mesh.comm

    def cells(self, *phases) -> np.ndarray:
        """Local cell indices (owned and ghost) with one of the given phases."""
        return self.cell_tags.indices[np.isin(self.cell_tags.values, np.asarray(phases, np.int32))]

    def measure_volume(self, *phases) -> float:
        """Total volume (m³) of the cells of the given phases, summed over ranks."""
        import dolfinx.fem
        import ufl

        dx = ufl.Measure("dx", domain=self.mesh, subdomain_data=self.cell_tags)
        form = sum((1.0 * dx(int(p)) for p in phases), start=0 * dx)
        return self.comm.allreduce(dolfinx.fem.assemble_scalar(dolfinx.fem.form(form)))

    def facet_area(self, tag: Facet) -> float:
        """Total area (m²) of the owned facets with a tag, summed over ranks."""
        facets = self.facet_tags.find(int(tag))
        if facets.size == 0:
            return self.comm.allreduce(0.0)
        area = _facet_areas(self.mesh, facets)
        return self.comm.allreduce(float(area.sum()))

    def counts(self) -> dict:
        """Global numbers of cells per phase and facets per tag."""
        imap = self.mesh.topology.index_map(3)
        owned = self.cell_tags.indices < imap.size_local
        out = {"cells": int(imap.size_global)}
        for p in Phase:
            n = self.comm.allreduce(int(np.count_nonzero(self.cell_tags.values[owned] == p)))
            if n:
                out[f"cells_{p.name}"] = n
        for t in Facet:
            n = self.comm.allreduce(int(np.count_nonzero(self.facet_tags.values == t)))
            if n:
                out[f"facets_{t.name}"] = n
        return out

    def write(self, path: str | Path) -> None:
        """XDMF (+ .h5) with mesh, cell and facet tags, and a .json sidecar with `info`."""
        from dolfinx.io import XDMFFile

        path = Path(path)
        if self.comm.rank == 0:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.comm.barrier()
        self.mesh.name = "mesh"
        self.cell_tags.name = "cell_tags"
        self.facet_tags.name = "facet_tags"
        counts = self.counts_cache  # collective: every rank
        self.mesh.topology.create_connectivity(2, 3)
        with XDMFFile(self.comm, str(path), "w") as f:
            f.write_mesh(self.mesh)
            f.write_meshtags(self.cell_tags, self.mesh.geometry)
            f.write_meshtags(self.facet_tags, self.mesh.geometry)
        if self.comm.rank == 0:
            from fem_assb.io.atomic import atomic_write_json

            atomic_write_json(path.with_suffix(".json"), {**self.info, "counts": counts})
        self.comm.barrier()

    @property
    def counts_cache(self):
        """`counts()` computed once (collective on first use)."""
        if not hasattr(self, "_counts"):
            self._counts = self.counts()
        return self._counts

    @classmethod
    def read(cls, path: str | Path, comm=None) -> "TaggedMesh":
        from dolfinx.io import XDMFFile
        from dolfinx.mesh import GhostMode
        from mpi4py import MPI

        comm = comm or MPI.COMM_WORLD
        with XDMFFile(comm, str(path), "r") as f:
            mesh = f.read_mesh(name="mesh", ghost_mode=GhostMode.shared_facet)
            ct = f.read_meshtags(mesh, name="cell_tags")
            mesh.topology.create_connectivity(2, 3)
            ft = f.read_meshtags(mesh, name="facet_tags")
        ft = _owned_only(mesh, ft)
        info = json.loads(Path(path).with_suffix(".json").read_text())
        info.pop("counts", None)
        return cls(mesh, ct, ft, info)


def _owned_only(mesh, tags):
    import dolfinx.mesh

    n = mesh.topology.index_map(tags.dim).size_local
    keep = tags.indices < n
    return dolfinx.mesh.meshtags(mesh, tags.dim, tags.indices[keep], tags.values[keep])


def _facet_areas(mesh, facets: np.ndarray) -> np.ndarray:
    """Areas of planar quadrilateral or triangular facets."""
    import dolfinx.mesh

    geom = dolfinx.mesh.entities_to_geometry(mesh, 2, facets, False)
    x = mesh.geometry.x[geom]  # (n, nv, 3)
    if x.shape[1] == 3:
        return 0.5 * np.linalg.norm(np.cross(x[:, 1] - x[:, 0], x[:, 2] - x[:, 0]), axis=1)
    # DOLFINx quadrilateral vertex order: 0-1 / 2-3 (tensor product): diagonals 0-3 and 1-2
    return 0.5 * np.linalg.norm(np.cross(x[:, 3] - x[:, 0], x[:, 2] - x[:, 1]), axis=1)
