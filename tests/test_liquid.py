"""Liquid electrolyte (concentrated-solution transport, seed 001 LIB case): a planar cell against an
independent 1D solution, Li+ conservation, the single-ion limit, 1 vs 2 ranks and depletion."""
import json
from pathlib import Path

import numpy as np
import pytest
from mpi4py import MPI

from fem_assb.materials.library import resolve
from fem_assb.units import F, R
from tests.conftest import planar, serial_result

D_CAM = 1e-8  # cm²/s: fast solid diffusion, so the electrolyte sets the voltage


def lib_planar(tmp: Path, current=2.0, sep_um=20.0, step=None):
    """Li | 20 µm porous separator soaked with LiPF6 (ε 0.5, κ_eff 0.5 κ) | dense 20 µm CAM slab."""
    sc = planar(tmp, h_um=1.0, sep_um=sep_um, current=current, model={"surface_layer": 0}, step=step or {})
    sc.materials.set = "nmc811_lipf6_li"
    sc.materials.cam_diffusivity_cm2_s = D_CAM
    return sc


def reference_1d(sc, t_end, n_e=400, n_s=200):
    """Independent 1D solution of the same equations: finite volumes for c_e across the separator
    (ε ∂c/∂t = −∂N/∂x, N = −B D(c) ∂c/∂x + t+(c) I/F, N = I/F at both ends) and for Li in the slab;
    the potentials follow from the uniform current I = −B κ ∂φ/∂x + B κ_D ∂ln c/∂x.
    Returns (U(t), c_e(x, t) on the cell centres, x)."""
    from scipy.integrate import solve_ivp

    mats = resolve(sc.materials)
    cam, el, an = mats.cam, mats.electrolyte, mats.anode
    f = F / (R * mats.temperature)
    I = sc.steps[0].current_mA_cm2 * 10.0
    Ls, Lc = sc.structure.separator_um * 1e-6, 20e-6
    eps, B = mats.separator_porosity, mats.separator_kappa_ratio
    dx, ds = Ls / n_e, Lc / n_s
    D_s = float(cam.diffusivity(0.5))

    def rhs(t, y):
        c, cs = y[:n_e], y[n_e:]
        cf = 0.5 * (c[1:] + c[:-1])
        N = np.concatenate([[I / F], -B * el.diffusivity(cf) * np.diff(c) / dx + el.transference(cf) * I / F, [I / F]])
        q = D_s * (cs[:-1] - cs[1:]) / ds
        dcs = np.zeros(n_s)
        dcs[:-1] -= q
        dcs[1:] += q
        dcs[0] += I / F
        return np.concatenate([-np.diff(N) / (eps * dx), dcs / ds])

    y0 = np.concatenate([np.full(n_e, el.c_e), np.full(n_s, cam.c0)])
    sol = solve_ivp(rhs, (0, t_end), y0, method="BDF", rtol=1e-9, atol=1e-9, dense_output=True)
    x = (np.arange(n_e) + 0.5) * dx

    def voltage(t):
        y = sol.sol(t)
        c, cs = y[:n_e], y[n_e:]
        c_face = np.concatenate([[c[0] - 0.5 * (c[1] - c[0])], 0.5 * (c[1:] + c[:-1]), [c[-1] + 0.5 * (c[-1] - c[-2])]])
        kap = el.kappa(c_face)
        kd = 2 / f * kap * (1 - el.transference(c_face)) * el.thermodynamic_factor(c_face)
        # dφ/dx = (κ_D ∂ln c/∂x − I/B) / κ, integrated over the cells (the gradient of ln c per cell)
        dlnc = np.gradient(np.log(c), x)
        kc, kdc = 0.5 * (kap[1:] + kap[:-1]), 0.5 * (kd[1:] + kd[:-1])
        drop = np.sum((kdc * dlnc - I / B) / kc) * dx
        phi_e0 = -2 / f * np.arcsinh(I / (2 * an.i0))
        surf = cs[0] + I / F * (ds / 2) / D_s
        x_s = surf / cam.c_max
        i0 = cam.i00 * c_face[-1] ** 0.5 * surf ** 0.5 * (cam.c_max - surf) ** 0.5
        eta = 2 / f * np.arcsinh(-I / (2 * i0))
        return phi_e0 + drop + cam.ocv(x_s) + eta - I * Lc / float(cam.sigma(0.5))

    def c_e(t):
        return sol.sol(t)[:n_e]

    return voltage, c_e, x


def run(sc, folder):
    from fem_assb.electrochem.simulation import Simulation

    sim = Simulation(sc, folder)
    return sim, sim.run()


@pytest.mark.parametrize("linear", ["direct", "iterative"])
def test_planar_liquid_cell_matches_the_1d_solution(tmp_path, linear):
    """2 mA/cm² for 0.3 h: voltage within 1 % (and 5 mV) and the c_e profile across the separator
    within 1 % of the independent 1D solution; Li+ in the electrolyte conserved to round-off; with
    LU and with the block-AMG GMRES (the Li+ rows recombined, CellSystem.newton_system)."""
    sc = lib_planar(tmp_path, step={"duration_h": 0.3})
    sc.solver.linear = linear
    sim, s = run(sc, tmp_path / "out")
    assert s["charge_balance_error"] < 1e-9 and s["electrolyte"]["salt_balance_error"] < 1e-9
    U, c_e, x = reference_1d(sc, 0.3 * 3600)
    rows = np.genfromtxt(tmp_path / "out" / "timeseries.csv", delimiter=",", names=True)
    for t, v in zip(rows["t_s"][5:], rows["voltage_V"][5:]):
        assert abs(v - U(t)) < min(0.01 * U(t), 0.005), (t, v, U(t))
    # c_e along x in the separator at the end (the model's nodes against the reference's centres)
    m = sim.model
    n = m.V_ce.dofmap.index_map.size_local
    xs = m.V_ce.tabulate_dof_coordinates()[:n, 0]
    sep = xs < sc.structure.separator_um * 1e-6 - 1e-9
    ref = np.interp(xs[sep], x, c_e(0.3 * 3600))
    assert np.max(np.abs(m.c_e.x.array[:n][sep] / ref - 1)) < 0.01
    drop = c_e(0.3 * 3600)[0] - c_e(0.3 * 3600)[-1]
    assert drop > 10.0  # a real gradient: ≈ 16 mol/m³ across the separator


def test_closed_cell_conserves_the_electrolyte_salt(tmp_path):
    """No current, a non-uniform start relaxes by diffusion only: ∫ ε c_e stays at its initial value
    to 1e-8 (relative) while the profile flattens."""
    sc = lib_planar(tmp_path, current=1.0)
    sc.steps[0].kind, sc.steps[0].current_mA_cm2, sc.steps[0].duration_h = "rest", None, 0.01
    from fem_assb.electrochem.simulation import Simulation

    sim = Simulation(sc, tmp_path / "out")
    m = sim.model
    xs = m.V_ce.tabulate_dof_coordinates()[:, 0]
    m.c_e.x.array[:] = 1000.0 * (1.0 + 0.3 * np.cos(np.pi * xs / 20e-6))  # more Li+ at the anode
    m.commit()
    salt0 = m.salt()
    spread0 = np.ptp(m.c_e.x.array)
    sim.state.salt0 = salt0
    s = sim.run()
    assert abs(m.salt() / salt0 - 1) < 1e-8 and s["electrolyte"]["salt_balance_error"] < 1e-8
    assert np.ptp(m.c_e.x.array) < 0.1 * spread0


def test_single_ion_limit_reproduces_the_solid_electrolyte(tmp_path):
    """t+ = 1, constant κ and a liquid of the SE's concentration: c_e stays uniform and the cell is
    today's solid-electrolyte cell (same voltage curve to 1e-6 V)."""
    solid = planar(tmp_path, h_um=1.0, sep_um=10.0, current=2.0, model={"surface_layer": 0}, step={"duration_h": 0.2})
    _, s_solid = run(solid, tmp_path / "solid")
    import dataclasses

    from fem_assb.materials import library
    from fem_assb.materials.functions import Constant

    base = library.MATERIAL_SETS["nmc811_li6ps5cl_li"]
    el = base.electrolyte
    liquid_el = library.LiquidElectrolyte(
        name="single_ion", c_e=el.c_e, kappa=Constant(unit="S/m", value=el.kappa),
        diffusivity=Constant(unit="m²/s", value=1e-10), transference=Constant(unit="-", value=1.0),
        thermodynamic_factor=Constant(unit="-", value=1.0), density=el.density)
    library.MATERIAL_SETS["_single_ion_test"] = dataclasses.replace(
        base, name="_single_ion_test", electrolyte=liquid_el, cbd_kappa_ratio=1.0, cbd_porosity=1.0,
        separator_kappa_ratio=1.0, separator_porosity=1.0)
    try:
        liquid = planar(tmp_path, h_um=1.0, sep_um=10.0, current=2.0, model={"surface_layer": 0},
                        step={"duration_h": 0.2})
        liquid.materials.set = "_single_ion_test"
        sim, s_liq = run(liquid, tmp_path / "liquid")
    finally:
        del library.MATERIAL_SETS["_single_ion_test"]
    lo, hi = s_liq["electrolyte"]["c_e_range_mol_m3"]
    assert hi - lo < 1e-6 * el.c_e
    a = np.genfromtxt(tmp_path / "solid" / "timeseries.csv", delimiter=",", names=True)
    b = np.genfromtxt(tmp_path / "liquid" / "timeseries.csv", delimiter=",", names=True)
    assert a.size == b.size and np.max(np.abs(a["voltage_V"] - b["voltage_V"])) < 1e-6


def test_electrolyte_depletion_stops_with_one_line(tmp_path, cli):
    """A current the porous separator cannot carry: c_e reaches zero at the cathode side; the run
    ends there like at a cut-off (results written, the stop reason in the summary) with exit 3 and
    one line naming when and where."""
    sc_toml = tmp_path / "dep.toml"
    img = tmp_path / "slab.npy"
    np.save(img, np.ones((20, 1, 1), np.uint8))
    sc_toml.write_text(f'[materials]\nset = "nmc811_lipf6_li"\ncam_diffusivity_cm2_s = {D_CAM}\n'
                       f'[structure]\nimage = "{img}"\nimage_labels = {{1 = "CAM"}}\nvoxel_um = 1.0\n'
                       'separator_um = 60.0\n[mesh]\nseparator_growth = 1.0\n[model]\nsurface_layer = 0\n[solver]\n'
                       'linear = "direct"\n[output]\nexports = ["timeseries", "profile", "collector", "fields"]\n'
                       '[[steps]]\nkind = "discharge"\ncurrent_mA_cm2 = 150.0\nuntil_V = 2.0\n')
    r = cli("run", sc_toml, "-o", tmp_path / "out")
    assert r.returncode == 3, r.stderr
    line = r.stderr.strip().splitlines()
    assert len(line) == 1 and "electrolyte depleted" in line[0] and "µm from the anode" in line[0], r.stderr
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert s["electrolyte_depleted"] and line[0].endswith(s["stop_reason"])
    assert s["electrolyte"]["c_e_range_mol_m3"][0] < 0.05 * 1000 and s["capacity_mAh_cm2"] > 0


def _planar_liquid_series(folder):
    Path(folder).mkdir(parents=True, exist_ok=True)
    sc = lib_planar(Path(folder), step={"duration_h": 0.1})
    sc.solver.linear = "iterative"  # the recombined Li+ rows (CellSystem.newton_system) across ranks
    _, s = run(sc, Path(folder) / "out")
    ts = np.loadtxt(Path(folder) / "out" / "timeseries.csv", delimiter=",", skiprows=1, usecols=(5,))
    return s["capacity_mAh_cm2"], ts.tolist(), s["electrolyte"]["c_e_range_mol_m3"]


@pytest.mark.mpi
def test_two_ranks_reproduce_the_serial_liquid_cell(tmp_path_factory):
    comm = MPI.COMM_WORLD
    folder = comm.bcast(str(tmp_path_factory.mktemp("liq")) if comm.rank == 0 else None, root=0)
    q, v, ce = _planar_liquid_series(folder + "/par")
    q1, v1, ce1 = serial_result("tests.test_liquid", "_planar_liquid_series", folder + "/ser", comm=comm)
    assert q == pytest.approx(q1, rel=1e-6) and np.max(np.abs(np.array(v) - v1)) < 1e-6
    assert ce == pytest.approx(ce1, rel=1e-6)


def test_block_preconditioner_solves_the_liquid_newton_system(tmp_path):
    """The Li+ rows carry the migration flux t+ i_e/F: ≈ 10⁴ × stronger in φ_e than in c_e, and
    an indefinite c_e block where t+ κ_D/(F c) > D. CellSystem.newton_system takes t+ × the charge
    rows out of them (system._salt_rows): the same Newton update as LU on the original system, a
    c_e block with a positive diagonal, and a block-AMG GMRES that needs less than half the
    iterations it needs on the original rows at a large time step (on this small planar cell the
    original still converges; on the 3D LIB case it stalled, docs/VERIFICATION.md)."""
    from petsc4py import PETSc

    from fem_assb import linear_solvers
    from fem_assb.electrochem.simulation import Simulation

    sc = lib_planar(tmp_path, current=8.0)
    sc.materials.electrolyte_transference = 0.3
    sim = Simulation(sc, None)
    m, cs = sim.model, sim.newton.system
    xs = m.V_ce.tabulate_dof_coordinates()[:, 0]
    m.c_e.x.array[:] = 2200.0 - 2000.0 * xs / xs.max()  # piled up at the anode, depleted at the cathode
    m.commit()
    m.set_controls(100.0, sim.steps[0].current)
    m.predict(100.0)
    cs.jacobian()

    def solve(op, rhs, iterative):
        if iterative:
            ksp = linear_solvers.block_amg_ksp(op, cs.field_splits())
        else:
            ksp = PETSc.KSP().create(op.comm)
            ksp.setType("preonly")
            linear_solvers.set_direct(ksp.getPC(), 1)
        ksp.setOperators(op)
        ksp.setNormType(PETSc.KSP.NormType.UNPRECONDITIONED)
        ksp.setTolerances(rtol=1e-10, atol=0.0, max_it=200)
        x = rhs.duplicate()
        ksp.solve(rhs, x)
        return x.array.copy(), ksp.getIterationNumber(), ksp.getConvergedReason()

    ref, _, _ = solve(*cs.newton_system(for_blocks=False), iterative=False)
    op, rhs = cs.newton_system(for_blocks=True)
    du, its, reason = solve(op, rhs, iterative=True)
    assert reason > 0 and its <= 30, (its, reason)
    assert np.linalg.norm(du - ref) < 1e-7 * np.linalg.norm(ref)
    ce = cs.field_splits()[-1][1].getIndices()
    _, its_orig, reason_orig = solve(cs.A, cs.b, iterative=True)
    assert op.getDiagonal().array[ce].min() > 0 > cs.A.getDiagonal().array[ce].min()
    assert reason_orig < 0 or its_orig > 2 * its, (its_orig, its)


def test_impedance_with_a_liquid_electrolyte_iterative_matches_direct(tmp_path):
    """The linearisation's K, M and r carry the recombined Li+ rows (CellSystem.linearisation):
    PRESB-preconditioned FGMRES and LU give the same spectrum, down to 0.01 Hz where the
    electrolyte's diffusion shows."""
    from fem_assb.electrochem.impedance import Impedance, frequencies

    sc = lib_planar(tmp_path)
    f = frequencies(1e5, 1e-2, 2)
    z = {}
    for kind in ("direct", "iterative"):
        sc.impedance.linear = kind
        z[kind] = Impedance(sc).sweep(f, progress=False).z
    assert np.max(np.abs(z["iterative"] / z["direct"] - 1)) < 1e-7
    assert np.ptp(z["direct"].real) > 1.0  # Ω cm²: a low-frequency tail, not only the ohmic part
    # the recombination is there: the Li+ rows lose the migration coupling to the potentials
    from petsc4py import PETSc

    cs = Impedance(sc).system
    li, phi = cs.field_splits()[-1][1], cs.field_splits()[0][1]

    def coupling():
        return cs.linearisation()[0].createSubMatrix(li, phi).norm(PETSc.NormType.FROBENIUS)

    recombined = coupling()
    cs._L, L = None, cs._L  # the original Li+ rows
    try:
        original = coupling()
    finally:
        cs._L = L
    assert recombined < 0.02 * original, (recombined, original)
