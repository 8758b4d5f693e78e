"""The current collector (fem_assb/electrochem/collector.py): the equipotential foil against the
uniform current density, symmetry, a floating CAM conductor, conservation and 1 vs 2 ranks."""
from pathlib import Path

import numpy as np
import pytest
from mpi4py import MPI

from fem_assb.materials.library import resolve
from tests.conftest import D_FAST, NO_PLOTS, planar, scenario, serial_result

H_UM = 2.0


def run(sc, folder):
    from fem_assb.electrochem.simulation import Simulation

    sim = Simulation(sc, folder)
    return sim, sim.run()


def columns(tmp: Path, name: str, layout: list[str], **solver):
    """Cell from a y-sequence of x-columns, each a string of phase letters from the separator to
    the collector (C = CAM, S = SE, V = void), 2 µm voxels, nz = 1, fast solid diffusion."""
    codes = {"S": 0, "C": 1, "V": 3}
    img = np.array([[codes[c] for c in col] for col in layout], np.uint8).T[:, :, None]
    path = tmp / f"{name}.npy"
    np.save(path, img)
    return scenario({
        "name": name,
        "materials": {"set": "nmc811_li6ps5cl_li", "cam_diffusivity_cm2_s": D_FAST},
        "structure": {"image": str(path), "image_labels": {"0": "SE", "1": "CAM", "3": "VOID"},
                      "voxel_um": H_UM, "separator_um": 4.0},
        "mesh": {"separator_growth": 1.0},
        "steps": [{"kind": "discharge", "current_mA_cm2": 2.0, "duration_h": 0.05}],
        "solver": {"linear": "direct", **solver},
        "output": {"exports": NO_PLOTS}})


def collector_currents(sim):
    """(y of the owned collector dofs, their contact areas w, current densities) on this rank."""
    m = sim.model
    c = m.collector
    y = m.V_s.tabulate_dof_coordinates()[c.dofs, 1]
    return y, c.w, c.current_density(m.i_app)


def test_planar_cell_equipotential_equals_uniform(tmp_path):
    """A flat CAM slab covers the whole collector: both conditions are the same problem, up to
    the contact drop I·R_c (2e-7 V here)."""
    curves = {}
    for kind in ("equipotential", "uniform"):
        sc = planar(tmp_path, step={"duration_h": 0.3}, solver={  # the same fixed steps for both
            "dt_initial_s": 20.0, "dt_max_s": 20.0, "max_dU_V": 1.0, "max_dx": 1.0})
        sc.collector.kind = kind
        sim, s = run(sc, tmp_path / kind)
        assert s["charge_balance_error"] < 1e-9
        curves[kind] = np.genfromtxt(tmp_path / kind / "timeseries.csv", delimiter=",", names=True)["voltage_V"]
        if kind == "equipotential":
            _, w, i = collector_currents(sim)
            # 2 mA/cm² on the whole face; a node's contact drop is only ≈ 2e-7 V, so its current
            # is as accurate as the Newton tolerance on φ (1e-12 V here; 1 % at the default 1e-8)
            assert np.allclose(i, 20.0, rtol=1e-3) and np.sum(w * i) == pytest.approx(20.0 * sum(w), rel=1e-12)
    assert len(curves["equipotential"]) == len(curves["uniform"])
    drop = curves["uniform"] - curves["equipotential"]
    assert np.allclose(drop, 20.0 * sc.collector.contact_resistance_ohm_cm2 * 1e-4, rtol=1e-2)


def test_mirror_symmetric_columns_share_the_current(tmp_path):
    """Two CAM columns mirrored about the cell's mid-plane each carry half the current; all
    collector nodes stay at one potential within their contact drop; the collector currents add
    up to I·A."""
    sc = columns(tmp_path, "mirror", ["CCCCCC", "SSSSSS", "CCCCCC"])
    sim, s = run(sc, tmp_path / "out")
    y, w, i = collector_currents(sim)
    a, b = np.sum((w * i)[y < 3e-6]), np.sum((w * i)[y > 3e-6])  # columns at y = 0–2 and 4–6 µm
    total = 20.0 * sim.doms.area_geometric
    assert np.sum(w * i) == pytest.approx(total, rel=1e-9)
    assert a == pytest.approx(b, rel=1e-4) and a + b == pytest.approx(total, rel=1e-9)
    face = np.genfromtxt(tmp_path / "out" / "collector.csv", delimiter=",", names=True)  # rank 0's gather
    assert face.size == 8 and np.sum(face["w_um2"] * face["current_density_mA_cm2"]) == pytest.approx(
        2.0 * sim.doms.area_geometric / 1e-12, rel=1e-9)
    m = sim.model
    V = m.voltage()
    drop = m.phi_s.x.array[m.collector.dofs] - V
    r_c = sc.collector.contact_resistance_ohm_cm2 * 1e-4
    assert np.max(np.abs(drop)) <= 1.01 * np.max(np.abs(i)) * r_c


def test_floating_cam_on_the_collector_carries_no_current(tmp_path):
    """A CAM column that touches the collector but no SE (void all round) is a floating
    conductor: on an equipotential foil it takes no current and changes nothing, whereas a
    uniform collector current would have to push I·A·a/A_C into it with nowhere to go."""
    alone = columns(tmp_path, "alone", ["CCCCCC", "SSSSSS", "VVVVVV", "VVVVVV"])
    extra = columns(tmp_path, "extra", ["CCCCCC", "SSSSSS", "VVVVVV", "VCCCCC"])
    _, s0 = run(alone, tmp_path / "alone")
    sim, s1 = run(extra, tmp_path / "extra")
    v0 = np.genfromtxt(tmp_path / "alone" / "timeseries.csv", delimiter=",", names=True)["voltage_V"]
    v1 = np.genfromtxt(tmp_path / "extra" / "timeseries.csv", delimiter=",", names=True)["voltage_V"]
    assert s1["structure"]["cc_contact_ratio"] == pytest.approx(2 * s0["structure"]["cc_contact_ratio"])
    assert len(v0) == len(v1) and np.max(np.abs(v0 - v1)) < 1e-9
    y, w, i = collector_currents(sim)
    floating = y > 5e-6  # the column at y = 6–8 µm
    print("floating current / largest:", np.max(np.abs(i[floating])) / np.max(np.abs(i)))
    assert floating.sum() == 4 and np.max(np.abs(i[floating])) < 1e-6 * np.max(np.abs(i))
    x0 = float(resolve(extra.materials).cam.x0)
    assert s1["x_Li_range"] == pytest.approx([x0, s0["x_Li_range"][1]], abs=1e-12)  # it stays at x0


def test_detached_collector_contact_carries_no_current(tmp_path):
    """Two mirrored CAM columns, one of them detached from the collector
    (structure.cc_delamination_fraction = 0.5): the contact area halves and the whole current
    leaves through the attached column. No electron reaches the detached one, so it can take no
    Li: the mesh leaves it out (mesh/build.py) while the capacity basis keeps its mass."""
    sc = columns(tmp_path, "detached", ["CCCCCC", "SSSSSS", "CCCCCC"])
    sc.structure.cc_delamination_fraction = 0.5
    sim, s = run(sc, tmp_path / "out")
    assert s["charge_balance_error"] < 1e-9
    assert s["structure"]["cc_contact_ratio"] == pytest.approx(1 / 3)  # 1 of 3 collector pixels
    y, w, i = collector_currents(sim)
    attached_low = bool(MPI.COMM_WORLD.allreduce(int(np.any(y < 3e-6))))
    assert np.all((y < 3e-6) == attached_low)  # every collector node in one column
    assert MPI.COMM_WORLD.allreduce(float(np.sum(w * i))) == pytest.approx(20.0 * sim.doms.area_geometric, rel=1e-9)
    inert = s["structure"]["mesh"]["inert"]
    assert inert["cam_voxels"] == 6 and inert["cam_clusters"] == 1 and inert["se_voxels"] == 0
    column_m3 = 6 * (H_UM * 1e-6) ** 3
    assert sim.doms.volume_cam == pytest.approx(column_m3)  # the attached column only
    assert s["structure"]["volume_cam_m3"] == pytest.approx(2 * column_m3)  # both count as mass
    x0 = float(resolve(sc.materials).cam.x0)
    gained = s["li_inserted_mol_m2"] * sim.doms.area_geometric / (resolve(sc.materials).cam.c_max * 2 * column_m3)
    assert s["mean_utilization"] == pytest.approx(gained / (1 - x0), rel=1e-9)


def test_equipotential_is_the_default_and_keeps_collector_fragments():
    from fem_assb.mesh.build import fragment_share

    sc = scenario({})
    assert sc.collector.kind == "equipotential" and fragment_share(sc) == 0.0
    sc.collector.kind = "uniform"
    assert fragment_share(sc) == 0.1
    sc.mesh.collector_fragment_share = 0.3
    assert fragment_share(sc) == 0.3


WIDE = {"name": "wide", "materials": {"set": "nmc811_li6ps5cl_li"},
        "structure": {"size_um": [16, 48, 12], "voxel_um": 2.0, "seed": 3, "separator_um": 8.0,
                      "layers": [{"cam_fraction": 0.5, "diameters_um": [6.0]}]},
        "solver": {"linear": "direct", "max_steps": 15}, "output": {"exports": NO_PLOTS},
        "steps": [{"kind": "discharge", "current_mA_cm2": 3.0}]}


def _wide_series(folder):
    sim, s = run(scenario(WIDE), folder)
    v = np.genfromtxt(Path(folder) / "timeseries.csv", delimiter=",", names=True)["voltage_V"]
    return s["capacity_mAh_cm2"], v.tolist(), MPI.COMM_WORLD.allgather(int(sim.model.collector.dofs.size))


@pytest.mark.mpi
def test_two_ranks_reproduce_serial_with_the_collector_split(tmp_path_factory):
    """The collector's nodes lie on both ranks (the φ_cc row gathers entries from both)."""
    comm = MPI.COMM_WORLD
    folder = comm.bcast(str(tmp_path_factory.mktemp("wide")) if comm.rank == 0 else None, root=0)
    cap2, v2, split = _wide_series(folder)
    assert min(split) > 0, split
    cap1, v1, _ = serial_result("tests.test_collector", "_wide_series", folder + "_serial", comm=comm)
    assert len(v1) == len(v2) and np.max(np.abs(np.array(v1) - np.array(v2))) < 1e-6
    assert cap2 == pytest.approx(cap1, rel=1e-6)
