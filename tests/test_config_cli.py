"""Scenario validation and the CLI skeleton: one-line errors with exit code 2."""
import json

import pytest

from fem_assb.config.scenario import load_scenario

GOOD = """
name = "t"
[materials]
set = "nmc811_li6ps5cl_li"
[structure]
size_um = [40, 20, 20]
voxel_um = 2.0
[[structure.layers]]
cam_fraction = 0.6
[[steps]]
kind = "discharge"
current_mA_cm2 = 1.0
"""


def write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_valid_scenario_loads(tmp_path):
    sc = load_scenario(write(tmp_path, GOOD))
    assert sc.structure.layers[0].cam_fraction == 0.6 and sc.steps[0].current_mA_cm2 == 1.0


@pytest.mark.parametrize("text, key, accepted", [
    (GOOD.replace("voxel_um = 2.0", "voxel_um = 2.0\nfoo = 1"), "[structure] foo", "is not a known key: accepted"),
    (GOOD.replace("cam_fraction = 0.6", "cam_fraction = 1.3"), "[structure.layers.1] cam_fraction",
     "accepted 0 ≤ cam_fraction ≤ 1"),
    (GOOD.replace("voxel_um = 2.0", "voxel_um = -1"), "[structure] voxel_um", "accepted 0 < voxel_um"),
    (GOOD.replace('set = "nmc811_li6ps5cl_li"', 'set = "unobtainium"'), "[materials] set",
     "choose one of nmc811_li6ps5cl_li"),
    (GOOD.replace("current_mA_cm2 = 1.0", "current_mA_cm2 = 0.0"), "[steps.1] current_mA_cm2", "0 < current_mA_cm2"),
    (GOOD.replace("voxel_um = 2.0", 'voxel_um = "fine"'), "[structure] voxel_um", "must be a number"),
    (GOOD.replace("size_um = [40, 20, 20]", "size_um = [40, 20]"), "[structure] size_um", "must have 3 entries"),
    (GOOD.replace('set = "nmc811_li6ps5cl_li"', 'set = "nmc811_li6ps5cl_li"\ncam_diffusivity_factor = 0'),
     "[materials] cam_diffusivity_factor", "accepted 0 < cam_diffusivity_factor"),
    (GOOD + "\n[materials.x\n", "s.toml: is not valid TOML", ""),
    (GOOD.replace("voxel_um = 2.0", "voxel_um = nan"), "[structure] voxel_um", "is not a finite number"),
    ("# nothing but a comment\n", "s.toml: is empty", "at least one table"),
    (GOOD.replace("current_mA_cm2 = 1.0", "current_mA_cm2 = inf"), "[steps.1] current_mA_cm2", "not a finite"),
    (GOOD.replace('set = "nmc811_li6ps5cl_li"', 'set = "nmc811_li6ps5cl_li"\ncam_sigma_S_cm = {kind = "table", '
                  'x = [0.2, 1.0], y = [0.01, nan]}'), "[materials] cam_sigma_S_cm", "not finite"),
    (GOOD.replace('set = "nmc811_li6ps5cl_li"', 'set = "nmc811_li6ps5cl_li"\nelectrolyte_transference = 0.4'),
     "[materials] electrolyte_transference", "single-ion solid electrolyte (t+ = 1)"),
])
def test_check_rejects_bad_input_with_one_line(tmp_path, cli, text, key, accepted):
    r = cli("check", write(tmp_path, text))
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert key in lines[0] and accepted in lines[0] and "Traceback" not in r.stderr


def test_check_accepts_valid_file_and_missing_file(tmp_path, cli):
    r = cli("check", write(tmp_path, GOOD))
    assert r.returncode == 0 and "ok" in r.stdout
    r = cli("check", tmp_path / "nope.toml")
    assert r.returncode == 2 and "file not found" in r.stderr


def test_material_function_override_is_validated(tmp_path, cli):
    bad = GOOD.replace('set = "nmc811_li6ps5cl_li"', 'set = "nmc811_li6ps5cl_li"\ncam_ocv_V = {kind = "spline"}')
    r = cli("check", write(tmp_path, bad))
    assert r.returncode == 2 and "[materials] cam_ocv_V" in r.stderr and "unknown function kind" in r.stderr


def test_version_help_and_keys(cli):
    from fem_assb import __version__

    assert cli("--version").stdout.strip() == f"fem_assb {__version__}"
    h = cli("--help")
    assert h.returncode == 0 and "info" in h.stdout and "check" in h.stdout
    k = cli("check", "--keys")
    assert "structure.layers.cam_fraction" in k.stdout and "steps.until_V" in k.stdout
    bad = cli("no-such-command")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_info_json_serial_and_two_ranks(cli):
    one = json.loads(cli("info", "--json").stdout)
    assert set(one) == {"fem_assb", "dolfinx", "petsc", "mpi", "ranks", "scalar_type", "python", "linear_solvers"}
    assert tuple(map(int, one["dolfinx"].split(".")[:2])) >= (0, 9) and one["ranks"] == 1
    two = cli("info", "--json", np_ranks=2)
    lines = [ln for ln in two.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1 and json.loads(lines[0])["ranks"] == 2


def test_linear_solvers_follow_what_petsc_has(cli, monkeypatch):
    """BoomerAMG where PETSc has hypre, else GAMG; MUMPS first for LU; a forced choice is honoured
    or refused in one line, never silently replaced."""
    from petsc4py import PETSc

    solvers = json.loads(cli("info", "--json").stdout)["linear_solvers"]
    hypre = PETSc.Sys.hasExternalPackage("hypre")
    assert solvers["amg"]["chosen"] == ("boomeramg" if hypre else "gamg")
    assert ("no hypre" in solvers["amg"]["why"]) == (not hypre)
    assert solvers["direct"]["chosen"] == "mumps" and "superlu_dist" in solvers["direct"]["available"]
    monkeypatch.setenv("FEM_ASSB_AMG", "gamg")
    assert json.loads(cli("info", "--json").stdout)["linear_solvers"]["amg"] == {
        "chosen": "gamg", "why": "forced by FEM_ASSB_AMG", "available": solvers["amg"]["available"]}
    monkeypatch.setenv("FEM_ASSB_AMG", "ml")
    bad = cli("info")
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "fem-assb: error: FEM_ASSB_AMG='ml': accepted boomeramg, gamg"]
    if not hypre:
        monkeypatch.setenv("FEM_ASSB_AMG", "boomeramg")
        bad = cli("info")
        assert bad.returncode == 2 and "built without hypre" in bad.stderr


def test_output_into_a_closed_pipe_ends_quietly():
    """`fem-assb materials | head -1` when the reader has already gone: no traceback, exit 141 (as
    a process ended by SIGPIPE)."""
    import os
    import subprocess
    import sys

    from fem_assb.launcher import outside_mpi_env
    from tests.conftest import ROOT

    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line: every write fails
    proc = subprocess.run([sys.executable, "-m", "fem_assb", "materials"], stdout=write, stderr=subprocess.PIPE,
                          cwd=ROOT, env=dict(outside_mpi_env(), PYTHONPATH=str(ROOT)), timeout=120)
    os.close(write)
    assert proc.returncode == 141 and proc.stderr == b""


def test_materials_text_lists_every_set_and_electrolyte(cli):
    r = cli("materials")
    data = json.loads(cli("materials", "--json").stdout)
    assert r.returncode == 0, r.stderr
    for name in [*data["material_sets"], *data["electrolytes"], *data["anodes"]]:
        assert f"  {name}: " in r.stdout
    assert "lipf6_ec_emc: κ 0.0094 S/cm" in r.stdout  # a liquid: κ(c_e) at its c_e


def test_materials_json_lists_sets(cli):
    data = json.loads(cli("materials", "--json").stdout)
    assert {"nmc811_li6ps5cl_li", "nmc811_lipf6_li", "nmc622_bli3ps4_li"} <= set(data["material_sets"])
    assert data["active_materials"]["nmc811_se"]["ocv_at_c0_V"] == pytest.approx(4.2, abs=1e-3)
    # seed 002: i00 = 4.98e-4 A/cm² · √(x0 (1 − x0)) at x0 = 0.021/0.0519
    x0 = 0.021 / 0.0519
    assert data["material_sets"]["nmc622_bli3ps4_li"]["cam_i0_at_c0_A_cm2"] == pytest.approx(
        4.98e-4 * (x0 * (1 - x0)) ** 0.5, rel=1e-9)


@pytest.mark.parametrize("case, text", [
    ("huge", "GiB, more than 80% of this machine's"),
    ("empty_image", "image is empty"),
    ("cutoff_above_ocv", "not below the initial OCV"),
])
def test_check_runs_the_checks_that_need_no_mesh(tmp_path, cli, case, text):
    """check refuses in a second what a run would find only after building the structure."""
    import numpy as np

    np.save(tmp_path / "empty.npy", np.zeros((0, 4, 4), np.uint8))
    body = {"huge": GOOD.replace("size_um = [40, 20, 20]", "size_um = [2000, 2000, 2000]"),
            "empty_image": GOOD.replace("size_um = [40, 20, 20]",
                                        f'image = "{tmp_path / "empty.npy"}"\nimage_labels = {{0 = "SE"}}'),
            "cutoff_above_ocv": GOOD.replace("current_mA_cm2 = 1.0", "current_mA_cm2 = 1.0\nuntil_V = 4.5")}[case]
    r = cli("check", write(tmp_path, body))
    assert r.returncode == 2 and text in r.stderr and "s.toml" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    if case == "huge":
        assert cli("check", write(tmp_path, body), "--force").returncode == 0
