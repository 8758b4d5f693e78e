"""Small-signal impedance of the 3D cell about a rest state (seed 002 Fig. 12).

The model of model.py with double layers at both electrodes, linearised about a uniform rest
state (x_Li everywhere, no current: φ_e = 0, φ_s = U(x_Li)). Its backward-Euler Jacobian is
J(Δt) = K + M/Δt, K the steady conductances (ohmic, charge transfer, diffusion) and M the
storage terms (Li in the CAM, double-layer charge), so two assemblies at different Δt give K and
M exactly — no second set of forms to keep in step with the model. A harmonic current
î e^{iωt} at the current collector then solves (K + iωM) û = −r î, r = ∂F/∂I, here as the real
2 × 2 block system A(ω) [û_re; û_im] = [−r; 0], A = [[K, −ωM], [ωM, K]], with LU (small
cells; linear_solvers.py) or iteratively: flexible GMRES preconditioned by PRESB, P = [[K, −ωM], [ωM, K + 2ωM]]
(Axelsson, Neytcheva & Ahmad 2014), whose inverse needs two solves with K + ωM — the form of a
backward-Euler Jacobian with Δt = 1/ω, so the discharge's block-AMG preconditioner (linear_solvers.block_amg_ksp)
serves unchanged; P⁻¹A has its eigenvalues in [1/2, 1] when K and M are positive definite, so
the iteration count does not grow with the mesh or with ω. The impedance is
Z = −Û/î (Û the area-mean φ̂_s on the current collector; discharge current counted positive, so
Re Z > 0), in Ω cm² of geometric area. The area-mean φ̂_e on the SE face at the anode splits Z
into Z_anode + Z_cathode as a reference electrode at the anode|SE interface would (Z_cathode then
includes the separator): the electrodes' arcs are read from their own spectra, not from a sum in
which a large cathode arc hides the anode's.

Solid diffusion is that of the mesh alone: the sub-grid surface layers of time-domain runs
(`model.surface_layer`) are not part of the linearisation (the run says so). The charge-transfer
and double-layer arcs do not depend on them; a diffusion tail at the lowest frequencies, whose
penetration depth √(D/ω) is nanometres, is not resolved.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fem_assb import linear_solvers
from fem_assb.errors import SolverError
from fem_assb.parallel import peak_memory_mb, progress_logger
from fem_assb.units import OHM_CM2

#: `impedance.linear = "auto"` factorises the 2 × 2 block system below this many
#: unknowns of the cell (twice as many in the block system) and iterates above (benchmarks/impedance.py)
DIRECT_BELOW = 20_000


def frequencies(f_max: float, f_min: float, per_decade: int) -> np.ndarray:
    """Log-spaced frequencies from f_max down to f_min (both included), Hz."""
    n = max(2, int(round(np.log10(f_max / f_min) * per_decade)) + 1)
    return np.logspace(np.log10(f_max), np.log10(f_min), n)


@dataclass
class Spectrum:
    """Z(f) of the cell and of its anode side, Ω cm² of geometric area (f in Hz)."""

    f: np.ndarray
    z: np.ndarray
    z_anode: np.ndarray

    @property
    def z_cathode(self) -> np.ndarray:
        """Separator + cathode: the cell minus the anode side."""
        return self.z - self.z_anode


def single_arc(f: np.ndarray, z: np.ndarray) -> dict:
    """An electrode with one arc (the planar Li anode): its resistance, the span of Re Z, and its
    characteristic frequency, the apex of −Im Z (parabola in ln f through the top samples)."""
    k = int(np.argmax(-z.imag))
    apex = f[k]
    if 0 < k < len(f) - 1:
        lf = np.log(f[k - 1:k + 2])
        a, b, _ = np.polyfit(lf, -z.imag[k - 1:k + 2], 2)
        apex = float(np.exp(-b / (2 * a))) if a < 0 else apex
    return {"f_Hz": float(apex), "arc_resistance_ohm_cm2": float(z.real.max() - z.real.min())}


#: a spectrum whose span of Re Z is below FLAT × |Re Z| has no arcs (numerical noise, not physics:
#: without a capacitance the review found "arcs" of 1e-9 of the spectrum); otherwise an arc counts
#: if its resistance is at least ARC_SHARE of the span (a Li anode's 29 Ω cm² on an 18 kΩ cm²
#: cathode arc is 1.6e-3 of it)
ARC_SHARE, FLAT = 1e-4, 1e-6


def arcs(f: np.ndarray, z: np.ndarray) -> list[dict]:
    """Characteristic frequencies of the arcs, highest first: the peaks of −∂Re Z/∂ln f (for an
    R ∥ C arc a peak of height R/2 at f = 1/(2πRC)). Unlike the apices of −Im Z, these stay
    separate when a small arc (the anode's) sits on the flank of a large one. Peaks below
    ARC_SHARE of the span of Re Z are left out."""
    lf = np.log(f)
    g = -np.gradient(z.real, lf)
    span = float(z.real.max() - z.real.min())
    if span <= FLAT * float(np.abs(z.real).max(initial=0.0)):
        return []
    out = []
    for k in range(1, len(f) - 1):
        if g[k] > g[k - 1] and g[k] >= g[k + 1] and 2 * g[k] >= ARC_SHARE * span:
            a, b, c = np.polyfit(lf[k - 1:k + 2], g[k - 1:k + 2], 2)  # parabola: the peak between samples
            apex, top = (np.exp(-b / (2 * a)), c - b * b / (4 * a)) if a < 0 else (f[k], g[k])
            out.append({"f_Hz": float(apex), "arc_resistance_ohm_cm2": float(2 * top),
                        "re_Z_ohm_cm2": float(z.real[k]), "minus_im_Z_ohm_cm2": float(-z.imag[k])})
    return sorted(out, key=lambda a: -a["f_Hz"])


class Impedance:
    """Linearisation of a scenario's cell about its rest state and the frequency sweep."""

    def __init__(self, sc, comm=None, label: str = ""):
        from mpi4py import MPI

        from fem_assb.electrochem.domains import build_domains
        from fem_assb.electrochem.model import ElectrochemModel
        from fem_assb.electrochem.system import CellSystem
        from fem_assb.materials.library import resolve
        from fem_assb.mesh.build import scenario_mesh

        self.comm = comm or MPI.COMM_WORLD
        self.log = progress_logger(self.comm, label or sc.name)
        self.sc = sc
        self.mats = resolve(sc.materials)
        self.structure, self.tm = scenario_mesh(sc, sc.separator_um(self.mats), not self.mats.liquid, comm=self.comm)
        self.doms = build_domains(self.tm)
        self.model = ElectrochemModel(self.doms, self.mats, double_layer=True, collector=sc.collector.kind,
                                      contact_ohm_m2=sc.collector.contact_resistance_ohm_cm2 * OHM_CM2)
        if self.mats.cam.c_dl == 0 and self.mats.anode.c_dl == 0:
            from fem_assb.parallel import warn

            warn(f"material set {self.mats.name} has no double-layer capacitance (CAM and anode C_DL = 0): the "
                 "spectrum has no charge-transfer arcs, only the ohmic part and solid diffusion", self.comm)
        self.system = CellSystem(self.model)
        n = self.system.n_dofs
        self.kind = sc.impedance.linear if sc.impedance.linear != "auto" else (
            "direct" if n < DIRECT_BELOW else "iterative")
        cam = self.mats.cam
        self.x_rest = sc.impedance.rest_x_Li if sc.impedance.rest_x_Li is not None else cam.x0
        self.K, self.M, self.r = self._linearise()

    def _linearise(self):
        self.model.set_equilibrium(self.x_rest)
        return self.system.linearisation()

    def sweep(self, freqs: np.ndarray, progress: bool = True) -> Spectrum:
        """Z(f) of the cell and of its anode side, Ω cm², for each frequency."""
        solver = (_DirectBlockSolver if self.kind == "direct" else _PresbSolver)(self)
        z = np.zeros(len(freqs), complex)
        z_an = np.zeros(len(freqs), complex)
        t0 = time.perf_counter()
        try:
            for k, f in enumerate(freqs):
                u_re, u_im = solver.solve(2 * np.pi * f, f)
                (v_re, a_re), (v_im, a_im) = self._potentials(u_re), self._potentials(u_im)
                z[k] = -complex(v_re, v_im) * 1e4  # Ω m² → Ω cm²
                z_an[k] = -complex(a_re, a_im) * 1e4
                if progress and (k % 10 == 0 or k == len(freqs) - 1):
                    eta = (time.perf_counter() - t0) / (k + 1) * (len(freqs) - k - 1)
                    self.log(f"f {f:10.4g} Hz  Z = {z[k].real:10.4g} {z[k].imag:+10.4g}i Ω cm²  "
                             f"({k + 1}/{len(freqs)}{solver.progress()}, ETA {eta / 60:.1f} min)")
        finally:
            self.linear_stats = {"solver": self.kind, **solver.stats}
            solver.free()
        self.model.set_equilibrium(self.x_rest)
        return Spectrum(np.asarray(freqs), z, z_an)

    def _potentials(self, owned: np.ndarray) -> tuple[float, float]:
        """Of a perturbation (owned block-vector values): the collector potential and the
        area-mean φ_e on the anode face."""
        from petsc4py import PETSc

        vec = self.system.du
        vec.array[:] = owned
        vec.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        parts = self.system.owned_parts(vec)
        m = self.model
        for u, part in zip(m.unknowns, parts):
            u.x.array[:] = part
        return m.voltage(), m.anode_face_potential()


class _DirectBlockSolver:
    """MUMPS LU of the assembled real 2 × 2 block system, refactorised at each frequency."""

    def __init__(self, imp: Impedance):
        from petsc4py import PETSc

        K, M, comm = imp.K, imp.M, imp.comm
        self.Mneg = M.copy()
        self.Mneg.scale(-1.0)
        self.B0 = PETSc.Mat().createNest([[K, None], [None, K]], comm=comm).convert("aij")
        self.B1 = PETSc.Mat().createNest([[None, self.Mneg], [M, None]], comm=comm).convert("aij")
        self.A = self.B0.copy()
        self.A.axpy(1.0, self.B1, PETSc.Mat.Structure.DIFFERENT_NONZERO_PATTERN)
        self.ksp = PETSc.KSP().create(comm)
        self.ksp.setOperators(self.A)
        self.ksp.setType("preonly")
        linear_solvers.set_direct(self.ksp.getPC(), comm.size)
        self.x, self.b = self.A.createVecs()
        self.n = imp.r.getLocalSize()
        self.b.array[:self.n] = -imp.r.array_r
        self.b.array[self.n:] = 0.0

    def solve(self, omega: float, f: float) -> tuple[np.ndarray, np.ndarray]:
        from petsc4py import PETSc

        A = self.A
        A.zeroEntries()
        A.axpy(1.0, self.B0, PETSc.Mat.Structure.SUBSET_NONZERO_PATTERN)
        A.axpy(omega, self.B1, PETSc.Mat.Structure.SUBSET_NONZERO_PATTERN)
        self.ksp.setOperators(A)
        self.ksp.solve(self.b, self.x)
        _check(self.ksp, f)
        u = self.x.array_r
        return u[:self.n], u[self.n:]

    def progress(self) -> str:
        return ""

    stats: dict = {}

    def free(self):
        for obj in (self.A, self.B0, self.B1, self.Mneg, self.ksp, self.x, self.b):
            obj.destroy()


class _PresbSolver:
    """Flexible GMRES on the block system as a matrix-free operator, preconditioned by PRESB
    (module docstring); the inner solves with K + ωM are block-AMG GMRES to `INNER_RTOL`. The
    previous frequency's solution starts the next one."""

    RTOL = 1e-9  # outer, on the unpreconditioned residual
    INNER_RTOL = 1e-2

    def __init__(self, imp: Impedance):
        from petsc4py import PETSc

        self.K, self.M, comm = imp.K, imp.M, imp.comm
        self.omega = 0.0
        self.S = self.K.copy()
        self.inner = linear_solvers.block_amg_ksp(self.S, imp.system.field_splits(), restart=60)
        self.inner.setTolerances(rtol=self.INNER_RTOL, atol=0.0, max_it=200)
        (n, N), _ = self.K.getSizes()
        self.n = n
        self.w = [self.K.createVecRight() for _ in range(4)]
        self.A = PETSc.Mat().createPython(((2 * n, 2 * N), (2 * n, 2 * N)), context=self, comm=comm)
        self.A.setUp()
        self.ksp = PETSc.KSP().create(comm)
        self.ksp.setOperators(self.A)
        self.ksp.setType("fgmres")
        self.ksp.setGMRESRestart(100)
        self.ksp.setTolerances(rtol=self.RTOL, atol=0.0, max_it=1000)
        self.ksp.setInitialGuessNonzero(True)
        pc = self.ksp.getPC()
        pc.setType("python")
        pc.setPythonContext(self)  # its apply() is P⁻¹
        self.x, self.b = self.A.createVecs()
        self.x.set(0.0)
        self.b.array[:n] = -imp.r.array_r
        self.b.array[n:] = 0.0
        self.iterations = self.inner_iterations = self._last = 0

    def split(self, v, re, im):
        arr = v.array_r
        re.array[:] = arr[:self.n]
        im.array[:] = arr[self.n:]

    def join(self, re, im, v):
        arr = v.array
        arr[:self.n] = re.array_r
        arr[self.n:] = im.array_r

    def inner_solve(self, rhs, out):
        """out ≈ S⁻¹ rhs; an inner solve short of INNER_RTOL is no failure, the outer FGMRES
        absorbs it."""
        self.inner.solve(rhs, out)
        self.inner_iterations += self.inner.getIterationNumber()

    def solve(self, omega: float, f: float) -> tuple[np.ndarray, np.ndarray]:
        from petsc4py import PETSc

        self.omega = omega
        self.K.copy(self.S, PETSc.Mat.Structure.SAME_NONZERO_PATTERN)
        self.S.axpy(omega, self.M, PETSc.Mat.Structure.SAME_NONZERO_PATTERN)
        self.inner.setOperators(self.S)  # a new AMG hierarchy for this frequency
        self.ksp.solve(self.b, self.x)
        _check(self.ksp, f)
        self._last = self.ksp.getIterationNumber()
        self.iterations += self._last
        u = self.x.array_r
        return u[:self.n].copy(), u[self.n:].copy()

    def progress(self) -> str:
        return f", {self._last} FGMRES iterations"

    @property
    def stats(self) -> dict:
        return {"outer_iterations": self.iterations, "inner_iterations": self.inner_iterations}

    def mult(self, mat, x, y):
        """y = A(ω) x, A = [[K, −ωM], [ωM, K]] never assembled (the Python matrix context)."""
        xr, xi, yr, yi = self.w
        self.split(x, xr, xi)
        self.K.mult(xr, yr)
        self.M.mult(xi, yi)
        yr.axpy(-self.omega, yi)  # K x_re − ωM x_im
        self.M.mult(xr, yi)
        yi.scale(self.omega)
        self.K.multAdd(xi, yi, yi)  # ωM x_re + K x_im
        self.join(yr, yi, y)

    def apply(self, pc, v, out):
        """[x; y] = P⁻¹ [f; g]: h = S⁻¹(f + g), y = S⁻¹(K h − f), x = h − y, S = K + ωM (the
        Python preconditioner context)."""
        f, g, h, y = self.w
        self.split(v, f, g)
        g.axpy(1.0, f)  # f + g
        self.inner_solve(g, h)
        self.K.mult(h, g)
        g.axpy(-1.0, f)  # K h − f
        self.inner_solve(g, y)
        h.axpy(-1.0, y)
        self.join(h, y, out)

    def free(self):
        for obj in (self.A, self.ksp, self.inner, self.S, self.x, self.b, *self.w):
            obj.destroy()


def _check(ksp, f: float) -> None:
    if ksp.getConvergedReason() < 0:
        raise SolverError(f"impedance solve failed at f = {f:.4g} Hz (PETSc reason {ksp.getConvergedReason()}, "
                          f"{ksp.getIterationNumber()} iterations)")


def run_impedance(sc, folder: Path | None = None, comm=None) -> tuple[dict, Spectrum]:
    """Spectrum of a scenario: (summary, spectrum), also written as impedance.csv, nyquist.png and
    summary.json into `folder` unless it is None."""
    from mpi4py import MPI

    from fem_assb.io.tables import write_csv
    from fem_assb.io.atomic import atomic_write_json

    comm = comm or MPI.COMM_WORLD
    t0 = time.perf_counter()
    folder = Path(folder) if folder is not None else None
    if comm.rank == 0 and folder:
        folder.mkdir(parents=True, exist_ok=True)
    imp = Impedance(sc, comm, folder.name if folder else sc.name)
    cfg = sc.impedance
    f = frequencies(cfg.f_max_Hz, cfg.f_min_Hz, cfg.per_decade)
    imp.log(f"impedance of {sc.name}: {len(f)} frequencies {cfg.f_max_Hz:g} → {cfg.f_min_Hz:g} Hz, "
            f"{imp.system.n_dofs} unknowns (× 2 for real and imaginary parts, {imp.kind} solver), rest state x_Li = {imp.x_rest:.4f}; "
            "solid diffusion on the mesh only (model.surface_layer is a time-domain setting)")
    sp = imp.sweep(f)
    memory = comm.gather(peak_memory_mb(), root=0)
    z = sp.z
    el = imp.mats.electrolyte
    summary = {
        "scenario": sc.name, "materials": imp.mats.name, "rest_x_Li": imp.x_rest,
        "rest_voltage_V": float(imp.mats.cam.ocv(imp.x_rest)),
        "f_max_Hz": float(f[0]), "f_min_Hz": float(f[-1]), "frequencies": len(f),
        "high_frequency_re_Z_ohm_cm2": float(z[0].real), "low_frequency_re_Z_ohm_cm2": float(z[-1].real),
        "separator_resistance_ohm_cm2": imp.structure.separator_um * 1e-4 / (el.kappa * 1e-2),
        "arcs": arcs(f, z), "anode_arc": single_arc(f, sp.z_anode), "cathode_arcs": arcs(f, sp.z_cathode),
        "dofs": imp.system.n_dofs, "ranks": comm.size, "linear": imp.linear_stats,
        "cc_contact_ratio": imp.doms.area_cc / imp.doms.area_geometric,
        "interface_area_per_area": imp.doms.area_interface / imp.doms.area_geometric,
        "wall_time_s": time.perf_counter() - t0, "peak_memory_mb_per_rank": memory,
        "units": {"Z": "Ω cm² of geometric area", "separator_resistance_ohm_cm2": "separator thickness / κ",
                  "anode_arc, cathode_arcs": "from the split at the anode|SE face (cathode side incl. separator)"},
    }
    if comm.rank == 0 and folder:
        cols = ["f_Hz", "re_Z_ohm_cm2", "minus_im_Z_ohm_cm2", "re_Z_anode_ohm_cm2", "minus_im_Z_anode_ohm_cm2",
                "re_Z_cathode_ohm_cm2", "minus_im_Z_cathode_ohm_cm2"]
        za, zc = sp.z_anode, sp.z_cathode
        write_csv(folder / "impedance.csv", cols, [dict(zip(cols, v)) for v in
                                                   zip(f, z.real, -z.imag, za.real, -za.imag, zc.real, -zc.imag)])
        if "plots" in sc.output.exports:
            nyquist(folder / "nyquist.png", {sc.name: (f, z), "anode side": (f, za),
                                             "separator + cathode": (f, zc)}, summary["arcs"])
        atomic_write_json(folder / "summary.json", summary)
    comm.barrier()
    return summary, sp


def nyquist(path: Path, spectra: dict, arcs_: list | None = None) -> None:
    """Nyquist plot (equal axes) of one or more spectra: label → (f, Z)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.8))
    for label, (f, z) in spectra.items():
        ax.plot(z.real, -z.imag, "o-", ms=3, label=label)
    for a in arcs_ or []:
        ax.annotate(f"{a['f_Hz']:.3g} Hz", (a["re_Z_ohm_cm2"], a["minus_im_Z_ohm_cm2"]), fontsize=8,
                    textcoords="offset points", xytext=(0, 6), ha="center")
    ax.set_xlabel("Re Z [Ω cm²]")
    ax.set_ylabel("−Im Z [Ω cm²]")
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
