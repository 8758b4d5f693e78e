"""What can be checked about a scenario without building its mesh, so that bad input stops in a
second with one line instead of after minutes of structure generation: the protocol against the
initial OCV, the image (readable, non-empty, every value mapped) and the memory the run needs
against the machine's.

Memory model (calibrated on benchmarks/discharge.py, 2um-8mA-2r: 252 k unknowns, 1.48 GB on 2
ranks): ≈ 4 kB per unknown (mesh, forms, Jacobian, AMG) plus 0.3 GB per rank for the libraries,
unknowns ≈ 3 per hexahedron (φ_e on the SE, φ_s and x on the CAM, split vertices), and the
structure generator's ≈ 40 bytes per voxel on rank 0.
"""
from __future__ import annotations

import os

import numpy as np

from fem_assb.errors import InputError

BYTES_PER_UNKNOWN = 4.0e3
UNKNOWNS_PER_CELL = 3.0
BYTES_PER_RANK = 0.3e9
GENERATOR_BYTES_PER_VOXEL = 40.0
#: a run may plan on this share of the machine's memory
USABLE = 0.8


def machine_memory() -> float:
    """Physical memory of this machine, bytes."""
    return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def memory_estimate(shape, mesh_cfg, ranks: int = 1) -> float:
    """Bytes a discharge of an image of `shape` voxels needs on all ranks together."""
    voxels = float(np.prod(shape))
    cells = voxels * (mesh_cfg.refine / mesh_cfg.coarsen) ** 3
    return (cells * UNKNOWNS_PER_CELL * BYTES_PER_UNKNOWN + ranks * BYTES_PER_RANK
            + voxels * GENERATOR_BYTES_PER_VOXEL)


def image_shape(sc, source: str) -> tuple[int, int, int]:
    """The composite's voxel shape: the image's (read, so that an unreadable, empty or unmapped
    image is refused now) or the generated box's."""
    s = sc.structure
    if s.image is None:
        from fem_assb.microstructure.generate import grid_shape

        return grid_shape(s.size_um, s.voxel_um)
    from fem_assb.microstructure.imageio import read_image

    try:
        labels = read_image(s.image, s.image_labels, s.image_shape, s.image_dtype, f"{source}: [structure] image")
    except InputError as e:
        raise InputError(str(e) if source in str(e) else f"{source}: {e}") from None
    if labels.size == 0 or labels.ndim != 3:
        raise InputError(f"{source}: [structure] image {s.image} is empty or not 3D (shape {labels.shape})")
    return labels.shape


def preflight(sc, source: str, ranks: int = 1, force: bool = False) -> dict:
    """Run every check that needs no mesh; InputError with one line on the first that fails.
    Returns what was estimated (for `check`)."""
    from fem_assb.electrochem.protocol import check_protocol

    check_protocol(sc, source)
    shape = image_shape(sc, source)
    need, have = memory_estimate(shape, sc.mesh, ranks), machine_memory()
    if need > USABLE * have and not force:
        raise InputError(f"{source}: {shape[0]}×{shape[1]}×{shape[2]} voxels need ≈ {need / 2**30:.1f} GiB, more than "
                         f"{USABLE:.0%} of this machine's {have / 2**30:.1f} GiB: coarser voxels, a smaller box or "
                         "mesh.coarsen; --force to try anyway")
    return {"shape": list(shape), "memory_GiB": need / 2**30, "machine_GiB": have / 2**30}
