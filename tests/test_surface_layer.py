"""The sub-grid surface layer's algebra (electrochem/surface_layer.py), checked against finite
differences of its own residuals; its physics is checked against a resolved 1D reference in
test_electrochem.py."""
import numpy as np
import pytest

from fem_assb.electrochem.surface_layer import SurfaceLayer

K = 4.7e9  # F c_max, C/m³


def diffusivity(x):
    return 1e-16 * (1.0 + 3.0 * (1.0 - x) ** 2)  # m², stoichiometry-dependent on purpose


def layer(cells=6, ell=0.7e-6, reservoir=False):
    """One pair with depth V/W = ell; with `reservoir` the cell size caps the diffusion depth at
    ell/2 and the inner cell stores the rest (a concave node)."""
    size = ell if reservoir else 2 * ell
    return SurfaceLayer(np.array([ell * 2e-12]), np.array([2e-12]), np.array([size]), cells, K, diffusivity, 0.3)


@pytest.mark.parametrize("cells", [2, 5, 16])
def test_node_value_is_the_surface_value_of_a_linear_profile(cells):
    lay = layer(cells)
    w = lay.widths()[0]
    z = np.cumsum(w) - 0.5 * w  # cell centres
    lay.y[0] = 0.4 + 0.1 * z / lay.ell[0]
    assert lay.node_value()[0] == pytest.approx(0.4, abs=1e-12)
    lay.y[0] = 0.55
    assert lay.node_value()[0] == pytest.approx(0.55, abs=1e-12)
    assert lay.content()[0] == pytest.approx(0.55 * lay.ell[0])
    concave = layer(cells, reservoir=True)
    assert concave.ell[0] == pytest.approx(0.5 * concave.depth[0])
    concave.y[0] = 0.55
    assert concave.content()[0] == pytest.approx(0.55 * concave.depth[0])  # the reservoir holds the rest


def _pair_rows(lay, u, x_n, dt, ibv):
    """All rows of one pair (e, s, x, then the layer) at u = (φ_e, φ_s, x, y...)."""
    lay.y[0] = u[3:]
    i = ibv(u[1] - u[0], u[3])
    r, r_x = lay.residual(np.array([u[2]]), np.array([x_n]), dt, np.array([i]))
    return np.concatenate([[-i, i, r_x[0]], r[0]])


@pytest.mark.parametrize("cells, reservoir", [(2, False), (6, False), (6, True)])
def test_condensed_blocks_are_the_schur_complement_of_the_full_jacobian(cells, reservoir):
    lay = layer(cells, reservoir=reservoir)
    dt, x_n = 3.0, 0.31
    lay.y_n[0] = np.linspace(0.36, 0.31, lay.y.shape[1])
    y = np.linspace(0.42, 0.32, lay.y.shape[1])

    def ibv(delta, ys):  # Butler–Volmer-like: −(charge transfer) with a stoichiometry factor
        return -2.0 * np.sqrt(ys * (1 - ys)) * np.sinh(20.0 * (4.0 - delta - ys))

    u = np.concatenate([[0.01, 3.9, 0.33], y])
    n = u.size
    J = np.zeros((n, n))
    for k in range(n):
        e = np.zeros(n)
        e[k] = 1e-7
        J[:, k] = (_pair_rows(lay, u + e, x_n, dt, ibv) - _pair_rows(lay, u - e, x_n, dt, ibv)) / 2e-7
    rows = _pair_rows(lay, u, x_n, dt, ibv)
    G, C, B, A = J[:3, :3], J[:3, 3:], J[3:, :3], J[3:, 3:]
    schur = G - C @ np.linalg.solve(A, B)
    corr = -C @ np.linalg.solve(A, rows[3:])
    lay.y[0] = y
    h = 1e-7  # analytic derivatives of ibv for condense()
    d = u[1] - u[0]
    g = (ibv(d + h, y[0]) - ibv(d - h, y[0])) / (2 * h)
    dibv = (ibv(d, y[0] + h) - ibv(d, y[0] - h)) / (2 * h)
    blocks, corrections = lay.condense(np.array([u[2]]), np.array([x_n]), dt, np.array([ibv(d, y[0])]),
                                       np.array([g]), np.array([g]), np.array([dibv]))
    assert np.allclose(blocks.reshape(3, 3), schur, rtol=1e-5, atol=1e-6 * np.abs(schur).max())
    assert np.allclose(corrections[0], corr, rtol=1e-5, atol=1e-6 * np.abs(corr).max())
    # the layer update solves the layer rows of the full Newton system for given node updates
    du = np.array([1e-3, -2e-3, 4e-3])
    lay.update(*du[:, None])
    assert np.allclose(lay.dy[0], np.linalg.solve(A, rows[3:] - B @ du), rtol=1e-5, atol=1e-9)
