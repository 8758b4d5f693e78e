"""`fem-assb structure generate|analyze|show`."""


def register(sub):
    p = sub.add_parser("structure", help="generate, analyze and show voxel microstructures",
                       description="Voxel microstructures: generate from a TOML [structure] table, analyze an "
                                   "image (fractions, interface area, percolation, D_SCA), draw cross-sections "
                                   "and a 3D view.")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    g = s.add_parser("generate", help="generate the [structure] of a TOML file into an image",
                     description="Generate the microstructure described by the [structure] table of CONFIG "
                                 "(a scenario or structure file; `fem-assb check --keys` lists the keys). "
                                 "Writes IMAGE with phase labels (0 SE, 1 CAM, 2 binder, 3 void, 5 separator, "
                                 "8 passivated SE) and IMAGE.json with voxel size and generation report. "
                                 "The same seed gives a bit-identical image.")
    g.add_argument("config", help="TOML file with a [structure] table")
    g.add_argument("-o", "--output", required=True, help="image file: .npy, .tif or .raw")
    g.add_argument("--with-separator", action="store_true", help="include the separator slab at x = 0 as voxels")
    g.set_defaults(func=generate)

    a = s.add_parser("analyze", help="volume fractions, interface area, percolation, D_SCA of an image",
                     description="Structure analysis of a voxel image. Percolating fraction: share of a phase "
                                 "connected (6-connectivity) to both x faces; utilization level: SE connected "
                                 "to x = 0, CAM to x = L. Interface area: CAM|SE voxel faces × h² × 2/3 "
                                 "(the isotropic staircase correction; raw value also given).")
    _image_args(a)
    a.add_argument("--materials", help="material set for the theoretical capacity (fem-assb materials)")
    a.add_argument("--json", metavar="OUT", help="write the results as JSON to OUT")
    a.set_defaults(func=analyze)

    w = s.add_parser("show", help="PNG with cross-sections and a 3D view",
                     description="Draw the mid-plane cross-sections (matplotlib) and, unless --no-3d, a 3D view "
                                 "of the CAM phase rendered off-screen with pyvista (IMAGE-3d.png).")
    _image_args(w)
    w.add_argument("-o", "--output", required=True, help="PNG file for the cross-sections")
    w.add_argument("--no-3d", action="store_true", help="skip the 3D view")
    w.set_defaults(func=show)


def _image_args(p):
    p.add_argument("image", help="voxel image (.npy, .tif, .raw)")
    p.add_argument("--labels", help="map of file values to phases, e.g. 0=SE,1=CAM,2=void "
                                    "(not needed for images written by fem-assb)")
    p.add_argument("--voxel-size", type=float, help="voxel edge length in µm (default: from IMAGE.json)")
    p.add_argument("--shape", help="nx,ny,nz of a .raw image")
    p.add_argument("--dtype", default="uint8", help="dtype of a .raw image (default uint8)")


def load_image(args, path=None, lazy: bool = False):
    """(labels, voxel size in µm) of the image named by the command's arguments (`lazy`: read
    when sliced, imageio.read_image)."""
    from fem_assb.microstructure.imageio import read_labelled_image

    return read_labelled_image(path or args.image, args.labels, args.shape, args.dtype, args.voxel_size, lazy)


def generate(args):
    from pathlib import Path

    import numpy as np

    from fem_assb.config.scenario import load_scenario
    from fem_assb.materials.library import resolve
    from fem_assb.microstructure.analysis import analyze as analyze_labels
    from fem_assb.microstructure.generate import build_structure
    from fem_assb.microstructure.imageio import write_image
    from fem_assb.parallel import comm, log

    sc = load_scenario(args.config)
    mats = resolve(sc.materials)
    sep = sc.structure.separator_um if sc.structure.separator_um is not None else 0.0
    st = build_structure(sc.structure, sep)
    if comm.rank == 0:
        out = Path(args.output)
        labels = st.with_separator() if args.with_separator else st.labels
        if out.suffix.lower() == ".npy" and not args.with_separator:
            st.save(out)
        else:
            write_image(out, labels)
            from fem_assb.io.atomic import atomic_write_json
            from fem_assb.microstructure.structure import sidecar

            atomic_write_json(sidecar(out), {"voxel_um": st.voxel_um, "separator_um": 0.0 if args.with_separator
                                             else st.separator_um, "shape": list(labels.shape), "meta": st.meta,
                                             "cc_delaminated_pixels": None if st.cc_delaminated is None
                                             else np.flatnonzero(st.cc_delaminated).tolist()})
        a = analyze_labels(st.labels, st.voxel_um, mats.cam, st.cc_delaminated)
        vf = ", ".join(f"{k} {v:.4f}" for k, v in a["volume_fractions"].items())
        log(f"wrote {out} {list(labels.shape)} voxels of {st.voxel_um:g} µm: {vf}; "
            f"A_C/A_CC {a['cc_contact_ratio']:.3f}; theoretical capacity "
            f"{a['theoretical_capacity_mAh_cm2']:.3f} mAh/cm² ({mats.cam.name})")
    return 0


def analyze(args):
    from fem_assb.io.atomic import atomic_write_json
    from fem_assb.materials.library import material_set
    from fem_assb.microstructure.analysis import analyze as analyze_labels
    from fem_assb.microstructure.structure import sidecar_collector_mask
    from fem_assb.parallel import comm, log

    labels, h = load_image(args)
    cam = material_set(args.materials, "--materials").cam if args.materials else None
    if comm.rank != 0:
        return 0
    a = analyze_labels(labels, h, cam, sidecar_collector_mask(args.image, labels.shape))
    if args.json:
        atomic_write_json(args.json, a)
    log(f"{args.image}: {a['shape']} voxels of {h:g} µm")
    log("  volume fractions:   " + ", ".join(f"{k} {v:.4f}" for k, v in a["volume_fractions"].items()))
    log(f"  CAM|SE interface:   {a['interface_area_per_volume']:.4f} 1/µm per volume, "
        f"{a['interface_area_per_area']:.2f} µm²/µm² per cathode area (raw voxel faces "
        f"{a['interface_area_per_volume_raw']:.4f} 1/µm)")
    log("  percolating (x=0↔L): " + ", ".join(f"{k} {v:.4f}" for k, v in a["percolating_fraction"].items()))
    log(f"  D_SCA:              {a['d_sca']:.3f} µm;  A_C/A_CC {a['cc_contact_ratio']:.3f}")
    if cam is not None:
        log(f"  theoretical capacity {a['theoretical_capacity_mAh_cm2']:.3f} mAh/cm² ({args.materials})")
    return 0


def show(args):
    from pathlib import Path

    import numpy as np

    from fem_assb.io.render import render_in_subprocess
    from fem_assb.io.structure_plots import cross_sections
    from fem_assb.parallel import comm, log

    labels, h = load_image(args)
    if comm.rank != 0:
        return 0
    out = Path(args.output)
    cross_sections(labels, h, str(out), title=Path(args.image).name)
    log(f"wrote {out}")
    if not args.no_3d:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            img = Path(tmp) / "labels.npy"
            np.save(img, labels)
            out3d = out.with_name(out.stem + "-3d.png")
            render_in_subprocess("fem_assb.io.structure_plots:view_3d",
                                 {"image_path": str(img), "h": h, "path": str(out3d)})
        log(f"wrote {out3d}")
    return 0
