"""Structure analysis: interface area correction, D_SCA, percolation, capacity, image I/O."""
import json

import numpy as np
import pytest

from fem_assb.microstructure.analysis import analyze, d_sca, interface_area, percolation
from fem_assb.microstructure.imageio import read_image, write_image
from fem_assb.phases import Phase


def ball(r, offset, pad=3):
    n = int(2 * r + 2 * pad)
    c = np.array([n / 2 + o for o in offset])
    g = np.indices((n, n, n)).astype(float) + 0.5
    inside = np.sum((g - c[:, None, None, None]) ** 2, axis=0) <= r * r
    return np.where(inside, Phase.CAM, Phase.SE).astype(np.uint8)


OFFSETS = [(0.5, 0.5, 0.5), (0.13, 0.37, 0.71), (0.9, 0.2, 0.45)]


def test_sphere_interface_area_converges_with_correction():
    errs = []
    for r in (4, 8, 16, 32):
        e = [abs(interface_area(ball(r, o), 1.0) / (4 * np.pi * r * r) - 1) for o in OFFSETS]
        errs.append(max(e))
    assert errs == sorted(errs, reverse=True) and errs[-1] < 0.005
    # without the 2/3 correction the staircase overestimates by ≈ 3/2
    raw = interface_area(ball(32, OFFSETS[1]), 1.0, corrected=False) / (4 * np.pi * 32 ** 2)
    assert raw == pytest.approx(1.5, abs=0.01)


def test_packing_interface_area_converges():
    """Several separated spheres at decreasing voxel size (same geometry in µm)."""
    centers = np.array([[6.0, 6.0, 6.0], [17.3, 7.1, 15.2], [8.2, 18.1, 16.4]])
    radii = np.array([4.0, 3.0, 5.0])
    exact = np.sum(4 * np.pi * radii ** 2)
    errs = []
    for h in (1.0, 0.5, 0.25):
        n = int(24 / h)
        g = (np.indices((n, n, n)).astype(float) + 0.5) * h
        cam = np.zeros((n, n, n), bool)
        for c, r in zip(centers, radii):
            cam |= np.sum((g - c[:, None, None, None]) ** 2, axis=0) <= r * r
        labels = np.where(cam, Phase.CAM, Phase.SE).astype(np.uint8)
        errs.append(abs(interface_area(labels, h) / exact - 1))
    assert errs[-1] < errs[0] and errs[-1] < 0.01


@pytest.mark.parametrize("r", [5, 10, 20])
def test_d_sca_of_isolated_sphere_is_its_diameter(r):
    for o in OFFSETS:
        assert d_sca(ball(r, o), 0.5) == pytest.approx(2 * r * 0.5, rel=0.05)


def test_percolation_of_constructed_phases():
    lab = np.full((10, 6, 6), Phase.CAM, np.uint8)
    lab[:, 2, 2] = Phase.SE  # a straight SE channel from x = 0 to x = L
    lab[4:6, 4, 4] = Phase.SE  # an isolated SE pocket
    lab[0:3, 0, 5] = Phase.SE  # a dead end touching the separator only
    p = percolation(lab, (Phase.SE,))
    n = 10 + 2 + 3
    assert p["both"] == pytest.approx(10 / n)
    assert p["to_separator"] == pytest.approx(13 / n) and p["to_cc"] == pytest.approx(10 / n)
    # a diagonal (edge-touching) path does not percolate with 6-connectivity
    d = np.full((4, 4, 4), Phase.CAM, np.uint8)
    for i in range(4):
        d[i, i, 0] = Phase.SE
    assert percolation(d, (Phase.SE,))["both"] == 0.0


def test_analyze_reports_units_and_fractions():
    lab = ball(6, OFFSETS[0])
    a = analyze(lab, 1.0)
    assert sum(a["volume_fractions"].values()) == pytest.approx(1.0)
    assert a["units"]["interface_area_per_volume"] == "1/µm"
    assert a["interface_area_per_volume"] == pytest.approx(interface_area(lab, 1.0) / lab.size)


@pytest.mark.parametrize("suffix", [".npy", ".tif", ".raw"])
def test_image_round_trip(tmp_path, suffix):
    lab = np.random.default_rng(0).integers(0, 4, (7, 5, 3)).astype(np.uint8)
    p = tmp_path / f"img{suffix}"
    write_image(p, lab)
    back = read_image(p, "0=SE,1=CAM,2=binder,3=void", shape=lab.shape if suffix == ".raw" else ())
    assert np.array_equal(back, lab)  # our Phase values 0..3 are SE, CAM, BINDER, VOID


def test_structure_cli_generate_analyze_and_bad_input(tmp_path, cli):
    cfg = tmp_path / "s.toml"
    cfg.write_text('[structure]\nsize_um = [20, 16, 16]\nvoxel_um = 1.0\nseed = 3\n'
                   '[[structure.layers]]\ncam_fraction = 0.5\nvoid_fraction = 0.1\ndiameters_um = [6.0]\n')
    img = tmp_path / "img.npy"
    r = cli("structure", "generate", cfg, "-o", img, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "a.json"
    r = cli("structure", "analyze", img, "--labels", "0=SE,1=CAM,3=void", "--voxel-size", "1.0", "--json", out)
    assert r.returncode == 0, r.stderr
    a = json.loads(out.read_text())
    assert set(a["volume_fractions"]) == {"SE", "CAM", "void"} and a["volume_fractions"]["void"] == pytest.approx(0.1, abs=1e-3)
    assert {"interface_area_per_volume", "percolating_fraction", "d_sca"} <= set(a)
    for args, text in [
        (("--labels", "0=SE,1=CAM", "--voxel-size", "1"), "image value 3"),
        (("--labels", "0=SE,1=CAM,3=void", "--voxel-size", "0"), "--voxel-size = 0"),
        (("--labels", "0=SE,1=CAM,3=void,x=foo"), "not an integer"),
    ]:
        r = cli("structure", "analyze", img, *args)
        assert r.returncode == 2 and text in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    bad = tmp_path / "bad.npy"
    bad.write_bytes(b"not a numpy file")
    r = cli("structure", "analyze", bad, "--labels", "0=SE", "--voxel-size", "1")
    assert r.returncode == 2 and "cannot be read" in r.stderr
    r = cli("structure", "generate", cfg.with_name("x.toml"), "-o", img)
    assert r.returncode == 2 and "file not found" in r.stderr
    cfg.write_text(cfg.read_text().replace("cam_fraction = 0.5", "cam_fraction = 0.8"))
    r = cli("structure", "generate", cfg, "-o", img, cwd=tmp_path)
    assert r.returncode == 2 and "densest sphere packing" in r.stderr
