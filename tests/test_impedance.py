"""Impedance: a planar cell against its analytic small-signal response, the high-frequency
intercept, arc detection, 1 vs 2 ranks, and the CLI."""
import json

import numpy as np
import pytest
from mpi4py import MPI

from tests.conftest import planar
from fem_assb.materials.library import resolve
from fem_assb.units import F, R

D_IMP = 1e-6  # cm²/s: the diffusion layer stays resolved by the 0.5 µm mesh down to 1 Hz


def analytic(sc, f):
    """Planar cell: Z = L_sep/κ + L_cam/σ + (R_a ∥ C_a) + [(R_ct + Z_D) ∥ C_dl], Z_D the
    finite-space diffusion impedance of a slab with a blocked back face; Ω cm²."""
    m = resolve(sc.materials)
    cam, el, an = m.cam, m.electrolyte, m.anode
    w = 2j * np.pi * f
    x0 = cam.x0
    rt_f = R * m.temperature / F
    i0 = cam.i00 * el.c_e ** cam.alpha * cam.c_max * x0 ** cam.alpha * (1 - x0) ** (1 - cam.alpha)
    r_ct = rt_f / i0
    h = 1e-6
    dU = (float(cam.ocv(x0 + h)) - float(cam.ocv(x0 - h))) / (2 * h)
    D = float(cam.diffusivity(x0))
    L = sc.structure_cam_um * 1e-6
    k = np.sqrt(w / D)
    z_d = -dU / (cam.c_max * F) / (D * k * np.tanh(k * L))
    z_c = 1 / (1 / (r_ct + z_d) + w * cam.c_dl)
    z_a = 1 / (1 / (rt_f / an.i0) + w * an.c_dl)
    r_ohm = sc.structure.separator_um * 1e-6 / el.kappa + L / float(cam.sigma(x0))
    return (r_ohm + z_a + z_c) * 1e4, z_a * 1e4


def planar_imp(tmp_path, **kw):
    sc = planar(tmp_path, h_um=0.5, cam_um=10.0, sep_um=20.0, **kw)
    sc.materials.set = "nmc622_bli3ps4_li"  # seed 002: double layers at both electrodes
    sc.materials.cam_diffusivity_cm2_s = D_IMP
    # slow cathode kinetics (i0 = 1.3e-6 A/cm²) put its arc three decades below the anode's, so the
    # two apexes of the whole cell's spectrum can be checked one by one
    sc.materials.cam_i00 = 4.98e-4
    sc.structure_cam_um = 10.0
    sc.impedance.per_decade = 4
    return sc


def test_planar_impedance_matches_analytic(tmp_path):
    from fem_assb.electrochem.impedance import Impedance, arcs, frequencies, single_arc

    sc = planar_imp(tmp_path)
    f = frequencies(7e6, 1.0, 4)
    sp = Impedance(sc).sweep(f, progress=False)
    z = sp.z
    za, za_anode = analytic(sc, f)
    err = np.abs(z - za) / np.abs(za)
    assert err.max() < 0.01, f"max relative deviation {err.max():.2e} at {f[err.argmax()]:.3g} Hz"
    # the split at the anode|SE face: the anode side alone is R_a ∥ C_a
    err = np.abs(sp.z_anode - za_anode) / np.abs(za_anode)
    assert err.max() < 0.01, f"anode side: max relative deviation {err.max():.2e} at {f[err.argmax()]:.3g} Hz"
    # high-frequency intercept: the ohmic resistances, essentially separator thickness / κ
    m = resolve(sc.materials)
    r_sep = 20e-4 / (m.electrolyte.kappa * 1e-2)
    assert z[0].real == pytest.approx(analytic(sc, np.array([1e12]))[0][0].real, rel=1e-3)
    assert z[0].real == pytest.approx(r_sep, rel=0.01)
    assert sp.z_cathode[0].real == pytest.approx(r_sep, rel=0.01)
    # two arcs (anode and cathode double layers), apex at 1/(2π R C) of each electrode
    found = arcs(f, z)
    assert len(found) >= 2
    rt_f = R * m.temperature / F
    r_a = rt_f / m.anode.i0
    assert found[0]["f_Hz"] == pytest.approx(1 / (2 * np.pi * r_a * m.anode.c_dl), rel=0.15)
    assert found[0]["arc_resistance_ohm_cm2"] == pytest.approx(r_a * 1e4, rel=0.15)
    # from the anode side's own spectrum, far closer (4 frequencies per decade)
    anode = single_arc(f, sp.z_anode)
    assert anode["f_Hz"] == pytest.approx(1 / (2 * np.pi * r_a * m.anode.c_dl), rel=0.03)
    assert anode["arc_resistance_ohm_cm2"] == pytest.approx(r_a * 1e4, rel=1e-3)
    # the separator + cathode side: its first arc is the cathode's charge transfer
    assert arcs(f, sp.z_cathode)[0]["f_Hz"] == pytest.approx(found[1]["f_Hz"], rel=0.15)


def test_iterative_solver_matches_direct(tmp_path):
    """PRESB-preconditioned FGMRES and the MUMPS factorisation solve the same block system: the
    spectra agree to the outer tolerance, with a bounded number of iterations per frequency."""
    from fem_assb.electrochem.impedance import Impedance, frequencies

    sc = planar_imp(tmp_path)
    f = frequencies(7e6, 1.0, 2)
    spectra = {}
    for kind in ("direct", "iterative"):
        sc.impedance.linear = kind
        imp = Impedance(sc)
        assert imp.kind == kind
        spectra[kind] = imp.sweep(f, progress=False)
    assert imp.linear_stats["outer_iterations"] < 40 * len(f)
    for part in ("z", "z_anode"):
        d, i = getattr(spectra["direct"], part), getattr(spectra["iterative"], part)
        assert (np.abs(i - d) / np.abs(d)).max() < 1e-6, part


def test_impedance_cli_writes_spectrum(tmp_path, cli):
    img = tmp_path / "slab.npy"
    np.save(img, np.ones((10, 1, 1), np.uint8))
    scen = tmp_path / "s.toml"
    scen.write_text(f"""
[materials]
set = "nmc622_bli3ps4_li"
[structure]
image = "{img}"
image_labels = {{1 = "CAM"}}
voxel_um = 1.0
separator_um = 20.0
[impedance]
f_max_Hz = 1e6
f_min_Hz = 10.0
per_decade = 3
""")
    r = cli("impedance", scen, "-o", tmp_path / "out", "--f-min", "100", "--linear", "iterative")
    assert r.returncode == 0, r.stderr
    rows = (tmp_path / "out" / "impedance.csv").read_text().splitlines()
    assert rows[0] == ("f_Hz,re_Z_ohm_cm2,minus_im_Z_ohm_cm2,re_Z_anode_ohm_cm2,minus_im_Z_anode_ohm_cm2,"
                       "re_Z_cathode_ohm_cm2,minus_im_Z_cathode_ohm_cm2")
    assert len(rows) - 1 == 13  # 1e6 → 100 Hz, 3 per decade
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert s["f_min_Hz"] == pytest.approx(100.0)
    assert s["linear"]["solver"] == "iterative"  # a command-line option keeps the others of [impedance]
    assert s["f_max_Hz"] == pytest.approx(1e6)
    assert (tmp_path / "out" / "nyquist.png").stat().st_size > 1000
    bad = cli("impedance", scen, "-o", tmp_path / "bad", "--f-min", "1e7")
    assert bad.returncode == 2 and "f_min_Hz" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.mpi
@pytest.mark.parametrize("linear", ["direct", "iterative"])
def test_impedance_two_ranks_match_serial(tmp_path_factory, linear):
    from fem_assb.electrochem.impedance import Impedance, frequencies

    comm = MPI.COMM_WORLD
    folder = comm.bcast(str(tmp_path_factory.mktemp("imp")) if comm.rank == 0 else None, root=0)
    from pathlib import Path

    sc = planar_imp(Path(folder))
    sc.impedance.linear = linear
    f = frequencies(1e6, 10.0, 2)
    s2 = Impedance(sc).sweep(f, progress=False)
    s1 = Impedance(sc, comm=MPI.COMM_SELF).sweep(f, progress=False) if comm.rank == 0 else None
    if comm.rank == 0:  # ≈ 1e-8 seen with either solver
        assert np.allclose(s2.z, s1.z, rtol=1e-6, atol=0)
        assert np.allclose(s2.z_anode, s1.z_anode, rtol=1e-6, atol=0)


def test_noise_is_not_an_arc():
    """A frequency-independent spectrum (no capacitance) has no arcs, and wiggles far below the
    spectrum's span are not arcs either (fem_assb/electrochem/impedance.ARC_SHARE)."""
    from fem_assb.electrochem.impedance import arcs

    f = np.logspace(7, 0, 57)
    flat = 230.3 + 3e-7 * np.sin(np.arange(f.size)) + 0j  # the review's case: "arcs" of 1e-9 of Re Z
    assert arcs(f, flat) == []
    w = 2 * np.pi * f
    one = 100.0 + 50.0 / (1 + 1j * w * 50.0 * 1e-6)  # one R ∥ C arc at 3.2 kHz
    ripple = one + 1e-4 * np.sin(7 * np.log(f))  # wiggles of 2e-6 of the span
    found = arcs(f, ripple)
    assert len(found) == 1 and found[0]["f_Hz"] == pytest.approx(1 / (2 * np.pi * 50e-6), rel=0.05)
