"""Reliability of runs under kills, concurrent writers and late bad input (fem_assb/io/lock.py,
fem_assb/lifeline.py, the checkpoint): one writer per folder, nothing deleted before the input is
checked, a killed launcher ends the run, and a run killed at any moment resumes to the same result.
No test depends on timing: processes are watched until something happens, with generous limits."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_electrochem import SMALL_TOML


def popen(*args, env=None):
    e = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg", **(env or {}))
    return subprocess.Popen([sys.executable, "-m", "fem_assb", *map(str, args)], cwd=ROOT, env=e,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, limit=300.0):
    t = time.time()
    while not predicate():
        assert time.time() - t < limit, "gave up waiting"
        time.sleep(0.1)


def scenario(tmp_path, text=SMALL_TOML, name="s.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_second_writer_is_refused_and_the_first_finishes(tmp_path, cli):
    toml = scenario(tmp_path)
    first = popen("run", toml, "-o", tmp_path / "out")
    wait_for(lambda: (tmp_path / "out" / ".fem-assb.lock").is_file())
    r = cli("run", toml, "-o", tmp_path / "out")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "in use by" in r.stderr and f"pid {first.pid}" in r.stderr
    assert first.wait(timeout=900) == 0
    assert (tmp_path / "out" / "summary.json").is_file() and not (tmp_path / "out" / ".fem-assb.lock").exists()


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path, cli):
    from fem_assb.lifeline import start_time

    dead = subprocess.Popen(["true"])
    born = start_time(dead.pid)
    dead.wait()
    out = tmp_path / "out"
    out.mkdir()
    (out / ".fem-assb.lock").write_text(json.dumps({"host": os.uname().nodename, "pid": dead.pid, "start": born,
                                                     "since": "then", "command": "run killed"}))
    toml = scenario(tmp_path, SMALL_TOML.replace("current_mA_cm2 = 3.0", "current_mA_cm2 = 3.0\nduration_h = 0.002"))
    r = cli("run", toml, "-o", out)
    assert r.returncode == 0, r.stderr


def test_finished_results_survive_a_resume_and_a_late_input_error(tmp_path, cli):
    toml = scenario(tmp_path, SMALL_TOML.replace("current_mA_cm2 = 3.0", "current_mA_cm2 = 3.0\nduration_h = 0.002"))
    assert cli("run", toml, "-o", tmp_path / "out").returncode == 0
    summary = (tmp_path / "out" / "summary.json").read_text()
    r = cli("run", toml, "-o", tmp_path / "out", "--resume")
    assert r.returncode == 0 and "finished" in r.stdout
    bad = scenario(tmp_path, SMALL_TOML.replace("current_mA_cm2 = 3.0", "current_mA_cm2 = 1.0\nuntil_V = 4.5"), "bad.toml")
    r = cli("run", bad, "-o", tmp_path / "out")
    assert r.returncode == 2 and "bad.toml" in r.stderr and "not below the initial OCV" in r.stderr
    assert (tmp_path / "out" / "summary.json").read_text() == summary
    r = cli("run", toml, "-o", tmp_path / "out" / "scenario.toml")  # -o names an existing file
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_killed_launcher_ends_the_run(tmp_path):
    """FEM_ASSB_PARENT is the host entry's PID (podman or mpirun after exec); when it dies, even by
    SIGKILL, the run ends with 137 and leaves no summary."""
    launcher = subprocess.Popen(["sleep", "3600"])
    run = popen("run", scenario(tmp_path), "-o", tmp_path / "out", env={"FEM_ASSB_PARENT": str(launcher.pid)})
    wait_for(lambda: (tmp_path / "out" / ".fem-assb.lock").is_file())
    launcher.send_signal(signal.SIGKILL)
    launcher.wait()
    assert run.wait(timeout=60) == 137
    assert not (tmp_path / "out" / "summary.json").exists()


@pytest.mark.parametrize("kill_after_checkpoint", [3, 8])
def test_run_killed_at_any_moment_resumes_to_the_same_result(tmp_path, cli, kill_after_checkpoint):
    """SIGKILL once the checkpoint of step ≥ 2k exists (wherever the run then is), resume: the same
    steps and capacity as the uninterrupted run, to round-off."""
    from fem_assb.electrochem import checkpoint

    toml = scenario(tmp_path, SMALL_TOML.replace("checkpoint_every = 5", "checkpoint_every = 2"))
    assert cli("run", toml, "-o", tmp_path / "full").returncode == 0
    full = json.loads((tmp_path / "full" / "summary.json").read_text())
    out = tmp_path / "killed"
    run = popen("run", toml, "-o", out)

    def checkpointed():
        try:
            return checkpoint.read_state(out)["step"] >= 2 * kill_after_checkpoint
        except (OSError, KeyError, ValueError, EOFError):
            return False

    wait_for(lambda: checkpointed() or run.poll() is not None)
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert not (out / "summary.json").exists()
    r = cli("run", toml, "-o", out, "--resume")
    assert r.returncode == 0, r.stderr
    part = json.loads((out / "summary.json").read_text())
    assert part["steps"] == full["steps"] and part["rejected_steps"] == full["rejected_steps"]
    assert part["capacity_mAh_cm2"] == pytest.approx(full["capacity_mAh_cm2"], rel=1e-10)
    assert part["final_voltage_V"] == pytest.approx(full["final_voltage_V"], abs=1e-9)


def test_image_sees_every_folder_named_on_the_command_line():
    """docker/mounts.sh: a results folder outside the checkout and /tmp (named as -o DIR or
    --key=DIR, not yet existing) is mounted through its nearest existing folder, so the run
    writes on the host; system folders are never mounted over the image's own."""
    import shutil
    import tempfile

    home = Path(tempfile.mkdtemp(dir=Path.home()))
    try:
        (home / "img").mkdir()
        args = ["run", "x.toml", "-o", f"{home}/results/new/deep", f"--image={home}/img/a.raw",
                "/usr/share/foo", "SE=1,CAM=0", "scenarios/demo.toml"]
        p = subprocess.run([ROOT / "docker" / "mounts.sh", ROOT, *args], cwd=ROOT, text=True,
                           capture_output=True, env={**os.environ, "FEM_ASSB_CACHE": ""}, check=True)
        lines = p.stdout.split()
        assert lines[0::2] == ["-v"] * (len(lines) // 2)
        assert [m.split(":")[0] for m in lines[1::2]] == [str(ROOT), "/tmp", str(home)]
        assert "/usr/share is a system folder" in p.stderr
    finally:
        shutil.rmtree(home)
