"""Results of an electrochemical run: ParaView fields, tables, summary quantities, plots.

Fields (XDMF, one file per submesh, a time series each): `electrolyte.xdmf` with φ_e [V],
the ionic current density j [A/m²] (−κ∇φ_e in a solid electrolyte; with a liquid one the
concentrated-solution current incl. its diffusion part; cell-wise vector and magnitude), the
phase tag and, with a liquid electrolyte, its Li+ concentration c_e [mol/m³]; `cam.xdmf` with φ_s [V], the stoichiometry x_Li = c/c_max of each node's volume (sub-grid
surface layers included), the utilization η_CAM = (c − c0)/(c_max − c0) and x_Li_surface, the
stoichiometry at the particle surface where the CAM meets the SE (what the kinetics see; equal
to x_Li elsewhere) and collector_current_density [A/m² of contact], the current from the CAM
into the current collector (zero off the collector). Coordinates are in metres.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fem_assb.errors import InputError
from fem_assb.io.tables import write_columns
from fem_assb.io.paraview import write_view_script
from fem_assb.parallel import log
from fem_assb.units import F, MAH_CM2

FIELD_FILES = ("electrolyte.xdmf", "electrolyte.h5", "cam.xdmf", "cam.h5")
TIMESERIES_COLUMNS = ["step", "protocol_step", "kind", "t_s", "current_mA_cm2", "voltage_V",
                      "capacity_mAh_cm2", "energy_mWh_cm2", "mean_utilization", "dt_s", "newton_its", "linear_its"]


class FieldWriter:
    """Time series of the 3D fields, written collectively by all ranks."""

    def __init__(self, model, folder: Path, append: bool = False):
        import dolfinx.fem
        import ufl

        from fem_assb import fenicsx

        self.model = model
        comm = model.doms.comm
        mode = "a" if append and (folder / "electrolyte.xdmf").exists() else "w"
        if mode == "a" and not self._open(folder, "a"):
            # a run killed while writing leaves HDF5 files that cannot be reopened: keep them
            # aside and continue the series in new files
            if comm.rank == 0:
                for name in FIELD_FILES:
                    if (folder / name).exists():
                        (folder / name).replace(folder / f"{name}.interrupted")
            comm.barrier()
            log(f"{folder}: field files unreadable after the interruption, kept as *.interrupted; "
                "the resumed run writes new ones (fields from the checkpoint on)", c=comm)
            mode = "w"
        d = model.doms
        if mode == "w":
            if not self._open(folder, "w"):
                raise InputError(f"{folder}: cannot create the field files electrolyte.xdmf and cam.xdmf")
            self.se.write_mesh(d.se_mesh)
            self.cam.write_mesh(d.cam_mesh)
            if comm.rank == 0:
                write_view_script(folder)
        Q = dolfinx.fem.functionspace(d.se_mesh, ("DG", 0, (3,)))
        Q0 = dolfinx.fem.functionspace(d.se_mesh, ("DG", 0))
        self.j = dolfinx.fem.Function(Q, name="ionic_current_density")
        self.jmag = dolfinx.fem.Function(Q0, name="ionic_current_density_magnitude")
        self.phase = dolfinx.fem.Function(Q0, name="phase")
        tags = d.tm.cell_tags
        phase_of = np.zeros(d.tm.mesh.topology.index_map(3).size_local + d.tm.mesh.topology.index_map(3).num_ghosts)
        phase_of[tags.indices] = tags.values
        n_se = d.se_to_parent.size
        self.phase.x.array[Q0.dofmap.list[np.arange(n_se), 0]] = phase_of[d.se_to_parent]
        self._j_expr = dolfinx.fem.Expression(model.i_e, fenicsx.interpolation_points(Q.element))
        self._jm_expr = dolfinx.fem.Expression(ufl.sqrt(ufl.inner(model.i_e, model.i_e)),
                                               fenicsx.interpolation_points(Q0.element))
        self.x = dolfinx.fem.Function(model.V_c, name="x_Li")
        self.x_surface = dolfinx.fem.Function(model.V_c, name="x_Li_surface")
        self.util = dolfinx.fem.Function(model.V_c, name="utilization")
        self.i_cc = dolfinx.fem.Function(model.V_s, name="collector_current_density")
        self._x0 = model.mats.cam.x0

    def _open(self, folder: Path, mode: str) -> bool:
        """Open both XDMF files on all ranks; False (nothing left open) if any rank failed."""
        import dolfinx.io
        from mpi4py import MPI

        comm = self.model.doms.comm
        files = []
        try:
            for name in ("electrolyte.xdmf", "cam.xdmf"):
                files.append(dolfinx.io.XDMFFile(comm, str(folder / name), mode))
        except RuntimeError:
            pass
        if comm.allreduce(len(files), op=MPI.MIN) < 2:
            for f in files:
                f.close()
            return False
        self.se, self.cam = files
        return True

    def write(self, t: float) -> None:
        """Fields at time t (once: a second request for the same time, e.g. a snapshot that is
        also the end of a step, is ignored)."""
        if t == getattr(self, "_last_t", None):
            return
        self._last_t = t
        m = self.model
        self.j.interpolate(self._j_expr)
        self.jmag.interpolate(self._jm_expr)
        self.x.x.array[:] = m.node_stoichiometry()
        self.x_surface.x.array[:] = m.surface_field()
        self.util.x.array[:] = (self.x.x.array - self._x0) / (1.0 - self._x0)
        self.i_cc.x.array[:] = 0.0
        self.i_cc.x.array[m.collector.dofs] = m.collector.current_density(m.i_app)
        self.i_cc.x.scatter_forward()
        for f in (m.phi_e, self.j, self.jmag, self.phase) + ((m.c_e,) if m.liquid else ()):
            self.se.write_function(f, t)
        for f in (m.phi_s, self.x, self.x_surface, self.util, self.i_cc):
            self.cam.write_function(f, t)

    def close(self):
        self.se.close()
        self.cam.close()


def lumped_weights(model):
    """∫ w_i dx over the CAM (vertex rule) for each owned dof, and the dof x-coordinates."""
    import dolfinx.fem
    import dolfinx.fem.petsc
    import ufl

    w = ufl.TestFunction(model.V_c)
    vec = dolfinx.fem.petsc.assemble_vector(dolfinx.fem.form(w * model.doms.dx_cam_lumped))
    from petsc4py import PETSc

    vec.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    n = model.V_c.dofmap.index_map.size_local
    return vec.getArray()[:n].copy(), model.V_c.tabulate_dof_coordinates()[:n, 0]


def profile(model, bin_um: float, x_start_um: float, length_um: float) -> dict:
    """Utilization and cumulative capacity along x (bins from the separator to the collector)."""
    from fem_assb.parallel import allsum

    weights, x = lumped_weights(model)
    n = model.V_c.dofmap.index_map.size_local
    s = model.node_stoichiometry()[:n]
    cam = model.mats.cam
    edges = x_start_um + np.arange(0.0, length_um + 0.5 * bin_um, bin_um)
    edges[-1] = x_start_um + length_um
    xi = np.clip(x / 1e-6, edges[0], edges[-1])  # nodes on the end planes: round-off must not drop them
    c = model.doms.comm
    vol = allsum(np.histogram(xi, edges, weights=weights)[0], c)
    li = allsum(np.histogram(xi, edges, weights=weights * (s - cam.x0))[0], c)
    util = np.divide(li, vol * (1 - cam.x0), out=np.full_like(li, np.nan), where=vol > 0)
    cap = np.cumsum(li * cam.c_max * F) / model.doms.area_geometric / MAH_CM2  # mAh/cm²
    out = {"x_um": 0.5 * (edges[1:] + edges[:-1]) - x_start_um, "cam_volume_fraction_weight": vol,
           "utilization": util, "cumulative_capacity_mAh_cm2": cap}
    if model.liquid:  # the electrolyte's Li+, averaged over its pore volume per bin
        import dolfinx.fem
        import dolfinx.fem.petsc
        import ufl
        from petsc4py import PETSc

        vec = dolfinx.fem.petsc.assemble_vector(dolfinx.fem.form(
            model.porosity * ufl.TestFunction(model.V_ce) * model.doms.dx_se_lumped))
        vec.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        ne = model.V_ce.dofmap.index_map.size_local
        we, xe = vec.getArray()[:ne].copy(), model.V_ce.tabulate_dof_coordinates()[:ne, 0] / 1e-6
        xe = np.clip(xe, edges[0], edges[-1])
        pore = allsum(np.histogram(xe, edges, weights=we)[0], c)
        salt = allsum(np.histogram(xe, edges, weights=we * model.c_e.x.array[:ne])[0], c)
        out["c_e_mol_m3"] = np.divide(salt, pore, out=np.full_like(salt, np.nan), where=pore > 0)
    return out


def collector_face(model) -> dict | None:
    """The CAM nodes on the current collector (gathered on rank 0, None elsewhere): y, z [µm],
    contact area w [µm²], current density into the collector [mA/cm² of contact] and x_Li of
    the node — the maps of seed 002 Fig. 9."""
    c = model.collector
    y, z = (model.V_s.tabulate_dof_coordinates()[c.dofs, k] / 1e-6 for k in (1, 2))
    assert np.array_equal(model.V_s.dofmap.list, model.V_c.dofmap.list)  # φ_s and x_Li dofs coincide
    cols = {"y_um": y, "z_um": z, "w_um2": c.w / 1e-12, "current_density_mA_cm2": c.current_density(model.i_app) / 10.0,
            "x_Li": model.node_stoichiometry()[c.dofs]}
    parts = {k: model.doms.comm.gather(v, root=0) for k, v in cols.items()}
    return {k: np.concatenate(v) for k, v in parts.items()} if model.doms.comm.rank == 0 else None


def masses_per_area(structure_info: dict, mats) -> dict:
    """Masses (g/cm²) for seed 001 SI eq. 3: cathode composite, SE separator, matched Li anode."""
    cam, el, an = mats.cam, mats.electrolyte, mats.anode
    area_cm2 = structure_info["area_m2"] * 1e4
    m_cam = cam.density * structure_info["volume_cam_m3"] / area_cm2 * 1e3  # kg/m³·m³/cm² → g/cm²
    rho_se = el.density or 0.0
    m_se = rho_se * structure_info["volume_se_m3"] / area_cm2 * 1e3
    m_sep = rho_se * structure_info["separator_um"] * 1e-6 * 1e-4 * 1e3  # per cm²
    cap_theo = structure_info["theoretical_capacity_mAh_cm2"]
    m_an = cap_theo / (an.specific_capacity / 3.6)  # mAh/cm² / (mAh/g)
    return {"cam_g_cm2": m_cam, "se_composite_g_cm2": m_se, "cathode_g_cm2": m_cam + m_se,
            "separator_g_cm2": m_sep, "anode_g_cm2": m_an, "total_g_cm2": m_cam + m_se + m_sep + m_an,
            "note": "" if el.density else f"{el.name} has no density: SE mass not counted"}


def write_profile(path: Path, prof: dict) -> None:
    cols = ("x_um", "utilization", "cumulative_capacity_mAh_cm2") + (("c_e_mol_m3",) if "c_e_mol_m3" in prof else ())
    write_columns(path, {c: prof[c] for c in cols})


def plot_voltage(rows: list[dict], path: Path, title: str, cutoff: float | None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    q = [r["capacity_mAh_cm2"] for r in rows]
    ax.plot(q, [r["voltage_V"] for r in rows], "-", lw=1.8)
    if cutoff:
        ax.axhline(cutoff, color="gray", ls=":", lw=1)
    ax.set_xlabel("capacity [mAh/cm²]")
    ax.set_ylabel("cell voltage [V]")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_profile(prof: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ax.plot(prof["x_um"], prof["utilization"], "-o", ms=3)
    ax.set_xlabel("x from separator [µm]")
    ax.set_ylabel("CAM utilization η_CAM", color="C0")
    ax.set_ylim(0, 1)
    ax2 = ax.twinx()
    ax2.plot(prof["x_um"], prof["cumulative_capacity_mAh_cm2"], color="C1")
    ax2.set_ylabel("cumulative capacity [mAh/cm²]", color="C1")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
