"""A ParaView script beside a run's fields, so that they open with the right reader.

The fields are XDMF 3 time series (electrolyte.xdmf, cam.xdmf). ParaView reads them with its
"Xdmf3 Reader T"; its legacy "XDMF Reader", which it also offers for .xdmf files, crashes on
them (SIGSEGV, ParaView 5.11). The script loads both files with the right reader, colours the
CAM by a field at the last time and saves a PNG.
"""
from __future__ import annotations

from pathlib import Path

from fem_assb.io.atomic import atomic_write_text

SCRIPT_NAME = "view_fields.py"

SCRIPT = '''"""This run's fields in ParaView: the CAM coloured by FIELD at the last time, saved as FIELD.png.

    pvpython view_fields.py [FIELD]      (or in ParaView: View > Python Shell > Run Script)

FIELD on cam.xdmf: utilization (default), x_Li, x_Li_surface, phi_s, collector_current_density;
electrolyte.xdmf holds phi_e, ionic_current_density(_magnitude) and phase. Open .xdmf files by
hand with the "Xdmf3 Reader T": the legacy "XDMF Reader" crashes on them.
"""
import os
import sys

from paraview.simple import (ColorBy, GetAnimationScene, GetActiveViewOrCreate, Render, ResetCamera,
                             SaveScreenshot, Show, Xdmf3ReaderT)

here = os.path.dirname(os.path.abspath(__file__))
field = sys.argv[1] if len(sys.argv) > 1 else "utilization"
cam = Xdmf3ReaderT(registrationName="cam", FileName=[os.path.join(here, "cam.xdmf")])
Xdmf3ReaderT(registrationName="electrolyte", FileName=[os.path.join(here, "electrolyte.xdmf")])
times = cam.TimestepValues
times = list(times) if hasattr(times, "__len__") else [times]
scene = GetAnimationScene()
scene.UpdateAnimationUsingDataTimeSteps()
scene.AnimationTime = times[-1]
view = GetActiveViewOrCreate("RenderView")
shown = Show(cam, view)
ColorBy(shown, ("POINTS", field))
shown.RescaleTransferFunctionToDataRange(True, False)
shown.SetScalarBarVisibility(view, True)
ResetCamera(view)
Render(view)
png = os.path.join(here, field + ".png")
SaveScreenshot(png, view, ImageResolution=[1200, 800])
print("wrote", png)
'''


def write_view_script(folder: Path) -> Path:
    """Write view_fields.py into a results folder (rank 0 only)."""
    path = Path(folder) / SCRIPT_NAME
    atomic_write_text(path, SCRIPT)
    return path
