"""Design modifications of a composite image: channels, current-collector cropping,
delamination (passivated CAM|SE interface) and collector delamination (CAM|collector contact
lost), removal of collector fragments, and the clusters that can carry no current."""
from __future__ import annotations

import numpy as np

from fem_assb.errors import InputError
from fem_assb.phases import Phase

SE_LIKE = (Phase.SE, Phase.SE_PASSIVE, Phase.SEPARATOR)


def add_channel(labels: np.ndarray, h: float, radius_um: float, position: str) -> np.ndarray:
    """SE cylinder along x: voxels whose (y, z) centre lies within `radius_um` of the axis."""
    ny, nz = labels.shape[1:]
    y = (np.arange(ny) + 0.5) * h
    z = (np.arange(nz) + 0.5) * h
    if position == "center":
        y, z = y - ny * h / 2, z - nz * h / 2
    disk = y[:, None] ** 2 + z[None, :] ** 2 < radius_um ** 2
    out = labels.copy()
    out[:, disk] = Phase.SE
    return out


def contact_tolerance(target: float) -> float:
    """How far the A_C/A_CC reached by cropping may lie from its target (one voxel layer changes
    it in steps, so an exact hit is rare)."""
    return 0.25 * target + 0.01


def crop_to_contact(labels: np.ndarray, target: float, max_crop: int) -> tuple[int, float]:
    """Number of voxel layers to crop at x = L so that A_C/A_CC is closest to `target`, and the
    ratio reached; InputError when no crop depth comes within contact_tolerance(target)."""
    ratios = np.mean(labels[::-1][: max_crop + 1] == Phase.CAM, axis=(1, 2))
    k = int(np.argmin(np.abs(ratios - target)))
    if abs(ratios[k] - target) > contact_tolerance(target):
        raise InputError(f"[structure] cc_contact_target = {target:g} cannot be reached by cropping 0–{max_crop} voxel "
                         f"layers: A_C/A_CC ranges over {ratios.min():.3f}–{ratios.max():.3f} (closest "
                         f"{ratios[k]:.3f}); the layer at the collector sets the lowest value — finer voxels lower it")
    return k, float(ratios[k])


def drop_collector_fragments(labels: np.ndarray, min_share: float) -> tuple[np.ndarray, dict]:
    """Turn into SE the electron-conducting clusters at the collector that the uniform collector
    current (SPEC §3) would over-lithiate within seconds.

    Under that boundary condition a face-connected CAM/carbon cluster k touching x = L with CAM
    volume V_k and collector contact a_k is filled f_k = (V_k/a_k) / (ΣV/Σa) times as fast as all
    collector-touching CAM together. Sphere caps cut by the collector plane (a few voxels, f ≈ 0.01
    at 1 µm voxels) must then take their contact's share of the current after they are full, and
    x_Li runs away above 1. Clusters with f_k < `min_share` become SE; 0 keeps all. Returns the
    labels and {"clusters", "voxels", "cam_fraction"} of what was turned into SE.
    """
    from scipy import ndimage

    from fem_assb.phases import ELECTRON_CONDUCTORS

    none = {"clusters": 0, "voxels": 0, "cam_fraction": 0.0}
    if min_share <= 0:
        return labels, none
    cam = labels == Phase.CAM
    clusters, _ = ndimage.label(np.isin(labels, ELECTRON_CONDUCTORS))
    at_cc = clusters[-1][cam[-1]]
    ids, contact = np.unique(at_cc, return_counts=True)
    volume = np.asarray(ndimage.sum(cam, clusters, ids))
    share = (volume / contact) / (volume.sum() / contact.sum()) if len(ids) else np.zeros(0)
    bad = ids[share < min_share]
    if not len(bad):
        return labels, none
    drop = np.isin(clusters, bad)
    out = labels.copy()
    out[drop] = Phase.SE
    return out, {"clusters": int(len(bad)), "voxels": int(drop.sum()),
                 "cam_fraction": float((drop & cam).sum() / max(cam.sum(), 1))}


def interface_faces_per_voxel(labels: np.ndarray) -> np.ndarray:
    """For every voxel, the number of its 6 faces shared with a CAM voxel."""
    cam = labels == Phase.CAM
    count = np.zeros(labels.shape, np.int8)
    for ax in range(3):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[ax], hi[ax] = slice(0, -1), slice(1, None)
        count[tuple(lo)] += cam[tuple(hi)]
        count[tuple(hi)] += cam[tuple(lo)]
    return count


def grow_patches(pts: np.ndarray, w: np.ndarray, fraction: float, patch_um: float,
                 rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Select candidate sites (positions `pts` in µm, weights `w`) in random patches until their
    weight reaches `fraction` of the total: patches of diameter `patch_um` are centred on random
    unselected sites, and the last patch is filled nearest-first to hit the target to one site.
    The sites are taken in an order fixed by `rng` alone, so with the same rng a smaller fraction
    selects a subset of a larger one. Returns the selection mask and the fraction reached."""
    from scipy.spatial import cKDTree

    total = int(w.sum())
    target = int(round(fraction * total))
    chosen = np.zeros(len(w), bool)
    if target == 0 or total == 0:
        return chosen, 0.0
    tree = cKDTree(pts)
    done = 0
    for centre in rng.permutation(len(w)):
        if chosen[centre]:
            continue
        near = np.array(tree.query_ball_point(pts[centre], patch_um / 2.0), dtype=np.int64)
        near = near[~chosen[near]]
        near = near[np.argsort(np.linalg.norm(pts[near] - pts[centre], axis=1), kind="stable")]
        n_take = int(np.searchsorted(done + np.cumsum(w[near]), target, side="left")) + 1
        take = near[:n_take]
        chosen[take] = True
        done += int(w[take].sum())
        if done >= target:
            break
    return chosen, done / total


def delaminate(labels: np.ndarray, h: float, fraction: float, patch_um: float,
               rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Passivate `fraction` of the CAM|SE interface in random surface patches (grow_patches).

    SE voxels touching CAM inside a patch become SE_PASSIVE: they conduct like SE (the SE
    network is unchanged) but their faces with CAM transfer no Li; a voxel weighs its number of
    CAM faces. Returns the new labels and the passivated fraction reached.
    """
    faces = interface_faces_per_voxel(labels) * (labels == Phase.SE)
    cand = np.flatnonzero(faces)
    pts = (np.stack(np.unravel_index(cand, labels.shape), 1) + 0.5) * h
    passive, got = grow_patches(pts, faces.ravel()[cand].astype(np.int64), fraction, patch_um, rng)
    out = labels.copy()
    out.ravel()[cand[passive]] = Phase.SE_PASSIVE
    return out, got


def delaminate_collector(labels: np.ndarray, h: float, fraction: float, patch_um: float,
                         rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Detach `fraction` of the CAM|current-collector contact area in random patches
    (grow_patches) on the collector face x = L.

    Returns the (ny, nz) mask of collector pixels whose CAM lost contact (they become insulated
    outer faces of the mesh: Facet.CC_DELAMINATED) and the fraction reached. The electrode itself
    is unchanged — no CAM is removed, unlike cropping — so only the contact differs.
    """
    cand = np.flatnonzero(labels[-1] == Phase.CAM)
    pts = (np.stack(np.unravel_index(cand, labels.shape[1:]), 1) + 0.5) * h
    lost, got = grow_patches(pts, np.ones(cand.size, np.int64), fraction, patch_um, rng)
    mask = np.zeros(labels.shape[1:], bool)
    mask.ravel()[cand[lost]] = True
    return mask, got


def coarsen_collector_mask(mask: np.ndarray, contact: np.ndarray, k: int) -> np.ndarray:
    """The collector mask for k×k pixel blocks (remainders cut at the far ends, as coarsen.fit):
    a block lost its contact when at least as many of its pixels lost it as kept CAM contact
    (`contact`: the image's CAM pixels on the collector)."""
    ny, nz = (s - s % k for s in mask.shape)
    blk = lambda a: a[:ny, :nz].reshape(ny // k, k, nz // k, k).sum(axis=(1, 3))  # noqa: E731
    lost, kept = blk(mask), blk(contact & ~mask)
    return (lost > 0) & (lost >= kept)


def inert_clusters(labels: np.ndarray, connectivity: str = "face",
                   cc_delaminated: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """Voxels that can carry no current in a cell, and what they are.

    Ion conductors not connected to x = 0 (the separator and the anode lie beyond it) exchange
    no net ionic current, and electron conductors not connected to an intact collector contact
    at x = L can take no net Li (no electron reaches them); `connectivity` is the mesh's (faces
    only, or also edges and corners, mesh/voxel.py). Such clusters only shuttle Li between
    the surfaces around them, and an SE pocket whose potential is set by its Butler–Volmer
    balance alone can pump a thin surface layer empty; the electrochemical mesh leaves them
    out. Returns the mask and {"se_clusters", "se_voxels", "cam_clusters", "cam_voxels"}.
    """
    from scipy import ndimage

    from fem_assb.microstructure.analysis import connected_to_faces
    from fem_assb.phases import ELECTRON_CONDUCTORS, ION_CONDUCTORS

    structure = ndimage.generate_binary_structure(3, 1 if connectivity == "face" else 3)
    ion = np.isin(labels, ION_CONDUCTORS)
    ele = np.isin(labels, ELECTRON_CONDUCTORS)
    se_dead = ion & ~connected_to_faces(ion, None, structure)[0]
    cam_dead = ele & ~connected_to_faces(ele, cc_delaminated, structure)[1]
    count = lambda m: int(ndimage.label(m, structure)[1]) if m.any() else 0  # noqa: E731
    return se_dead | cam_dead, {"se_clusters": count(se_dead), "se_voxels": int(se_dead.sum()),
                                "cam_clusters": count(cam_dead), "cam_voxels": int((cam_dead & (labels == Phase.CAM)).sum())}
