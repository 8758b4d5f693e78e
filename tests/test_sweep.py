"""Studies: expansion, resume after a kill, failure recording, rank groups, reports."""
import csv
import os
import re
import pytest

from tests.conftest import run_cli

STUDY = """
[study]
name = "tiny"
kind = "conductivity"
realizations = 2

[conductivity]
sigma = "SE=1,CAM=0"

[[study.vary]]
keys = ["structure.layers.1.cam_fraction"]
values = [[0.3], [0.45], [{bad}]]

[base.structure]
size_um = [16, 12, 12]
voxel_um = 1.0
seed = 4
[[base.structure.layers]]
diameters_um = [5.0]
void_fraction = 0.1
"""


def table(folder):
    with open(folder / "table.csv") as f:
        rows = list(csv.DictReader(f))
    return [{k: v for k, v in r.items() if "wall_time" not in k} for r in rows]


def test_sweep_resume_failures_and_report(tmp_path):
    study = tmp_path / "tiny.toml"
    study.write_text(STUDY.format(bad=0.8))  # 0.8 CAM cannot be packed: those cases fail
    listing = run_cli("sweep", study, "-o", tmp_path / "ref", "--list", cwd=tmp_path)
    assert listing.returncode == 0 and len(listing.stdout.strip().splitlines()) == 6
    r = run_cli("sweep", study, "-o", tmp_path / "ref", cwd=tmp_path)
    assert r.returncode == 5, r.stderr  # some cases failed
    errors = list((tmp_path / "ref" / "cases").glob("*/error.json"))
    assert len(errors) == 2 and "densest sphere packing" in errors[0].read_text()
    assert run_cli("report", tmp_path / "ref", cwd=tmp_path).returncode == 0
    ref = table(tmp_path / "ref")
    assert len(ref) == 4 and all(float(row["conductivity.sigma_eff"]) > 0 for row in ref)

    # an interrupted sweep: cases 0 and 2 finished, case 1 left half-written (as a killed or failed run
    # leaves it: a folder without result.json); the restart runs only the missing cases
    for i in (0, 2):
        assert run_cli("sweep", study, "-o", tmp_path / "run", "--case", i, cwd=tmp_path).returncode == 0
    cases = tmp_path / "run" / "cases"
    first = {p.parent.name: p.stat().st_mtime_ns for p in cases.glob("*/result.json")}
    half = sorted(cases.parent.joinpath("cases").iterdir())[0].parent / "0001_0.3_r1"
    half.mkdir(exist_ok=True)
    (half / "error.json").write_text("{}")
    r = run_cli("sweep", study, "-o", tmp_path / "run", cwd=tmp_path)
    assert "2 run, 2 already done, 2 failed" in r.stdout, r.stdout
    for name, mtime in first.items():  # finished cases were not rerun
        assert (cases / name / "result.json").stat().st_mtime_ns == mtime
    assert (half / "result.json").is_file() and not (half / "error.json").exists()
    (tmp_path / "run" / "fig_of_a_partial_run.png").write_bytes(b"")
    assert run_cli("report", tmp_path / "run", cwd=tmp_path).returncode == 0
    assert table(tmp_path / "run") == ref
    assert not (tmp_path / "run" / "fig_of_a_partial_run.png").exists()  # stale figures are not kept


def test_sweep_groups_and_single_case(tmp_path):
    study = tmp_path / "tiny.toml"
    study.write_text(STUDY.format(bad=0.35))
    r = run_cli("sweep", study, "-o", tmp_path / "g", "--group-size", "1", np_ranks=2, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "[group 0]" in r.stdout and "[group 1]" in r.stdout
    assert len(list((tmp_path / "g" / "cases").glob("*/result.json"))) == 6
    # each case ran once (a group takes the next case nobody has taken); the claims are cleared
    # (found anywhere in the output: MPICH's launcher may join the two groups' lines)
    ran = re.findall(r"\[group \d+\] case (\d+) ", r.stdout)
    assert sorted(ran) == [str(i) for i in range(6)] and not list((tmp_path / "g" / ".claims").iterdir())
    # --case runs the listed cases in the order given
    r = run_cli("sweep", study, "-o", tmp_path / "order", "--case", "4,1,2", cwd=tmp_path)
    assert re.findall(r"\[group \d+\] case (\d+) ", r.stdout) == ["4", "1", "2"]
    r = run_cli("sweep", study, "-o", tmp_path / "one", "--case", "3", cwd=tmp_path)
    assert r.returncode == 0 and len(list((tmp_path / "one" / "cases").glob("*/result.json"))) == 1
    bad = run_cli("sweep", study, "-o", tmp_path / "one", "--case", "9", cwd=tmp_path)
    assert bad.returncode == 2 and "--case 9" in bad.stderr
    bad = run_cli("sweep", study, "--group-size", "3", np_ranks=2, cwd=tmp_path)
    assert bad.returncode == 2 and "accepted a divisor" in bad.stderr
    bad = run_cli("sweep", study, "-o", tmp_path / "zero", "--group-size", "0", cwd=tmp_path)
    assert bad.returncode == 2 and "--group-size 0" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_a_case_held_by_another_sweep_is_left_to_it(tmp_path):
    """Two sweeps into one study folder (or overlapping --case jobs of an array) never compute the
    same case: a case folder another live process holds is reported busy and skipped."""
    import json
    import subprocess

    from fem_assb.io.lock import NAME
    from fem_assb.lifeline import start_time

    study = tmp_path / "s.toml"
    study.write_text(STUDY.format(bad="0.5"))
    out = tmp_path / "out"
    holder = subprocess.Popen(["sleep", "600"])  # stands for the other sweep
    try:
        from fem_assb.study.spec import load_study

        _, cases = load_study(study)
        held = out / "cases" / cases[1].name
        held.mkdir(parents=True)
        (held / NAME).write_text(json.dumps({"host": os.uname().nodename, "pid": holder.pid,
                                             "start": start_time(holder.pid), "since": "now", "command": "sweep"}))
        r = run_cli("sweep", study, "-o", out, "--case", "0,1", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert "1 held by another sweep" in r.stdout and f"case 1 {cases[1].name}: busy" in r.stdout
        assert (out / "cases" / cases[0].name / "result.json").is_file()
        assert not (held / "result.json").exists() and not (held / "error.json").exists()
    finally:
        holder.kill()


def test_rank_groups_give_the_serial_results_of_each_case(tmp_path):
    """Three discharge cases on two single-rank groups (one group runs two cases, the other
    idles at the end): every per-case output, including the reduced x-profile, matches the
    same case run alone. A collective on the wrong communicator would mix or hang the groups."""
    from fem_assb.io.toml import dumps
    from tests.test_electrochem import SMALL

    study = tmp_path / "discharge.toml"
    study.write_text(dumps({"study": {"name": "groups", "kind": "discharge",
                                      "vary": [{"keys": ["steps.1.current_mA_cm2"], "values": [[2.0], [4.0], [6.0]]}]},
                            "base": SMALL}))
    r = run_cli("sweep", study, "-o", tmp_path / "g", "--group-size", "1", np_ranks=2, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    cases = sorted((tmp_path / "g" / "cases").iterdir())
    assert len(cases) == 3
    for case in cases:
        index = int(case.name.split("_")[0])
        one = tmp_path / f"one{index}"
        assert run_cli("sweep", study, "-o", one, "--case", index, cwd=tmp_path).returncode == 0
        alone = one / "cases" / case.name
        for name in ("profile.csv", "timeseries.csv"):
            group, single = _numbers(case / name), _numbers(alone / name)
            assert len(group) == len(single)
            for g, a in zip(group, single):
                # the last timeseries column, linear iterations, may differ by one: round-off
                # decides when GMRES on the reused factorisation stops
                n = len(g) - (name == "timeseries.csv")
                assert g[:n] == pytest.approx(a[:n], rel=1e-6, abs=1e-12), name


def _numbers(path):
    """The numeric cells of a CSV file, row by row (text cells such as 'discharge' dropped)."""
    def number(cell):
        try:
            return float(cell)
        except ValueError:
            return None
    with open(path) as f:
        rows = list(csv.reader(f))[1:]
    return [[x for x in map(number, row) if x is not None] for row in rows]
