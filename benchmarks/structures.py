"""Benchmark: structure generation, hex-mesh building (1 and 2 ranks), gmsh meshing.

    ./fem-assb exec python3 benchmarks/structures.py [--quick]

Prints a table and writes benchmarks/out/structures.json. Figures, not pass/fail tests.
Peak memory is each rank's ru_maxrss (includes the ≈ 150 MB Python/DOLFINx baseline).
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from fem_assb.io.atomic import atomic_write_json
from fem_assb.launcher import mpirun_command

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def bench_generation(n: int) -> dict:
    from fem_assb.config.scenario import LayerConfig, StructureConfig
    from fem_assb.microstructure.analysis import volume_fractions
    from fem_assb.microstructure.generate import generate

    cfg = StructureConfig(size_um=[n, n, n], voxel_um=1.0, seed=1,
                          layers=[LayerConfig(cam_fraction=0.65, diameters_um=[8.0])])
    t = time.perf_counter()
    s = generate(cfg)
    return {"voxels": n ** 3, "seconds": time.perf_counter() - t, "cam_fraction": volume_fractions(s.labels)["CAM"]}


def mesh_worker(n: int) -> None:
    """Run under mpirun: build the hex mesh of a cached n³ image and report per rank."""
    from mpi4py import MPI

    from fem_assb.mesh.voxel import build_hex_mesh
    from fem_assb.parallel import peak_memory_mb

    comm = MPI.COMM_WORLD
    labels = np.load(HERE / "out" / f"image{n}.npy", mmap_mode="r")
    base = peak_memory_mb()
    comm.barrier()
    t = time.perf_counter()
    tm = build_hex_mesh(labels, 1.0, 20.0)
    comm.barrier()
    dt = time.perf_counter() - t
    cells = tm.mesh.topology.index_map(3).size_global
    mem = comm.gather(peak_memory_mb(), root=0)
    local = comm.gather(tm.mesh.topology.index_map(3).size_local, root=0)
    if comm.rank == 0:
        print(json.dumps({"n": n, "ranks": comm.size, "cells": cells, "seconds": dt, "baseline_mb": base,
                          "peak_mb_per_rank": mem, "cells_per_rank": local}))


def image(n: int) -> Path:
    """The benchmark image: n³ voxels of 1 µm, 65 % CAM (8/4 µm, 1:2 by number), 15 % void, SE
    (phase values 0 = SE, 1 = CAM, 3 = void); generated once and kept in benchmarks/out/."""
    img = HERE / "out" / f"image{n}.npy"
    if not img.exists():
        from fem_assb.config.scenario import LayerConfig
        from fem_assb.microstructure.generate import generate_layer

        img.parent.mkdir(exist_ok=True)
        np.save(img, generate_layer(LayerConfig(cam_fraction=0.65, void_fraction=0.15,
                                                diameters_um=[8.0, 4.0], number_ratio=[1, 2]),
                                    (n, n, n), 1.0, 2, False, "bench"))
    return img


def bench_mesh(n: int, ranks: int) -> dict:
    image(n)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, __file__, "--mesh-worker", str(n)]
    if ranks > 1:
        cmd = mpirun_command(ranks) + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def bench_gmsh(n_spheres: int) -> dict:
    from fem_assb.mesh.gmsh_spheres import build_gmsh_mesh
    from fem_assb.microstructure.packing import pack_spheres, sample_radii

    rng = np.random.default_rng(0)
    d = 8.0
    side = (n_spheres * np.pi / 6 * d ** 3 / 0.5) ** (1 / 3)  # 50 % CAM
    box = [side, side, side]
    r = sample_radii(0.5, box, [d], [], 0.0, rng)
    p = pack_spheres(r, box, rng, 0.05)
    t = time.perf_counter()
    try:
        tm = build_gmsh_mesh(p.centers, p.radii, box, 0.0, None, 1.0)
    except Exception as e:
        return {"spheres": len(r), "box_um": round(side, 1), "seconds": time.perf_counter() - t, "error": str(e)}
    return {"spheres": len(r), "box_um": round(side, 1), "seconds": time.perf_counter() - t,
            "tets": tm.mesh.topology.index_map(3).size_global, "cam_volume_reduction": tm.info["cam_fraction_reduction"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes only (smoke test)")
    ap.add_argument("--only", choices=("generation", "hex_mesh", "gmsh"), help="run one part only")
    ap.add_argument("--mesh-worker", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.mesh_worker:
        return mesh_worker(a.mesh_worker)
    (HERE / "out").mkdir(exist_ok=True)
    out = HERE / "out" / "structures.json"
    res = json.loads(out.read_text()) if out.exists() else {}
    for part in ("generation", "hex_mesh", "gmsh"):
        if a.only in (None, part):
            res[part] = []
    sizes = [64] if a.quick else [200]
    for n in sizes if a.only in (None, "generation") else []:
        res["generation"].append(bench_generation(n))
        print("generation", res["generation"][-1], flush=True)
    for n in ([32] if a.quick else [128, 256]) if a.only in (None, "hex_mesh") else []:
        for ranks in (1, 2):
            res["hex_mesh"].append(bench_mesh(n, ranks))
            print("hex mesh", res["hex_mesh"][-1], flush=True)
    for k in ([20] if a.quick else [20, 100, 300]) if a.only in (None, "gmsh") else []:
        res["gmsh"].append(bench_gmsh(k))
        print("gmsh", res["gmsh"][-1], flush=True)
    atomic_write_json(out, res)


if __name__ == "__main__":
    main()
