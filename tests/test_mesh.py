"""Tagged meshes: tags and measures agree with the image; 1 vs 2 ranks; XDMF round trip; gmsh."""
import numpy as np
import pytest
from mpi4py import MPI

from fem_assb.config.scenario import LayerConfig, MeshConfig, StructureConfig
from fem_assb.mesh.build import voxel_mesh
from fem_assb.mesh.tagged import TaggedMesh
from fem_assb.microstructure.analysis import face_count
from fem_assb.microstructure.generate import generate
from fem_assb.microstructure.modify import drop_collector_fragments, inert_clusters
from fem_assb.phases import Facet, Phase

H = 1.0
SHARE = 0.1  # collector fragments dropped as under a uniform collector current


def structure():
    """A small composite with every tag present (deterministic on every rank)."""
    cfg = StructureConfig(size_um=[20, 12, 14], voxel_um=H, seed=9, delamination_fraction=0.3,
                          cc_delamination_fraction=0.5, cc_delamination_patch_um=4.0,
                          layers=[LayerConfig(cam_fraction=0.5, void_fraction=0.1, diameters_um=[5.0])])
    s = generate(cfg)
    s.separator_um = 6.0
    return s


def meshed_labels(s):
    """The image the voxel mesh is built from: collector fragments turned into SE, clusters that
    carry no current left out."""
    lab, dropped = drop_collector_fragments(s.labels, SHARE)
    dead, _ = inert_clusters(lab, "face", s.cc_delaminated)
    return np.where(dead, np.uint8(Phase.VOID), lab), dropped


def test_inert_clusters_by_connectivity():
    """SE not connected to x = 0 and CAM not connected to an intact contact at x = L carry no
    current; 'node' connectivity also joins voxels through edges."""
    lab = np.full((4, 3, 3), Phase.VOID, np.uint8)
    lab[0:2, 0, 0] = Phase.SE  # connected to x = 0
    lab[2, 1, 1] = Phase.SE  # touches the first column along an edge only
    lab[2:4, 0, 2] = Phase.CAM  # connected to x = L
    lab[1, 1, 2] = Phase.CAM  # touches that column along an edge only
    lab[3, 2, 0] = Phase.CAM  # on the collector, but on a detached pixel
    lost = np.zeros((3, 3), bool)
    lost[2, 0] = True
    dead, info = inert_clusters(lab, "face", lost)
    assert sorted(zip(*np.nonzero(dead))) == [(1, 1, 2), (2, 1, 1), (3, 2, 0)]
    assert info == {"se_clusters": 1, "se_voxels": 1, "cam_clusters": 2, "cam_voxels": 2}
    dead, info = inert_clusters(lab, "node", lost)
    assert sorted(zip(*np.nonzero(dead))) == [(3, 2, 0)] and info["se_voxels"] == 0


def expected(s):
    lab = meshed_labels(s)[0]
    se = (Phase.SE, Phase.SE_PASSIVE)
    first_cam = int(np.sum(lab[0] == Phase.CAM))  # CAM faces on the separator are interface too
    return {
        "cam": int(np.sum(lab == Phase.CAM)), "se": int(np.sum(np.isin(lab, se))),
        "interface": face_count(lab, (Phase.CAM,), (Phase.SE,)) + first_cam,
        "passivated": face_count(lab, (Phase.CAM,), (Phase.SE_PASSIVE,)),
        "cc": int(np.sum((lab[-1] == Phase.CAM) & ~s.cc_delaminated)),
        "cc_lost": int(np.sum((lab[-1] == Phase.CAM) & s.cc_delaminated)), "anode": lab.shape[1] * lab.shape[2],
    }


def check(tm, s):
    e = expected(s)
    um3, um2 = 1e-18, 1e-12
    assert tm.measure_volume(Phase.CAM) / um3 == pytest.approx(e["cam"])
    assert tm.measure_volume(Phase.SE, Phase.SE_PASSIVE) / um3 == pytest.approx(e["se"])
    assert tm.measure_volume(Phase.SEPARATOR) / um3 == pytest.approx(6.0 * 12 * 14)
    assert tm.facet_area(Facet.INTERFACE) / um2 == pytest.approx(e["interface"])
    assert tm.facet_area(Facet.PASSIVATED) / um2 == pytest.approx(e["passivated"])
    assert tm.facet_area(Facet.CAM_CC) / um2 == pytest.approx(e["cc"])
    assert tm.facet_area(Facet.CC_DELAMINATED) / um2 == pytest.approx(e["cc_lost"]) and e["cc_lost"] > 0
    assert tm.facet_area(Facet.ANODE) / um2 == pytest.approx(e["anode"])
    n_cells = e["cam"] + e["se"] + tm.info["separator_layers"] * 12 * 14
    assert tm.counts()["cells"] == n_cells


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("FEM_ASSB_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def test_hex_mesh_tags_match_image():
    s = structure()
    tm = voxel_mesh(s, MeshConfig(), fragment_share=SHARE)
    check(tm, s)
    assert tm.info["collector_fragments"] == meshed_labels(s)[1]
    # the separator is graded: 6 µm in fewer layers than voxels, thinnest next to the composite
    assert tm.info["separator_layers"] < 6


@pytest.mark.mpi
def test_hex_mesh_on_two_ranks_matches_image():
    assert MPI.COMM_WORLD.size == 2
    s = structure()
    tm = voxel_mesh(s, MeshConfig(), fragment_share=SHARE)
    check(tm, s)
    assert tm.info["collector_fragments"] == meshed_labels(s)[1]  # found on rank 0, applied on both
    n_local = tm.mesh.topology.index_map(3).size_local
    assert 0 < n_local < tm.counts()["cells"]  # distributed: no rank holds the whole mesh


def test_coarse_mesh_detaches_collector_blocks():
    """On 2 µm cells the collector facets follow the coarsened mask (modify.coarsen_collector_mask):
    in-contact and detached facets together are the coarse CAM on the collector."""
    from fem_assb.microstructure.coarsen import coarsen
    from fem_assb.microstructure.modify import coarsen_collector_mask

    s = structure()
    s.labels = s.labels[:, :12, :12]  # 2 µm blocks fit the face
    s.cc_delaminated = s.cc_delaminated[:12, :12]
    tm = voxel_mesh(s, MeshConfig(coarsen=2))
    cam = coarsen(s.labels, 2)[-1] == Phase.CAM
    lost = coarsen_collector_mask(s.cc_delaminated, s.labels[-1] == Phase.CAM, 2)
    assert 0 < (cam & lost).sum() < cam.sum()
    assert tm.facet_area(Facet.CAM_CC) * 1e12 == pytest.approx(4 * (cam & ~lost).sum())
    assert tm.facet_area(Facet.CC_DELAMINATED) * 1e12 == pytest.approx(4 * (cam & lost).sum())


def test_xdmf_round_trip(tmp_path):
    s = structure()
    tm = voxel_mesh(s, MeshConfig(), fragment_share=SHARE)
    tm.write(tmp_path / "m.xdmf")
    back = TaggedMesh.read(tmp_path / "m.xdmf", MPI.COMM_WORLD)
    check(back, s)
    assert back.info["voxel_um"] == H


def test_reference_mesh_in_repository():
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "meshes" / "demo_hex.xdmf"
    import json

    tm = TaggedMesh.read(path, MPI.COMM_WORLD)
    recorded = json.loads(path.with_suffix(".json").read_text())["counts"]
    assert tm.counts() == recorded
    assert tm.facet_area(Facet.INTERFACE) * 1e12 == pytest.approx(4 * recorded["facets_INTERFACE"])  # 2 µm voxels


def gmsh_case():
    from fem_assb.mesh.gmsh_spheres import build_gmsh_mesh

    centers = np.array([[6.0, 6.0, 6.0], [15.0, 9.0, 9.0]])
    radii = np.array([3.5, 3.0])
    return build_gmsh_mesh(centers, radii, [22.0, 14.0, 14.0], 4.0, None, 0.6, 0.1), centers, radii


def _check_gmsh(tm, radii):
    r = radii * tm.info["radius_scale"]
    vol = tm.measure_volume(Phase.CAM) * 1e18
    area = tm.facet_area(Facet.INTERFACE) * 1e12
    assert vol == pytest.approx(np.sum(4 / 3 * np.pi * r ** 3), rel=0.03)
    assert area == pytest.approx(np.sum(4 * np.pi * r ** 2), rel=0.03)
    assert tm.facet_area(Facet.ANODE) * 1e12 == pytest.approx(14 * 14)
    assert tm.measure_volume(Phase.SEPARATOR) * 1e18 == pytest.approx(4 * 14 * 14)
    assert tm.facet_area(Facet.CAM_CC) == 0.0  # no sphere reaches x = L


def test_gmsh_spheres_volume_and_area():
    tm, _, radii = gmsh_case()
    _check_gmsh(tm, radii)


def test_gmsh_retries_with_twice_the_gap(monkeypatch, capsys):
    """When gmsh reports overlapping surface meshes, the packing is meshed again with twice the
    particle gap (the smaller radii enter the CAM volume), and the retry is announced."""
    from fem_assb.mesh import gmsh_spheres

    real, gaps = gmsh_spheres._mesh_rank0, []

    def first_attempt_fails(*args):
        gaps.append(args[6])
        return "Invalid boundary mesh (overlapping facets)" if len(gaps) == 1 else real(*args)

    monkeypatch.setattr(gmsh_spheres, "_mesh_rank0", first_attempt_fails)
    tm, _, radii = gmsh_case()
    assert gaps == [0.1, 0.2] and tm.info["gap_um"] == 0.2
    assert "retrying with 0.2 µm" in capsys.readouterr().out
    _check_gmsh(tm, radii)


def test_gmsh_scenario_mesh_is_cached_as_one_folder(tmp_path, monkeypatch):
    """A scenario's gmsh mesh is stored whole in its own cache folder (renamed into place) and read
    back unchanged; a second writer of the same mesh leaves the stored one as it is."""
    from fem_assb.config.scenario import Scenario
    from fem_assb.config.schema import Where, parse
    from fem_assb.mesh import build

    monkeypatch.setenv("FEM_ASSB_CACHE", str(tmp_path))
    sc = parse(Scenario, {"name": "g", "structure": {"size_um": [16, 12, 12], "voxel_um": 1.0, "seed": 3,
                                                     "layers": [{"diameters_um": [5.0], "cam_fraction": 0.25}]},
                          "mesh": {"kind": "gmsh", "gmsh_size_um": 1.5}}, Where("test"))
    _, first = build.scenario_mesh(sc, 0.0, True)
    [folder] = (tmp_path / "meshes").iterdir()
    assert sorted(p.name for p in folder.iterdir()) == ["mesh.h5", "mesh.json", "mesh.xdmf"]
    stored = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    build._store(first, folder)  # a late second writer: its copy is dropped
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == stored
    assert [p.name for p in (tmp_path / "meshes").iterdir()] == [folder.name]
    _, again = build.scenario_mesh(sc, 0.0, True)
    assert again.counts() == first.counts()
    assert again.measure_volume(Phase.CAM) == pytest.approx(first.measure_volume(Phase.CAM), rel=1e-12)


@pytest.mark.mpi
def test_gmsh_spheres_two_ranks():
    tm, _, radii = gmsh_case()
    _check_gmsh(tm, radii)


def test_passivated_interface_carries_no_current():
    """The Butler–Volmer coupling lives only on active interface facets: the nodal pair weights
    add up to the active area, and passivating more of the interface removes exactly that area
    from the coupling (the delaminated structure keeps its SE network, test_structure)."""
    from fem_assb.electrochem.domains import build_domains

    s = structure()
    tm = voxel_mesh(s, MeshConfig(), fragment_share=SHARE)
    doms = build_domains(tm)
    weights = MPI.COMM_WORLD.allreduce(float(doms.pair_weight.sum()))
    active, passive = tm.facet_area(Facet.INTERFACE), tm.facet_area(Facet.PASSIVATED)
    assert passive > 0.2 * (active + passive)
    assert weights == pytest.approx(active, rel=1e-12)
    assert doms.area_interface == pytest.approx(active, rel=1e-12)


def test_refined_mesh_is_the_same_image_on_finer_cells():
    """mesh.refine = 2 splits every voxel into 8 cells of its phase: volumes and tagged areas
    stay those of the image, the composite cells are 8×."""
    s = structure()
    s.labels = s.labels[:, :12, :12]
    s.cc_delaminated = s.cc_delaminated[:12, :12]
    one, two = voxel_mesh(s, MeshConfig()), voxel_mesh(s, MeshConfig(refine=2))
    for p in (Phase.CAM, Phase.SE, Phase.SEPARATOR):
        assert two.measure_volume(p) == pytest.approx(one.measure_volume(p), rel=1e-12)
    for t in (Facet.INTERFACE, Facet.PASSIVATED, Facet.CAM_CC, Facet.CC_DELAMINATED, Facet.ANODE):
        assert two.facet_area(t) == pytest.approx(one.facet_area(t), rel=1e-12)
    c1, c2 = one.counts(), two.counts()
    assert c2["cells_CAM"] == 8 * c1["cells_CAM"] and two.info["voxel_um"] == 0.5 and two.info["refine"] == 2
