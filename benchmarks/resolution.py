"""Study: discharge capacity against hexahedron size for one fixed structure.

    ./fem-assb exec python3 benchmarks/resolution.py [--currents 8,1] [--h 2,1,0.5] [--layers 24,0] [--ranks 2]

One 32×24×24 µm composite (65 % CAM, 8 µm spheres, 2 µm voxels) next to a 20 µm separator is
discharged at each current on hexahedra of 2, 1 and 0.5 µm: the finer meshes split every 2 µm
voxel into 2³ or 4³ cells, so the electrode is the same and only the discretization changes.
With the seed-001 NMC811 diffusivity (8.71e-13 cm²/s) the solid-diffusion length over a
discharge, √(D t), is below these cell sizes: with model.surface_layer = 0 (diffusion on the
mesh only) the capacity is the Li a surface cell layer stores and falls with h; with the
sub-grid surface layers it should not change with h. Writes benchmarks/out/resolution.json and
a table. Figures, not pass/fail tests.
"""
import argparse
import json
from pathlib import Path

import numpy as np
from runs import DISCHARGE, run_scenario
from fem_assb.io.atomic import atomic_write_json

HERE = Path(__file__).resolve().parent

SCENARIO = """
name = "resolution-{tag}"
[materials]
set = "nmc811_li6ps5cl_li"
[structure]
image = "{image}"
image_labels = {{0 = "SE", 1 = "CAM"}}
voxel_um = {h}
separator_um = 20.0
"""


def images(out: Path, hs: list[float]) -> dict[float, Path]:
    """The 2 µm label image and its exact refinements to each h."""
    from fem_assb.config.scenario import LayerConfig, StructureConfig
    from fem_assb.microstructure.generate import generate

    cfg = StructureConfig(size_um=[32, 24, 24], voxel_um=2.0, seed=7,
                          layers=[LayerConfig(cam_fraction=0.65, diameters_um=[8.0], diameter_spread=0.15)])
    lab = generate(cfg).labels
    paths = {}
    for h in hs:
        k = round(2.0 / h)
        if abs(k * h - 2.0) > 1e-9:
            raise SystemExit(f"--h {h:g}: must divide 2 µm")
        paths[h] = out / f"image_{h:g}um.npy"
        np.save(paths[h], lab.repeat(k, 0).repeat(k, 1).repeat(k, 2))
    return paths


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--currents", default="8,1", help="currents in mA/cm², comma-separated")
    ap.add_argument("--h", default="2,1,0.5", help="hexahedron edges in µm (divisors of 2), comma-separated")
    ap.add_argument("--layers", default="24,0", help="model.surface_layer values (0 = none), comma-separated")
    ap.add_argument("--ranks", type=int, default=2, help="MPI ranks per run")
    a = ap.parse_args()
    out = HERE / "out" / "resolution"
    out.mkdir(parents=True, exist_ok=True)
    hs = [float(v) for v in a.h.split(",")]
    paths = images(out, hs)
    path = HERE / "out" / "resolution.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    for layer in (int(v) for v in a.layers.split(",")):
        for cur in (float(v) for v in a.currents.split(",")):
            for h in hs:
                tag = f"{cur:g}mA-{h:g}um-L{layer}"
                toml = out / f"{tag}.toml"
                toml.write_text(SCENARIO.format(tag=tag, image=paths[h], h=h)
                                + DISCHARGE.format(linear="auto", layer=layer, current=cur))
                s, _, error = run_scenario(toml, out / tag, a.ranks)
                if error:
                    results[tag] = {"error": error}
                else:
                    results[tag] = {"current_mA_cm2": cur, "h_um": h, "surface_layer": layer, "dofs": s["dofs"],
                                    "steps": s["steps"], "capacity_mAh_cm2": s["capacity_mAh_cm2"],
                                    "mean_utilization": s["mean_utilization"], "wall_s": s["wall_time_s"]}
                print(tag, json.dumps(results[tag]), flush=True)
                atomic_write_json(path, results)


if __name__ == "__main__":
    main()
