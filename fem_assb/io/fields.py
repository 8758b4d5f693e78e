"""Reading back the fields of a run (the XDMF files DOLFINx wrote) and rendering one of them,
e.g. the ionic current density at cut-off (seed 001 Fig. 6d), without ParaView."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from fem_assb.errors import InputError

VTK_CELL = {"Hexahedron": 12, "Tetrahedron": 10}


def _h5(folder: Path, item: ET.Element) -> np.ndarray:
    import h5py

    file, _, dataset = item.text.strip().partition(":")
    with h5py.File(folder / file, "r") as f:
        return f[dataset][()]


def read_last(xdmf: str | Path, name: str) -> tuple[np.ndarray, np.ndarray, str, np.ndarray, str, float]:
    """Mesh (points in m, cells in VTK order, cell type) and the last time step of field `name`
    (values, centre 'Cell' or 'Node', time in s)."""
    xdmf = Path(xdmf)
    try:
        root = ET.parse(xdmf).getroot()
    except (OSError, ET.ParseError) as e:
        raise InputError(f"{xdmf}: cannot be read as XDMF: {e}") from None
    domain = root.find("Domain")
    mesh = domain.find("Grid[@GridType='Uniform']")
    topo = mesh.find("Topology")
    cells = _h5(xdmf.parent, topo.find("DataItem"))
    points = _h5(xdmf.parent, mesh.find("Geometry/DataItem"))
    series = domain.find(f"Grid[@Name='{name}']")
    if series is None:
        names = [g.get("Name") for g in domain.findall("Grid[@GridType='Collection']")]
        raise InputError(f"{xdmf}: no field '{name}' (has {', '.join(names)})")
    last = series.findall("Grid")[-1]
    att = last.find("Attribute")
    values = _h5(xdmf.parent, att.find("DataItem"))
    return points, cells, topo.get("TopologyType"), values, att.get("Center"), float(last.find("Time").get("Value"))


def render_field(xdmf: str, name: str, png: str, title: str = "", label: str = "", scale: float = 1.0,
                 clim: list | None = None) -> None:
    """3D picture of a cell or node field at its last time step (run via render_in_subprocess)."""
    import pyvista as pv

    points, cells, kind, values, centre, t = read_last(xdmf, name)
    n = cells.shape[1]
    conn = np.hstack([np.full((len(cells), 1), n), cells]).ravel()
    grid = pv.UnstructuredGrid(conn, np.full(len(cells), VTK_CELL[kind], np.uint8), points * 1e6)  # µm
    data = values.reshape(len(cells) if centre == "Cell" else len(points), -1)
    data = np.linalg.norm(data, axis=1) if data.shape[1] > 1 else data[:, 0]
    (grid.cell_data if centre == "Cell" else grid.point_data)[label or name] = data * scale
    pl = pv.Plotter(off_screen=True, window_size=(1100, 800))
    pl.add_mesh(grid, scalars=label or name, cmap="jet", clim=clim,
                scalar_bar_args={"title": label or name, "vertical": True})
    pl.add_text(f"{title}  (t = {t / 3600:.3f} h)", font_size=11)
    pl.add_axes(xlabel="x (→ CC)", ylabel="y", zlabel="z")
    pl.camera_position = "iso"
    pl.screenshot(png)
