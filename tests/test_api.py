"""The public Python API (fem_assb/api.py) and the README's example of it."""
import re
import shutil
import subprocess

import numpy as np
import pytest

import fem_assb
from fem_assb.errors import InputError
from tests.conftest import ROOT
from tests.test_electrochem import SMALL as CELL

#: the small cell of test_electrochem, stopped after 6 steps, no checkpoints
SMALL = {**CELL, "name": "api", "solver": {**CELL["solver"], "max_steps": 6, "checkpoint_every": 0}}


def test_readme_example_prints_what_the_readme_shows(tmp_path, monkeypatch, capsys):
    """The results the README shows, after the progress lines (a fresh cache: the structure is generated)."""
    monkeypatch.setenv("FEM_ASSB_CACHE", str(tmp_path))
    text = (ROOT / "README.md").read_text()
    start = text.index("<!-- api-example -->")
    code = re.search(r"```python\n(.*?)```", text[start:], re.S).group(1)
    shown = re.search(r"prints[^\n]*\n\n```\n(.*?)```", text[start:], re.S).group(1)
    monkeypatch.chdir(ROOT)
    exec(compile(code, "README.md", "exec"), {})
    printed = [line for line in capsys.readouterr().out.splitlines()
               if not line.startswith(("step", "mesh:", "generating structure"))]
    number = re.compile(r"[-+]?\d+\.?\d*")
    assert len(printed) == len(shown.strip().splitlines())
    for got, want in zip(printed, shown.strip().splitlines()):
        assert number.sub("#", got) == number.sub("#", want)
        assert np.allclose([float(v) for v in number.findall(got)], [float(v) for v in number.findall(want)],
                           rtol=2e-3, atol=1e-4), (got, want)


def test_in_memory_run_equals_the_folder_run_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mem = fem_assb.run(fem_assb.load_scenario(SMALL))
    # no results folder, checkpoint or fields (only the structure cache, ./.cache by default)
    assert [p.name for p in tmp_path.iterdir()] in ([], [".cache"])
    disk = fem_assb.run(fem_assb.load_scenario(SMALL), output=tmp_path / "out")
    # stopped by max_steps: a status, not a summary, in the folder
    assert disk.folder == tmp_path / "out" and (disk.folder / "status.json").is_file()
    assert mem.folder is None and mem.summary["steps"] == disk.summary["steps"] == 6
    assert not mem.summary["complete"] and not disk.summary["complete"]
    script = (disk.folder / "view_fields.py").read_text()  # opens the fields with the Xdmf3 reader
    compile(script, "view_fields.py", "exec")
    assert "Xdmf3ReaderT" in script and "cam.xdmf" in script
    if shutil.which("pvpython"):  # ParaView is not in the runtime image: checked where it is installed
        r = subprocess.run(["pvpython", "--force-offscreen-rendering", str(disk.folder / "view_fields.py")],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0 and (disk.folder / "utilization.png").stat().st_size > 0, r.stderr
    assert mem.summary["capacity_mAh_cm2"] == pytest.approx(disk.summary["capacity_mAh_cm2"], rel=1e-12)
    csv = np.loadtxt(disk.folder / "timeseries.csv", delimiter=",", skiprows=1, usecols=(5, 6))
    assert np.allclose(mem.timeseries["voltage_V"], csv[:, 0], rtol=1e-9)
    assert np.allclose(mem.timeseries["capacity_mAh_cm2"], csv[:, 1], rtol=1e-9)
    assert mem.timeseries["capacity_mAh_cm2"][-1] == pytest.approx(mem.summary["capacity_mAh_cm2"], rel=1e-9)
    assert set(mem.profile) >= {"x_um", "utilization"}
    sources = mem.summary["material_sources"]  # the citations behind the material set
    assert "Clausnitzer2024" in sources["references"] and "[Clausnitzer2024]" in sources["cam"]["c_max, c0, sigma, D, i00, alpha"]


def test_scenario_dicts_are_validated_like_files():
    with pytest.raises(InputError, match="empty"):
        fem_assb.load_scenario({})
    with pytest.raises(InputError, match="size_um"):
        fem_assb.load_scenario({**SMALL, "structure": {**SMALL["structure"], "size_um": [-20, 16, 16]}})
    with pytest.raises(InputError, match="frobnicate"):
        fem_assb.load_scenario({**SMALL, "frobnicate": 1})


def test_conductivity_of_parallel_layers_and_bad_input():
    """SE and CAM layers along x: σ_eff = Σ ε_i σ_i exactly (S/cm in, S/cm out)."""
    image = np.zeros((12, 8, 8), np.uint8)
    image[:, :6, :] = 1  # CAM in 3/4 of the cross-section
    r = fem_assb.effective_conductivity(image, 0.5, {"SE": 2e-3, "CAM": 1e-3})
    assert r["sigma_eff"] == pytest.approx(0.25 * 2e-3 + 0.75 * 1e-3, rel=1e-8)
    with pytest.raises(InputError, match="discretization"):
        fem_assb.effective_conductivity(image, 0.5, {"SE": 1.0}, discretization="spectral")
    with pytest.raises(InputError, match="sigma"):
        fem_assb.effective_conductivity(image, 0.5, {"SE": -1.0})
    with pytest.raises(InputError, match="unknown phase"):
        fem_assb.effective_conductivity(image, 0.5, {"electrolite": 1.0})


def test_impedance_in_memory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    raw = {**SMALL, "impedance": {"f_max_Hz": 1e5, "f_min_Hz": 1.0, "per_decade": 2}}
    r = fem_assb.impedance(fem_assb.load_scenario(raw))
    assert [p.name for p in tmp_path.iterdir()] in ([], [".cache"])
    assert r.f_Hz.size == r.summary["frequencies"] == 11
    assert np.allclose(r.z_anode_ohm_cm2 + r.z_cathode_ohm_cm2, r.z_ohm_cm2)
    assert r.summary["high_frequency_re_Z_ohm_cm2"] == pytest.approx(r.z_ohm_cm2[0].real)
    assert (r.z_ohm_cm2.real > 0).all()
