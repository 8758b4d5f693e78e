"""Voxel images in and out: .npy, multi-page .tif and .raw, with a label map.

Array axes are (x, y, z) in C order: the first axis (tif pages) is the through-plane
direction from the separator to the current collector. A label map sends file values to
phases, e.g. "0=SE,1=CAM,2=void"; every value present in the file must be mapped.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fem_assb.errors import InputError
from fem_assb.phases import Phase, phase_from_name

FORMATS = (".npy", ".tif", ".tiff", ".raw")


def parse_label_map(spec) -> dict[int, Phase]:
    """'0=SE,1=CAM' or {"0": "SE"} → {0: Phase.SE, 1: Phase.CAM}."""
    items = spec.items() if isinstance(spec, dict) else (
        part.split("=", 1) if "=" in part else (part, None) for part in str(spec).split(",") if part.strip())
    out = {}
    for value, name in items:
        if name is None:
            raise InputError(f"label map entry '{value}' needs the form VALUE=PHASE (e.g. 0=SE,1=CAM,2=void)")
        try:
            v = int(str(value).strip())
        except ValueError:
            raise InputError(f"label map value '{value}' is not an integer (form VALUE=PHASE)") from None
        out[v] = phase_from_name(str(name))
    return out


def read_array(path: str | Path, shape=(), dtype: str = "uint8") -> np.ndarray:
    """The raw 3D array stored in a file."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"{p}: unknown image format '{suffix}': accepted {', '.join(FORMATS)}")
    if not p.is_file():
        raise InputError(f"{p}: file not found")
    try:
        if suffix == ".npy":
            arr = np.load(p, allow_pickle=False)
        elif suffix in (".tif", ".tiff"):
            import tifffile

            arr = tifffile.imread(p)
        else:
            if len(shape) != 3:
                raise InputError(f"{p}: a .raw image needs its shape (nx, ny, nz), e.g. --shape 100,80,80")
            arr = np.fromfile(p, dtype=np.dtype(dtype))
            if arr.size != int(np.prod(shape)):
                raise InputError(f"{p}: holds {arr.size} values of {dtype}, shape {tuple(shape)} needs "
                                 f"{int(np.prod(shape))}")
            arr = arr.reshape(shape)
    except InputError:
        raise
    except Exception as e:  # corrupt file: one line, no traceback
        raise InputError(f"{p}: cannot be read as {suffix} image: {type(e).__name__}: {e}") from None
    if arr.ndim != 3:
        raise InputError(f"{p}: image must be 3D, got shape {arr.shape}")
    if arr.size == 0:
        raise InputError(f"{p}: image is empty (shape {arr.shape})")
    return arr


def apply_label_map(arr: np.ndarray, label_map: dict[int, Phase], where: str) -> np.ndarray:
    values, counts = np.unique(arr, return_counts=True)
    missing = [(v, c) for v, c in zip(values.tolist(), counts.tolist()) if v not in label_map]
    if missing:
        v, c = missing[0]
        raise InputError(f"{where}: image value {v} ({c} voxels) is not in the label map "
                         f"{ {k: p.name for k, p in label_map.items()} }: map every value, e.g. {v}=void")
    lut = np.zeros(int(max(values.max(), max(label_map))) + 1, np.uint8)
    for v, ph in label_map.items():
        if v >= 0:
            lut[v] = ph
    if values.min() < 0:
        raise InputError(f"{where}: negative image values are not supported")
    return lut[arr.astype(np.int64)]


def read_image(path, labels, shape=(), dtype="uint8", where: str | None = None) -> np.ndarray:
    """Phase labels from an image file; `labels` maps file values to phases (str or dict).

    Without a label map, an image written by fem_assb (a .npy with a .json sidecar) is read as is.
    """
    from fem_assb.microstructure.structure import sidecar

    where = where or str(path)
    arr = read_array(path, shape, dtype)
    if not labels:
        if Path(sidecar(path)).is_file():
            return arr.astype(np.uint8)
        raise InputError(f"{where}: needs a label map (e.g. --labels 0=SE,1=CAM,2=void)")
    return apply_label_map(arr, parse_label_map(labels), where)


def write_image(path: str | Path, labels: np.ndarray) -> None:
    """Write phase labels (our Phase values) as .npy, .tif (one page per x slice) or .raw."""
    from fem_assb.io.atomic import atomic_write_bytes

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"{p}: unknown image format '{suffix}': accepted {', '.join(FORMATS)}")
    import io

    buf = io.BytesIO()
    if suffix == ".npy":
        np.save(buf, labels)
    elif suffix in (".tif", ".tiff"):
        import tifffile

        tifffile.imwrite(buf, labels)
    else:
        buf.write(np.ascontiguousarray(labels).tobytes())
    atomic_write_bytes(p, buf.getvalue())


def read_labelled_image(path, labels, shape: str | None, dtype: str, voxel_um: float | None) -> tuple[np.ndarray, float]:
    """(labels, voxel size in µm) of an image file: `shape` "nx,ny,nz" for raw files, the voxel
    size from `voxel_um` or else the image's .json sidecar; InputError on bad input."""
    import json

    from fem_assb.microstructure.structure import sidecar

    dims = ()
    if shape:
        try:
            dims = tuple(int(v) for v in shape.split(","))
        except ValueError:
            raise InputError(f"--shape '{shape}': expected three integers nx,ny,nz") from None
    out = read_image(path, labels, dims, dtype)
    h = voxel_um
    if h is None and sidecar(path).is_file():
        h = json.loads(sidecar(path).read_text())["voxel_um"]
    if h is None:
        raise InputError("--voxel-size is required (µm per voxel) for images without a .json sidecar")
    if not h > 0:
        raise InputError(f"--voxel-size = {h:g} is out of range: accepted voxel size > 0 µm")
    return out, float(h)
