"""Off-screen 3D pictures with pyvista.

VTK needs an X display: without one we start our own Xvfb (xvfb-run hangs in containers)
and stop it at exit. Rendering runs in a child process with a timeout so a broken OpenGL
stack cannot hang a batch job; a failed render is reported, never silently skipped.
"""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import time

from fem_assb.errors import SolverError

_XVFB = None


def ensure_display() -> None:
    global _XVFB
    if os.environ.get("DISPLAY") or _XVFB is not None:
        return
    if shutil.which("Xvfb") is None:
        raise SolverError("3D rendering needs an X display or Xvfb (apt-get install xvfb)")
    for n in range(90, 130):
        if os.path.exists(f"/tmp/.X11-unix/X{n}") or os.path.exists(f"/tmp/.X{n}-lock"):
            continue
        proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(50):
            if os.path.exists(f"/tmp/.X11-unix/X{n}"):
                break
            time.sleep(0.1)
        if proc.poll() is None:
            _XVFB = proc
            os.environ["DISPLAY"] = f":{n}"
            atexit.register(proc.terminate)
            return
    raise SolverError("could not start Xvfb for off-screen rendering")


def render_in_subprocess(func_path: str, args: dict, timeout: float = 300.0) -> None:
    """Run `module:function(**args)` in a fresh Python with a display; raise on failure."""
    import json
    import sys

    ensure_display()
    code = ("import json, importlib, sys; m, f = sys.argv[1].split(':'); "
            "getattr(importlib.import_module(m), f)(**json.loads(sys.argv[2]))")
    try:
        r = subprocess.run([sys.executable, "-c", code, func_path, json.dumps(args)], capture_output=True,
                           text=True, timeout=timeout, env=dict(os.environ))
    except subprocess.TimeoutExpired:
        raise SolverError(f"3D rendering timed out after {timeout:g} s") from None
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise SolverError(f"3D rendering failed: {last}")
