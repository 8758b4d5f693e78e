"""From a `StructureConfig` to a `Structure`: packing layers, fillers, design modifications.

Order of operations (each step's randomness comes from the seed alone, so a seeded run is
bit-identical): every layer is generated as a full-size homogeneous structure (CAM spheres,
binder menisci, voids, SE) and its x-range is cut out and stacked (seed 001's procedure, so
layered designs with different thickness fractions share their particles); then the channel,
reversal, duplication along x, current-collector cropping, delamination and collector
delamination.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from fem_assb.cache import cache_dir, digest
from fem_assb.errors import InputError
from fem_assb.microstructure import analysis, fill, modify
from fem_assb.microstructure.packing import pack_spheres, sample_radii, voxelize_spheres
from fem_assb.microstructure.structure import Structure
from fem_assb.parallel import log
from fem_assb.phases import Phase

GENERATOR_VERSION = 1  # bump when generated images change, to invalidate caches
KEPLER = np.pi / np.sqrt(18)  # densest sphere packing, 74.05 %
FRACTION_TOL = 0.005  # accepted |achieved − target| of voxel fractions
PACKED_FRACTION = 0.58  # se = 'packed': the spheres' share of the box before pressing (reachable for
#                         any size ratio: below monodisperse random close packing, 0.64)


def grid_shape(size_um, h) -> tuple[int, int, int]:
    return tuple(max(1, int(round(s / h))) for s in size_um)


def pack_layer(layer, shape, h: float, rng: np.random.Generator, wall_x: bool, where: str):
    """The CAM sphere packing of a layer (None without CAM); InputError if unreachable."""
    if layer.cam_fraction > KEPLER:
        raise InputError(f"{where} cam_fraction = {layer.cam_fraction:g} exceeds the densest sphere "
                         f"packing ({KEPLER:.4f}): no non-overlapping packing exists")
    if layer.cam_fraction == 0:
        return None
    if min(layer.diameters_um) < 2 * h:
        raise InputError(f"{where} diameters_um: {min(layer.diameters_um):g} µm spans fewer than 2 voxels "
                         f"of {h:g} µm: accepted diameters ≥ {2 * h:g} µm")
    box = np.array(shape, float) * h
    radii = sample_radii(layer.cam_fraction, box, layer.diameters_um, layer.number_ratio,
                         layer.diameter_spread, rng)
    packing = pack_spheres(radii, box, rng, tol=0.2 * h, wall_x=wall_x)
    if packing.max_overlap > 0.2 * h:
        raise InputError(
            f"{where} cam_fraction = {layer.cam_fraction:g} cannot be reached with non-overlapping "
            f"spheres of diameters {layer.diameters_um} µm: the packing jammed at "
            f"{packing.reachable_fraction(0.2 * h, rng):.3f}; lower cam_fraction or use a broader / multimodal "
            f"size distribution")
    return packing


def pack_mixture(layer, shape, h: float, rng: np.random.Generator, wall_x: bool, where: str):
    """CAM and SE spheres packed together (the dry-mixed powders before pressing): together
    they fill PACKED_FRACTION of the box in the ratio of their target fractions (a little less
    where a few large grains jam in a small box). Returns the packing, CAM spheres first, and
    the number of CAM spheres."""
    se_fraction = layer.se_fraction
    if layer.cam_fraction == 0 or se_fraction <= 0:
        raise InputError(f"{where} se = 'packed' needs CAM and SE: cam_fraction = {layer.cam_fraction:g} leaves "
                         f"an SE fraction of {se_fraction:.3f}")
    if min(min(layer.diameters_um), layer.se_particle_um) < 2 * h:
        raise InputError(f"{where} diameters_um / se_particle_um: {min(min(layer.diameters_um), layer.se_particle_um):g} µm "
                         f"spans fewer than 2 voxels of {h:g} µm: accepted diameters ≥ {2 * h:g} µm")
    box = np.array(shape, float) * h
    share = PACKED_FRACTION / (layer.cam_fraction + se_fraction)
    cam_r = sample_radii(layer.cam_fraction * share, box, layer.diameters_um, layer.number_ratio,
                         layer.diameter_spread, rng)
    se_r = sample_radii(se_fraction * share, box, [layer.se_particle_um], [], layer.diameter_spread, rng)
    radii = np.concatenate([cam_r, se_r])
    packing = pack_spheres(radii, box, rng, tol=0.2 * h, wall_x=wall_x)
    scale = 1.0
    while packing.max_overlap > 0.2 * h and scale > 0.8:  # jammed (few large grains, walls): shrink all a little
        scale *= 0.98
        packing = pack_spheres(radii * scale, box, rng, tol=0.2 * h, wall_x=wall_x, start=packing.centers)
    if packing.max_overlap > 0.2 * h:
        raise InputError(f"{where} se = 'packed': the CAM and SE spheres do not pack at {PACKED_FRACTION * 0.8 ** 3:.2f} "
                         f"of the box without overlap (worst {packing.max_overlap:.2f} µm): enlarge the box")
    return packing, len(cam_r)


def _add_menisci(labels, avail, packing, n_binder: int, layer, h: float, rng, where: str) -> None:
    """Binder (`n_binder` voxels) and the layer's CBD as menisci around the CAM particle contacts,
    taken from `avail` (both updated in place)."""
    n = labels.size
    n_cbd = int(round(layer.cbd_fraction * n))
    for phase, count in ((Phase.BINDER, n_binder), (Phase.CBD, n_cbd)):
        if not count:
            continue
        if phase == Phase.CBD and (packing is None or count > avail.sum()):
            raise InputError(f"{where} cbd_fraction = {layer.cbd_fraction:g} needs CAM particles and room beside them "
                             f"(at most {avail.sum() / n:.3f})")
        part = fill.binder_menisci(avail, packing, h, count, rng)
        labels[part] = phase
        avail &= ~part


def generate_layer(layer, shape, h: float, seed: int, wall_x: bool, where: str) -> np.ndarray:
    """A homogeneous random composite of `shape` voxels (labels)."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    if layer.se == "packed":
        return _pressed_layer(layer, shape, h, rng, wall_x, where)
    packing = pack_layer(layer, shape, h, rng, wall_x, where)
    cam = np.zeros(shape, bool)
    if packing is not None:
        cam = voxelize_spheres(packing, shape, h)
        got = cam.mean()
        for _ in range(4):  # calibrate radii so the voxel fraction (not the analytic one) hits the target
            if abs(got - layer.cam_fraction) <= 0.2 * FRACTION_TOL:
                break
            radii = packing.radii * (layer.cam_fraction / got) ** (1.0 / 3.0)
            packing = pack_spheres(radii, packing.box, rng, tol=0.2 * h, wall_x=wall_x, start=packing.centers)
            if packing.max_overlap > 0.2 * h:
                break
            cam = voxelize_spheres(packing, shape, h)
            got = cam.mean()
        if abs(got - layer.cam_fraction) > FRACTION_TOL:
            raise InputError(f"{where} cam_fraction = {layer.cam_fraction:g}: voxelised packing has "
                             f"{got:.4f} (particles too coarse for {h:g} µm voxels?)")
    labels = np.full(shape, Phase.SE, np.uint8)
    labels[cam] = Phase.CAM
    avail = ~cam
    _add_menisci(labels, avail, packing, int(round(layer.binder_ratio * cam.sum())), layer, h, rng, where)
    n_void = int(round(layer.void_fraction * n))
    if n_void > avail.sum():
        raise InputError(f"{where} void_fraction = {layer.void_fraction:g} does not fit beside CAM and binder "
                         f"(at most {avail.sum() / n:.3f})")
    if layer.se == "complement":
        if n_void:
            labels[fill.void_blobs(avail, n_void, layer.void_size_um / h, rng)] = Phase.VOID
    else:
        se = fill.se_grains(avail, int(avail.sum()) - n_void, layer.se_particle_um / h, rng)
        labels[avail & ~se] = Phase.VOID
    return labels


def _pressed_layer(layer, shape, h, rng, wall_x, where) -> np.ndarray:
    """se = 'packed': co-packed CAM and SE spheres, binder and CBD menisci around the CAM
    contacts, then the pores closed by `fill.pressed_split` to the exact target fractions."""
    n = int(np.prod(shape))
    mixture, n_cam_spheres = pack_mixture(layer, shape, h, rng, wall_x, where)
    owner = voxelize_spheres(mixture, shape, h, owner=True)
    cam, se = (owner >= 0) & (owner < n_cam_spheres), owner >= n_cam_spheres
    labels = np.full(shape, Phase.SE, np.uint8)
    labels[cam] = Phase.CAM
    avail = ~cam & ~se
    cam_packing = dataclasses.replace(mixture, centers=mixture.centers[:n_cam_spheres],
                                      radii=mixture.radii[:n_cam_spheres])
    _add_menisci(labels, avail, cam_packing, int(round(layer.binder_ratio * layer.cam_fraction * n)), layer, h,
                 rng, where)
    n_cam = int(round(layer.cam_fraction * n)) - int(cam.sum())
    n_void = int(round(layer.void_fraction * n))
    if n_cam < 0 or n_cam + n_void > avail.sum():
        raise InputError(f"{where} cam_fraction = {layer.cam_fraction:g}: the packed spheres give "
                         f"{cam.mean():.3f} CAM and leave {avail.mean():.3f} of pore; accepted cam_fraction "
                         f"between those bounds")
    reach = int(np.ceil(max(max(layer.diameters_um), layer.se_particle_um) / h)) + 1
    more, void = fill.pressed_split(avail, cam, se, n_cam, n_void, reach, (not wall_x, True, True))
    labels[more] = Phase.CAM
    labels[void] = Phase.VOID
    return labels


def _layer_image(layer, shape, h, seed, wall_x, where) -> np.ndarray:
    """Cached full-size layer image (rank 0 computes; the cache file is shared)."""
    key = digest({"v": GENERATOR_VERSION, "layer": dataclasses.asdict(layer), "shape": shape, "h": h,
                  "seed": seed, "wall_x": wall_x})
    path = cache_dir("layers") / f"{key}.npy"
    if path.exists():
        return np.load(path)
    labels = generate_layer(layer, shape, h, seed, wall_x, where)
    from fem_assb.io.atomic import atomic_write_bytes
    import io

    buf = io.BytesIO()
    np.save(buf, labels)
    atomic_write_bytes(path, buf.getvalue())
    return labels


def generate(cfg, separator_um: float = 0.0, where: str = "[structure]") -> Structure:
    """Build the composite image described by a StructureConfig (serial; call on one rank)."""
    from fem_assb.microstructure.analysis import volume_fractions

    h = cfg.voxel_um
    meta: dict = {"generator_version": GENERATOR_VERSION, "seed": cfg.seed}
    if cfg.image is not None:
        from fem_assb.microstructure.imageio import read_image

        labels = read_image(cfg.image, cfg.image_labels, cfg.image_shape, cfg.image_dtype, where)
        meta["source"] = str(cfg.image)
    else:
        shape = grid_shape(cfg.size_um, h)
        bounds = np.round(np.cumsum([0.0] + [la.thickness_fraction for la in cfg.layers]) * shape[0]).astype(int)
        parts, meta["layers"] = [], []
        for k, layer in enumerate(cfg.layers):
            wall = cfg.cc_wall and k == len(cfg.layers) - 1
            full = _layer_image(layer, shape, h, layer_seed(cfg, k), wall, f"{where[:-1]}.layers.{k + 1}]")
            part = full[bounds[k]:bounds[k + 1]]
            parts.append(part)
            meta["layers"].append({"x_voxels": [int(bounds[k]), int(bounds[k + 1])],
                                   "cam_fraction_target": layer.cam_fraction,
                                   "fractions_full_layer": volume_fractions(full)})
        labels = np.concatenate(parts, axis=0)
    if cfg.channel is not None and cfg.channel.radius_um > 0:
        labels = modify.add_channel(labels, h, cfg.channel.radius_um, cfg.channel.position)
    if cfg.reverse:
        labels = labels[::-1].copy()
    if cfg.duplicate_x > 1:
        labels = np.concatenate([labels] * cfg.duplicate_x, axis=0)
    crop = int(round(cfg.cc_crop_um / h))
    if cfg.cc_contact_target is not None:
        crop, _ = modify.crop_to_contact(labels, cfg.cc_contact_target, labels.shape[0] // 4)
    if crop:
        if crop >= labels.shape[0]:
            raise InputError(f"{where} cc_crop_um = {cfg.cc_crop_um:g} removes the whole composite")
        labels = labels[: labels.shape[0] - crop].copy()
    meta["cc_crop_voxels"] = crop
    meta["cc_contact_ratio"] = analysis.cc_contact_ratio(labels)
    if cfg.delamination_fraction > 0:
        rng = np.random.default_rng(cfg.seed + 104729)
        labels, got = modify.delaminate(labels, h, cfg.delamination_fraction, cfg.delamination_patch_um, rng)
        meta["passivated_fraction"] = got
    lost = None
    if cfg.cc_delamination_fraction > 0:
        rng = np.random.default_rng(cfg.seed + 15485863)
        lost, got = modify.delaminate_collector(labels, h, cfg.cc_delamination_fraction,
                                                cfg.cc_delamination_patch_um, rng)
        meta["cc_contact_ratio_intact"] = meta["cc_contact_ratio"]
        meta["cc_contact_ratio"] = analysis.cc_contact_ratio(labels, lost)
        meta["cc_delaminated_fraction"] = got
    meta["volume_fractions"] = volume_fractions(labels)
    sep = cfg.separator_um if cfg.separator_um is not None else separator_um
    return Structure(labels=labels, voxel_um=h, separator_um=float(sep), meta=meta, cc_delaminated=lost)


def layer_seed(cfg, k: int) -> int:
    return cfg.seed + 7919 * k


def build_structure(cfg, separator_um: float = 0.0, where: str = "[structure]", comm=None) -> Structure:
    """Generate on rank 0 (cached by content hash) and share through the cache file."""
    from fem_assb.parallel import comm as world

    comm = comm or world
    key = digest({"v": GENERATOR_VERSION, "cfg": dataclasses.asdict(cfg), "sep": separator_um})
    path = cache_dir("structures") / f"{key}.npy"
    err = None
    if comm.rank == 0 and not path.exists():
        try:
            log(f"reading image {cfg.image} ..." if cfg.image else
                f"generating structure {cfg.size_um} µm at {cfg.voxel_um:g} µm voxels ...")
            generate(cfg, separator_um, where).save(path)
        except InputError as e:
            err = str(e)
    err = comm.bcast(err, root=0)
    if err:
        raise InputError(err)
    return Structure.load(path)
