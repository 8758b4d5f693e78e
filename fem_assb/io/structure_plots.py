"""Pictures of voxel structures: three cross-sections and a 3D view."""
from __future__ import annotations

import numpy as np

from fem_assb.phases import Phase

COLORS = {Phase.SE: "#f2c14e", Phase.CAM: "#3b5b92", Phase.BINDER: "#7fb069", Phase.VOID: "#ffffff",
          Phase.CARBON: "#222222", Phase.SEPARATOR: "#e8a33d", Phase.SE_PASSIVE: "#d1495b"}


def cross_sections(labels: np.ndarray, h: float, path: str, title: str = "") -> None:
    """PNG with the mid-planes x = L/2, y = W/2 and z = W/2 (µm axes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    present = [p for p in Phase if np.any(labels == p)]
    lut = {int(p): i for i, p in enumerate(present)}
    cmap = ListedColormap([COLORS.get(p, "#999999") for p in present])
    nx, ny, nz = labels.shape
    cuts = [("x = L/2 (y–z)", labels[nx // 2].T, (0, ny * h, 0, nz * h), "y [µm]", "z [µm]"),
            ("y = W/2 (x–z)", labels[:, ny // 2].T, (0, nx * h, 0, nz * h), "x [µm] (separator → CC)", "z [µm]"),
            ("z = W/2 (x–y)", labels[:, :, nz // 2].T, (0, nx * h, 0, ny * h), "x [µm] (separator → CC)", "y [µm]")]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8))
    for ax, (name, img, ext, xl, yl) in zip(axes, cuts):
        mapped = np.zeros(img.shape, int)
        for p, i in lut.items():
            mapped[img == p] = i
        ax.imshow(mapped, origin="lower", extent=ext, cmap=cmap, vmin=-0.5, vmax=len(present) - 0.5,
                  interpolation="nearest")
        ax.set_title(name)
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
    fig.legend(handles=[Patch(color=COLORS.get(p, "#999999"), label=p.name) for p in present],
               loc="lower center", ncol=len(present), frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def view_3d(image_path: str, h: float, path: str) -> None:
    """3D view of the CAM phase (and passivated SE) rendered off-screen (run via render_in_subprocess)."""
    import pyvista as pv

    labels = np.load(image_path, mmap_mode="r")
    grid = pv.ImageData(dimensions=np.array(labels.shape) + 1, spacing=(h, h, h))
    grid.cell_data["phase"] = np.asarray(labels).ravel(order="F")
    pl = pv.Plotter(off_screen=True, window_size=(1000, 800))
    pl.add_mesh(grid.outline(), color="black")
    cam = grid.threshold([Phase.CAM - 0.5, Phase.CAM + 0.5], scalars="phase")
    if cam.n_cells:
        pl.add_mesh(cam.extract_surface(), color=COLORS[Phase.CAM], smooth_shading=False)
    passive = grid.threshold([Phase.SE_PASSIVE - 0.5, Phase.SE_PASSIVE + 0.5], scalars="phase")
    if passive.n_cells:
        pl.add_mesh(passive.extract_surface(), color=COLORS[Phase.SE_PASSIVE])
    pl.add_axes(xlabel="x (→ CC)", ylabel="y", zlabel="z")
    pl.camera_position = "iso"
    pl.screenshot(path)
