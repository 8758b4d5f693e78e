"""Microstructure generation: fractions hit, reproducibility, fillers, design modifications."""
import dataclasses

import numpy as np
import pytest
from scipy import ndimage

from fem_assb.config.scenario import ChannelConfig, LayerConfig, StructureConfig
from fem_assb.errors import InputError
from fem_assb.materials import material_set
from fem_assb.microstructure.analysis import percolation, theoretical_capacity, volume_fractions
from fem_assb.microstructure.coarsen import coarsen
from fem_assb.microstructure.generate import generate, generate_layer, pack_layer
from fem_assb.phases import Phase

BIMODAL = dict(diameters_um=[10.0, 3.5], number_ratio=[1.0, 8.2])  # ≈ 75:25 by volume


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FEM_ASSB_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize("cam, dist", [(0.40, {}), (0.55, {}), (0.70, BIMODAL)])
def test_fractions_within_one_point_on_100_cubed(cam, dist):
    cfg = StructureConfig(size_um=[100, 100, 100], voxel_um=1.0, seed=11,
                          layers=[LayerConfig(cam_fraction=cam, void_fraction=0.15, **dist)])
    vf = volume_fractions(generate(cfg).labels)
    assert abs(vf["CAM"] - cam) < 0.01 and abs(vf["void"] - 0.15) < 0.01
    assert abs(vf["SE"] - (0.85 - cam)) < 0.01


def test_seeded_generation_is_bit_identical_and_seed_matters():
    cfg = StructureConfig(size_um=[40, 30, 30], voxel_um=1.0, seed=5, delamination_fraction=0.3,
                          layers=[LayerConfig(cam_fraction=0.5, void_fraction=0.1, binder_ratio=0.1,
                                              diameters_um=[6.0])])
    a, b = generate(cfg).labels, generate(cfg).labels
    assert np.array_equal(a, b)
    assert not np.array_equal(a, generate(dataclasses.replace(cfg, seed=6)).labels)


def test_unreachable_fraction_reports_what_was_reached():
    layer = LayerConfig(cam_fraction=0.70, diameters_um=[8.0])  # monodisperse jams near 64 %
    with pytest.raises(InputError, match=r"cannot be reached.*jammed at 0\.6"):
        pack_layer(layer, (40, 40, 40), 1.0, np.random.default_rng(0), False, "[structure.layers.1]")
    with pytest.raises(InputError, match="exceeds the densest sphere packing"):
        pack_layer(dataclasses.replace(layer, cam_fraction=0.8), (40, 40, 40), 1.0,
                   np.random.default_rng(0), False, "[structure.layers.1]")


def test_voids_are_blobs_not_noise():
    labels = generate_layer(LayerConfig(cam_fraction=0.5, void_fraction=0.15, void_size_um=4.0,
                                        diameters_um=[8.0]), (60, 60, 60), 1.0, 3, False, "w")
    void = labels == Phase.VOID
    _, n = ndimage.label(void)
    assert void.sum() / n > 20  # mean blob volume in voxels; salt-and-pepper noise gives ≈ 1


def test_binder_ratio_and_meniscus_placement():
    layer = LayerConfig(cam_fraction=0.55, binder_ratio=0.1, diameters_um=[8.0])
    labels = generate_layer(layer, (50, 50, 50), 1.0, 4, False, "w")
    n_cam, n_b = np.sum(labels == Phase.CAM), np.sum(labels == Phase.BINDER)
    assert n_b == round(0.1 * n_cam)
    # menisci sit where two particles nearly touch: binder voxels are next to CAM
    near_cam = ndimage.binary_dilation(labels == Phase.CAM)
    assert np.mean(near_cam[labels == Phase.BINDER]) > 0.9
    # and much closer to two particle surfaces than the average pore voxel (a meniscus at contacts)
    from scipy.spatial import cKDTree

    packing = pack_layer(layer, (50, 50, 50), 1.0, np.random.default_rng(4), False, "w")
    tree = cKDTree(packing.centers, boxsize=packing.box)

    def two_surfaces(mask):
        pts = np.argwhere(mask) + 0.5
        d, i = tree.query(pts, k=8)
        s = np.sort(d - packing.radii[i], axis=1)
        return s[:, 0] + s[:, 1]

    binder = two_surfaces(labels == Phase.BINDER)
    pore = two_surfaces(labels == Phase.SE)
    assert binder.max() <= np.percentile(pore, 5) and binder.mean() < 0.4 * pore.mean()


def test_se_grains_mode_fills_exactly():
    labels = generate_layer(LayerConfig(cam_fraction=0.5, void_fraction=0.1, se="particles",
                                        diameters_um=[8.0]), (50, 50, 50), 1.0, 2, False, "w")
    vf = volume_fractions(labels)
    assert abs(vf["void"] - 0.1) < 1e-4 and abs(vf["CAM"] - 0.5) < 0.005


def test_pressed_split_fills_narrow_gaps_with_cam():
    """Two CAM slabs 2 voxels apart and an SE block far away: the pore voxels nearer to CAM than to
    SE go to CAM first, so the narrow gap closes (the particles fuse), the wide pore stays SE."""
    from fem_assb.microstructure.fill import pressed_split

    cam = np.zeros((24, 6, 6), bool)
    cam[:5], cam[7:12] = True, True
    se = np.zeros_like(cam)
    se[21:] = True
    avail = ~cam & ~se
    more, void = pressed_split(avail, cam, se, 2 * 36, 36, 8, (False, True, True))
    assert more[5:7].all() and more.sum() == 72  # the gap, exactly
    assert void[16].all() and void.sum() == 36  # the layer midway between CAM and SE: farthest from both


def test_packed_se_fills_exactly_and_aggregates_cam_around_large_se_grains():
    """se = 'packed' (seed 004): exact fractions, and the larger the SE grains, the more the CAM
    particles fuse: D_SCA = 6 V / S grows from ≈ the particle size (5 µm) with 1 µm SE grains."""
    from fem_assb.microstructure.analysis import d_sca

    def build(se_um):
        layer = LayerConfig(cam_fraction=0.69, diameters_um=[5.0], diameter_spread=0.2, se="packed",
                            se_particle_um=se_um)
        return generate_layer(layer, (40, 30, 30), 0.5, 4, False, "w")

    small, large = build(1.0), build(6.0)
    for labels in (small, large):
        vf = volume_fractions(labels)
        assert abs(vf["CAM"] - 0.69) < 1e-4 and abs(vf["SE"] - 0.31) < 1e-4
    assert d_sca(small, 0.5) < 8.0 and d_sca(large, 0.5) > 2.0 * d_sca(small, 0.5)


@pytest.mark.parametrize("kw, text", [({"se_particle_um": 0.5}, "spans fewer than 2 voxels"),
                                      ({"cam_fraction": 0.9, "void_fraction": 0.1}, "needs CAM and SE")])
def test_packed_se_bad_input(kw, text):
    layer = LayerConfig(**{"cam_fraction": 0.6, "diameters_um": [5.0], "se": "packed", "se_particle_um": 2.0, **kw})
    with pytest.raises(InputError, match=text):
        generate_layer(layer, (20, 20, 20), 0.5, 1, False, "w")


def test_perforated_capacity_ratio_seed001_fig3():
    base = StructureConfig(size_um=[106, 60, 60], voxel_um=2.0, seed=1,
                           layers=[LayerConfig(cam_fraction=0.65, diameters_um=[8.0], diameter_spread=0.2)])
    cam = material_set("nmc811_li6ps5cl_li").cam
    c0 = theoretical_capacity(generate(base).labels, 2.0, cam)
    perforated = generate(dataclasses.replace(base, channel=ChannelConfig(radius_um=36.0, position="corner")))
    ratio = theoretical_capacity(perforated.labels, 2.0, cam) / c0
    assert ratio == pytest.approx(0.72, abs=0.01)
    assert c0 == pytest.approx(6.97, rel=0.02)  # ≈ 7 mAh/cm² (seed 001 §2.2)
    assert np.all(perforated.labels[:, 0, 0] == Phase.SE)  # the channel axis is SE all along x


def test_layers_stack_share_particles_and_reverse():
    l60 = LayerConfig(cam_fraction=0.60, diameters_um=[8.0], diameter_spread=0.2)
    l70 = LayerConfig(cam_fraction=0.70, **BIMODAL)
    mk = lambda f, rev=False: generate(StructureConfig(  # noqa: E731
        size_um=[50, 30, 30], voxel_um=1.0, seed=3, reverse=rev,
        layers=[dataclasses.replace(l60, thickness_fraction=f), dataclasses.replace(l70, thickness_fraction=1 - f)]))
    a, b = mk(0.4), mk(0.6)
    assert np.array_equal(a.labels[:20], b.labels[:20])  # same L60 particles near the separator
    assert np.array_equal(a.labels[30:], b.labels[30:])  # same L70 particles near the collector
    prof = np.mean(a.labels == Phase.CAM, axis=(1, 2))
    assert prof[:20].mean() == pytest.approx(0.60, abs=0.03) and prof[20:].mean() == pytest.approx(0.70, abs=0.03)
    assert np.array_equal(mk(0.4, rev=True).labels, a.labels[::-1])


def test_cc_contact_cropping_with_wall():
    cfg = StructureConfig(size_um=[40, 40, 40], voxel_um=1.0, seed=2, cc_wall=True,
                          layers=[LayerConfig(cam_fraction=0.46, diameters_um=[10.0])])
    plain = generate(cfg)
    assert plain.meta["cc_contact_ratio"] < 0.2  # spheres pressed on a flat collector touch it little
    cropped = generate(dataclasses.replace(cfg, cc_contact_target=0.30))
    assert cropped.meta["cc_contact_ratio"] == pytest.approx(0.30, abs=0.05)
    assert cropped.labels.shape[0] == 40 - cropped.meta["cc_crop_voxels"] > 30
    # below the ratio of the layer at the collector, cropping cannot go: a clear error, not the nearest value
    with pytest.raises(InputError, match=r"cc_contact_target = 0.01 cannot be reached .*closest 0\.\d+"):
        generate(dataclasses.replace(cfg, cc_contact_target=0.01))


def test_collector_delamination_detaches_contact_only(tmp_path):
    """Detaching collector contact leaves the electrode as it is (no CAM removed, unlike a crop),
    lowers A_C/A_CC by the detached share, and a smaller share detaches a subset of a larger one
    (so a contact series of one electrode is nested)."""
    from fem_assb.microstructure.structure import Structure

    cfg = StructureConfig(size_um=[30, 40, 40], voxel_um=1.0, seed=2, cc_wall=True, cc_contact_target=0.42,
                          layers=[LayerConfig(cam_fraction=0.46, diameters_um=[10.0])])
    intact = generate(cfg)
    assert intact.cc_delaminated is None
    masks = []
    for frac in (0.3, 0.6, 0.9):
        d = generate(dataclasses.replace(cfg, cc_delamination_fraction=frac))
        assert np.array_equal(d.labels, intact.labels)
        contact = intact.labels[-1] == Phase.CAM
        assert not np.any(d.cc_delaminated & ~contact)  # only CAM contact can be lost
        n = int(contact.sum())
        assert d.cc_delaminated.sum() == round(frac * n) and d.meta["cc_delaminated_fraction"] == pytest.approx(frac, abs=1 / n)
        assert d.meta["cc_contact_ratio_intact"] == intact.meta["cc_contact_ratio"]
        assert d.meta["cc_contact_ratio"] == pytest.approx(intact.meta["cc_contact_ratio"] * (1 - frac), abs=1 / contact.size)
        masks.append(d.cc_delaminated)
    assert not np.any(masks[0] & ~masks[1]) and not np.any(masks[1] & ~masks[2])
    # patches, not scattered pixels: most detached pixels have a detached face neighbour
    m = masks[0]
    nb = np.zeros_like(m)
    nb[1:] |= m[:-1]; nb[:-1] |= m[1:]; nb[:, 1:] |= m[:, :-1]; nb[:, :-1] |= m[:, 1:]  # noqa: E702
    assert (m & nb).sum() > 0.8 * m.sum()
    path = tmp_path / "s.npy"
    d.save(path)
    assert np.array_equal(Structure.load(path).cc_delaminated, d.cc_delaminated)
    assert np.array_equal(generate(dataclasses.replace(cfg, cc_delamination_fraction=0.9)).cc_delaminated, d.cc_delaminated)


def test_collector_mask_on_coarse_blocks():
    """A k×k block of the collector face loses contact when at least as many of its pixels lost
    contact as kept it; blocks without lost pixels keep it (the intact electrode is unchanged)."""
    from fem_assb.microstructure.modify import coarsen_collector_mask

    contact = np.zeros((4, 5), bool)
    contact[:2, :2] = contact[2:, :2] = True  # blocks (0, 0) and (1, 0) fully CAM
    contact[0, 2] = True  # block (0, 1): one CAM pixel
    lost = np.zeros_like(contact)
    lost[0, 0] = lost[0, 1] = True  # half of block (0, 0)
    lost[2, 0] = True  # a quarter of block (1, 0)
    lost[0, 2] = True  # all of block (0, 1)'s contact
    out = coarsen_collector_mask(lost, contact, 2)
    assert out.shape == (2, 2)
    assert out.tolist() == [[True, True], [False, False]]
    assert not coarsen_collector_mask(np.zeros_like(contact), contact, 2).any()


def test_delamination_keeps_se_network():
    cfg = StructureConfig(size_um=[40, 30, 30], voxel_um=1.0, seed=4,
                          layers=[LayerConfig(cam_fraction=0.5, diameters_um=[6.0])])
    ref = generate(cfg)
    for frac in (0.25, 0.75):
        d = generate(dataclasses.replace(cfg, delamination_fraction=frac))
        assert d.meta["passivated_fraction"] == pytest.approx(frac, abs=0.002)
        se = (Phase.SE, Phase.SE_PASSIVE)
        assert volume_fractions(d.labels)["SE"] == volume_fractions(ref.labels)["SE"]
        assert percolation(d.labels, se) == percolation(ref.labels, se)
        assert np.array_equal(d.labels == Phase.CAM, ref.labels == Phase.CAM)


def test_collector_fragments_that_would_overfill_become_se():
    from fem_assb.microstructure.modify import drop_collector_fragments

    lab = np.full((30, 6, 6), Phase.SE, np.uint8)
    lab[1:, 0:3, :] = Phase.CAM  # network: 29 voxels of CAM per collector face
    lab[10:, 4:6, 0:2] = Phase.CAM  # a second, face-separated cluster: 20 per face (f ≈ 0.8) stays
    lab[-1, 4:6, 4:6] = Phase.CAM  # a one-voxel-thick cap on the collector: 1 per face (f ≈ 0.04)
    out, info = drop_collector_fragments(lab, 0.1)
    assert info["clusters"] == 1 and info["voxels"] == 4
    assert info["cam_fraction"] == pytest.approx(4 / (29 * 18 + 20 * 4 + 4))
    changed = out != lab
    assert changed.sum() == 4 and np.all(changed[-1, 4:6, 4:6]) and np.all(out[changed] == Phase.SE)
    same, none = drop_collector_fragments(lab, 0.0)
    assert same is lab and none["clusters"] == 0
    # the threshold compares volume per contact with the electrode's: 0.9 also drops the 20-deep cluster
    assert drop_collector_fragments(lab, 0.9)[1]["clusters"] == 2


@pytest.mark.parametrize("k", [2, 3, 4])
def test_coarsening_keeps_every_phase_volume(k):
    """Majority voting moved ≈ 4 points of a 65 % CAM image into the SE at k = 2 (4:4 ties) and
    ≈ 10 points into the CAM at k = 4; the volume-preserving rule keeps each phase to rounding."""
    cfg = StructureConfig(size_um=[48, 36, 36], voxel_um=1.0, seed=3,
                          layers=[LayerConfig(cam_fraction=0.65, void_fraction=0.05, diameters_um=[8.0])])
    fine = generate(cfg).labels
    coarse = coarsen(fine, k)
    assert coarse.shape == tuple(s // k for s in fine.shape) and coarse.dtype == fine.dtype
    for p in np.unique(fine):
        assert abs(np.count_nonzero(coarse == p) - np.count_nonzero(fine == p) / k**3) <= 1
    blocks = fine.reshape(coarse.shape[0], k, coarse.shape[1], k, coarse.shape[2], k)
    pure = (blocks == blocks[:, :1, :, :1, :, :1]).all(axis=(1, 3, 5))
    assert pure.mean() > 0.02 and np.array_equal(coarse[pure], blocks[:, 0, :, 0, :, 0][pure])
    assert coarsen(fine, 1) is fine


@pytest.mark.parametrize("k,extra", [(2, 1), (3, 1), (3, 2)])
def test_coarsening_an_odd_length_image_keeps_every_composite_layer(k, extra):
    """The remainder along x is filled up with SE at the separator side. Cutting it at the
    collector undid one cc_contact crop layer with mesh.coarsen = 2 (crop 3 ran as crop 4); cutting
    it at the separator side removed 1 µm and the sparsest CAM layer of odd-length electrodes only,
    so odd and even crop depths differed in more than their contact."""
    rng = np.random.default_rng(1)
    blocks = rng.choice([Phase.SE, Phase.CAM, Phase.VOID], size=(6, 4, 5)).astype(np.uint8)
    fine = np.kron(blocks, np.ones((k, k, k), np.uint8))  # every block pure
    odd = np.concatenate([fine[:extra], fine], axis=0)  # extra layers at the separator side
    odd = np.concatenate([odd, odd[:, :extra]], axis=1)  # ... and at y = end
    coarse = coarsen(odd, k)
    assert coarse.shape == (blocks.shape[0] + 1,) + blocks.shape[1:]
    assert np.array_equal(coarse[1:], blocks)  # the collector-side rows are untouched
    kept = odd[:, : blocks.shape[1] * k]
    for p in (Phase.CAM, Phase.VOID):  # no composite voxel lost: volumes kept to one block
        assert abs(np.count_nonzero(coarse == p) - np.count_nonzero(kept == p) / k**3) <= 1


def test_coarsening_sends_ties_to_the_phase_around_them():
    """Tied blocks split between the phases by volume, each going to the phase around it."""
    img = np.zeros((10, 8, 8), np.uint8)
    img[:5] = Phase.CAM  # a flat interface through the middle of a block row
    c = coarsen(img, 2)
    assert np.count_nonzero(c == Phase.CAM) == 2.5 * 16
    assert (c[:2] == Phase.CAM).all() and (c[3:] == Phase.SE).all()
    img = np.zeros((8, 8, 8), np.uint8)
    img[:, :4] = Phase.CAM
    img[2:4, 2:4, 2:3] = Phase.SE  # a 4:4 block inside the CAM half ...
    img[2:4, 6:8, 2:3] = Phase.CAM  # ... and one inside the SE half
    c = coarsen(img, 2)
    assert c[1, 1, 1] == Phase.CAM and c[1, 3, 1] == Phase.SE
    assert np.count_nonzero(c == Phase.CAM) == 32
