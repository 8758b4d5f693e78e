"""Sub-grid surface layers: solid diffusion on length scales below the mesh at the CAM|SE interface.

With the seed-001 NMC811 diffusivity (8.71e-13 cm²/s) the Li inserted at a particle surface
penetrates √(D t) ≈ 0.1–1 µm during a discharge, less than a voxel. On the mesh alone the surface
stoichiometry is the average of a cell layer ≈ h/2 deep, so the surface saturates late and the
capacity falls with h at first order (docs/VERIFICATION.md, benchmarks/resolution.py).

Each interface node pair therefore resolves the profile inside its node's control volume with a
1D planar layer under the node's whole interface area W: diffusion depth ℓ = min(V / W, h / 2)
(V the node's CAM volume, h the local cell size; ℓ = V / W = h/2 on a flat voxel face, h/6 at a
convex corner), split into `cells` cells that grow geometrically (ratio GROWTH) from the surface.
At concave nodes V / W exceeds h/2 (up to 7h/6): the inner cell also stores the rest, V/W − ℓ,
as a well-mixed reservoir (a 1D layer deeper than the mesh spacing would reach past the node's
neighbours). The Butler–Volmer current enters the outer cell; the inner cell's Li balance is the
node's equation of the mesh (its lumped storage is replaced by the layer's, its
outflow into the mesh is the node's stiffness rows). What the mesh sees as the node value is
x = 2 ȳ − y(ℓ) (ȳ the layer mean, y(ℓ) the two inner cells extrapolated to the layer's bottom):
for a linear profile that is the surface value, which is what the vertex value of P1 elements
stands for, so with D large the layer is flat and the model is the plain one (second order in h
as before). While the Li has not reached the layer's bottom, x − x0 ≈ 2 (ȳ − x0) drives a leak
into the mesh of a fraction ≈ 4 D t / h² of the inserted Li, drawn from the inner cell, which
can dip below its initial stoichiometry until the Li arrives (planar tests: by 5 % of x0; a 3D
packing at 1 mA/cm²: by 20 %; the run summary's x_Li_range shows it). Extrapolating with the
inner gradient instead, x = y(ℓ) − ℓ y'(ℓ), avoids the dip but amplifies inner-cell differences
≈ 4×; at concave nodes fed by the mesh it drove x below 0.

Fluxes between cells use D at the mean stoichiometry of the two cells, implicitly (backward
Euler, as the mesh). Every flux leaves one store and enters another, so Li is conserved exactly;
the inventory counts the layers instead of the nodes' lumped volume (`content`).

The layer unknowns are eliminated pair by pair in every Newton iteration (static condensation of
the linearised system: one bordered tridiagonal solve per pair), so the global system keeps its
size and sparsity; after the global solve the layers follow from the node updates. Planar
layers neglect curvature and tangential diffusion within ℓ ≤ h/2.

Per-area units: y (stoichiometry), currents A/m², K = F c_max (C/m³).
"""
from __future__ import annotations

import numpy as np

from fem_assb.electrochem.kinetics import limit_stoichiometry_step

#: width ratio of consecutive layer cells, outermost finest
GROWTH = 1.3


def thomas(sub: np.ndarray, diag: np.ndarray, sup: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve many tridiagonal systems at once: rows (P, M) of sub-, main and super-diagonal
    (sub[:, 0] and sup[:, -1] unused), right-hand sides (P, M, k); returns (P, M, k)."""
    n = diag.shape[1]
    c = np.empty_like(diag)
    d = np.empty_like(rhs)
    c[:, 0] = sup[:, 0] / diag[:, 0]
    d[:, 0] = rhs[:, 0] / diag[:, 0, None]
    for j in range(1, n):
        den = diag[:, j] - sub[:, j] * c[:, j - 1]
        c[:, j] = sup[:, j] / den
        d[:, j] = (rhs[:, j] - sub[:, j, None] * d[:, j - 1]) / den[:, None]
    out = np.empty_like(rhs)
    out[:, -1] = d[:, -1]
    for j in range(n - 2, -1, -1):
        out[:, j] = d[:, j] - c[:, j, None] * out[:, j + 1]
    return out


def bordered_thomas(sub, diag, sup, last, rhs):
    """Solve many systems whose first M−1 rows are tridiagonal (sub, diag, sup: (P, M−1); sup's
    last entry couples unknown M) and whose last row `last` (P, M) is full; rhs (P, M, k)."""
    col = np.zeros(diag.shape + (1,))
    col[:, -1, 0] = sup[:, -1]
    uv = thomas(sub, diag, sup, np.concatenate([rhs[:, :-1], col], axis=2))
    u, v = uv[:, :, :-1], uv[:, :, -1]
    y_last = (rhs[:, -1] - np.einsum("pj,pjk->pk", last[:, :-1], u)) / (
        last[:, -1] - np.einsum("pj,pj->p", last[:, :-1], v))[:, None]
    return np.concatenate([u - v[:, :, None] * y_last[:, None, :], y_last[:, None, :]], axis=1)


class SurfaceLayer:
    """Layer geometry and state of the interface pairs on this rank."""

    def __init__(self, node_volume: np.ndarray, node_area: np.ndarray, cell_size: np.ndarray, cells: int,
                 K: float, diffusivity, x0: float):
        if cells < 2:
            raise ValueError("a surface layer needs at least two cells")
        self.K, self.diffusivity = K, diffusivity
        self.depth = node_volume / node_area  # m: the node's storage per interface area
        self.ell = np.minimum(self.depth, 0.5 * cell_size)  # m: the layer's diffusion depth
        frac = GROWTH ** np.arange(cells)
        # cell widths and centre distances are ℓ × these shapes (surface first)
        self._width = frac / frac.sum()
        self._dist = 0.5 * (self._width[:-1] + self._width[1:])
        # node value = Σ_j weights_j y_j = 2 ȳ − y(ℓ), y(ℓ) extrapolated from the two inner cells
        beta = 0.5 * self._width[-1] / self._dist[-1]
        self.weights = 2.0 * self._width
        self.weights[-1] -= 1.0 + beta
        self.weights[-2] += beta
        self.y = np.full((self.ell.size, cells), float(x0))
        self.y_n = self.y.copy()
        self._lin = None

    @property
    def surface(self) -> np.ndarray:
        return self.y[:, 0]

    def widths(self) -> np.ndarray:
        """Cell widths (P, M), m, surface first."""
        return self.ell[:, None] * self._width[None, :]

    def node_value(self) -> np.ndarray:
        """The layer profile as the mesh sees it at the node: 2 ȳ − y(ℓ)."""
        return self.y @ self.weights

    def content(self) -> np.ndarray:
        """Li per interface area / c_max held by each pair's layer, m."""
        return np.sum(self._storage() * self.y, axis=1)

    def _storage(self) -> np.ndarray:
        """Storage width of each cell (P, M), m: the cell widths, the inner cell also holding
        what the node stores beyond the diffusion depth."""
        w = self.widths()
        w[:, -1] += self.depth - self.ell
        return w

    def _fluxes(self):
        """Li currents (A/m²) from each cell into the next deeper one, and their derivatives
        with respect to the upstream and downstream stoichiometry."""
        up, down = self.y[:, :-1], self.y[:, 1:]
        mean = 0.5 * (up + down)
        h = 1e-7
        D = np.broadcast_to(self.diffusivity(mean), mean.shape)
        dD = (np.broadcast_to(self.diffusivity(mean + h), mean.shape)
              - np.broadcast_to(self.diffusivity(mean - h), mean.shape)) / (2 * h)
        inv = self.K / (self.ell[:, None] * self._dist[None, :])
        gam, dgam = inv * D, inv * dD
        diff = up - down
        return gam * diff, gam + 0.5 * dgam * diff, -gam + 0.5 * dgam * diff

    def residual(self, x: np.ndarray, x_n: np.ndarray, dt: float, i_bv: np.ndarray):
        """(local rows (P, M), node row (P,)), A/m². Local: Li balance (storage + outflow −
        inflow) of cells 1 … M−1, the Butler–Volmer current i_bv (< 0 inserts Li) entering cell 1,
        and the node value x minus the extrapolated layer value (× K ℓ/Δt) last. Node row: the inner
        cell's balance without the outflow into the mesh, minus the node's lumped storage that
        the mesh assembles (the layer replaces it)."""
        return self._rows(x, x_n, dt, i_bv, self._fluxes()[0])

    def _rows(self, x, x_n, dt, i_bv, q):
        store = self.K / dt * self._storage() * (self.y - self.y_n)
        r = np.empty_like(self.y)
        r[:, :-1] = store[:, :-1] + q
        r[:, 1:-1] -= q[:, :-1]
        r[:, 0] += i_bv
        r[:, -1] = self.K * self.depth / dt * (x - self.node_value())
        return r, store[:, -1] - q[:, -1] - self.K * self.depth * (x - x_n) / dt

    def condense(self, x, x_n, dt, i_bv, g, g_dl, dibv):
        """Linearise the pair equations and eliminate the layer: the condensed 3 × 3 blocks
        (P, 9; rows e, s, x × columns φ_e, φ_s, x, row-major) and residual corrections (P, 3),
        per area. g = ∂i_bv/∂φ_s, g_dl = ∂i/∂φ_s with the double layer, dibv = ∂i_bv/∂y_surface.
        Keeps what `update` needs."""
        q, dq_up, dq_down = self._fluxes()
        r, _ = self._rows(x, x_n, dt, i_bv, q)
        P, M = self.y.shape
        m = self.K / dt * self._storage()
        s = self.K * self.depth / dt
        # ∂(local rows)/∂y: the cell balances are tridiagonal, the node-value row is full
        diag, sub, sup = np.zeros((P, M - 1)), np.zeros((P, M - 1)), np.zeros((P, M - 1))
        diag[:] = m[:, :-1] + dq_up
        diag[:, 1:] -= dq_down[:, :-1]
        diag[:, 0] += dibv
        sup[:] = dq_down
        sub[:, 1:] = -dq_up[:, :-1]
        rhs = np.zeros((P, M, 4))  # residual, then ∂(local rows)/∂(φ_e, φ_s, x)
        rhs[:, :, 0] = r
        rhs[:, 0, 1], rhs[:, 0, 2], rhs[:, -1, 3] = -g, g, s
        z = bordered_thomas(sub, diag, sup, -s[:, None] * self.weights[None, :], rhs)
        self._lin = z
        zs = z[:, [0, -2, -1], :]  # the cells the pair rows depend on: the outer one and the inner two
        dC = np.zeros((P, 3, 3))
        dC[:, 0, 0], dC[:, 1, 0] = -dibv, dibv
        dC[:, 2, 1], dC[:, 2, 2] = -dq_up[:, -1], m[:, -1] - dq_down[:, -1]
        G = np.zeros((P, 3, 3))
        G[:, 0, :2] = np.stack([g_dl, -g_dl], axis=1)
        G[:, 1, :2] = np.stack([-g_dl, g_dl], axis=1)
        G[:, 2, 2] = -s
        blocks = G - np.einsum("pik,pkj->pij", dC, zs[:, :, 1:])
        return blocks.reshape(P, 9), -np.einsum("pik,pk->pi", dC, zs[:, :, 0])

    def update(self, du_e, du_s, du_x) -> None:
        """Layer Newton update from the node updates (u ← u − du convention); `step` applies it."""
        z = self._lin
        self._base = self.y.copy()
        self.dy = z[:, :, 0] - np.einsum("pkj,pj->pk", z[:, :, 1:], np.stack([du_e, du_s, du_x], axis=1))

    def step(self, lam: float) -> None:
        self.y[:] = limit_stoichiometry_step(self._base, self._base - lam * self.dy)

    def commit(self) -> None:
        self.y_n[:] = self.y

    def restore(self) -> None:
        self.y[:] = self.y_n
