"""`fem-assb mesh`: a tagged mesh (XDMF) from an image or a scenario."""


def register(sub):
    p = sub.add_parser("mesh", help="build a tagged mesh (XDMF) from an image or a scenario TOML",
                       description="Build a DOLFINx mesh with cell tags (phases) and facet tags (1 CAM|SE "
                                   "interface, 2 passivated interface, 3 CAM at the current collector, 4 SE at "
                                   "the anode, 5 other outer faces) and write OUT.xdmf/.h5 plus OUT.json with "
                                   "sizes (µm) and counts. From a TOML file the [structure] and [mesh] tables "
                                   "decide (voxel hexahedra or gmsh tetrahedra). Runs in parallel under mpirun.")
    p.add_argument("input", help="voxel image (.npy/.tif/.raw) or scenario TOML")
    p.add_argument("-o", "--output", required=True, help="output .xdmf file")
    p.add_argument("--labels", help="image value → phase map, e.g. 0=SE,1=CAM,2=void")
    p.add_argument("--voxel-size", type=float, help="µm per voxel (images)")
    p.add_argument("--shape", help="nx,ny,nz of a .raw image")
    p.add_argument("--dtype", default="uint8", help="dtype of a .raw image")
    p.add_argument("--separator-um", type=float, default=0.0, help="separator slab thickness in µm (images)")
    p.add_argument("--coarsen", type=int, default=1, help="voxels per hex edge (images)")
    p.set_defaults(func=run)


def run(args):
    import time
    from pathlib import Path

    from fem_assb.config.scenario import MeshConfig, load_scenario
    from fem_assb.errors import InputError
    from fem_assb.mesh.build import scenario_mesh, voxel_mesh
    from fem_assb.microstructure.structure import Structure
    from fem_assb.parallel import log
    from fem_assb.phases import Facet

    t0 = time.perf_counter()
    if not args.output.endswith(".xdmf"):
        raise InputError(f"-o {args.output}: the mesh is written as XDMF: give a .xdmf file name")
    if Path(args.input).suffix.lower() == ".toml":
        from fem_assb.materials.library import resolve

        sc = load_scenario(args.input)
        mats = resolve(sc.materials)
        _, tm = scenario_mesh(sc, sc.separator_um(mats), not mats.liquid)
    else:
        from fem_assb.cli.structure import load_image

        if args.separator_um < 0 or args.coarsen < 1:
            raise InputError("--separator-um must be ≥ 0 and --coarsen ≥ 1")
        labels, h = load_image(args, args.input)
        tm = voxel_mesh(Structure(labels, h, args.separator_um), MeshConfig(coarsen=args.coarsen))
    tm.write(args.output)
    c = tm.counts_cache
    area = tm.facet_area(Facet.INTERFACE) * 1e12
    log(f"wrote {args.output}: {c['cells']} cells, " + ", ".join(f"{k[6:]} {v}" for k, v in c.items()
                                                                  if k.startswith("cells_")))
    log("  facets: " + ", ".join(f"{k[7:]} {v}" for k, v in c.items() if k.startswith("facets_"))
        + f"; CAM|SE interface area {area:.1f} µm² (mesh-integrated); {time.perf_counter() - t0:.1f} s")
    return 0
