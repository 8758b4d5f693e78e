"""Voxel images in and out: .npy, multi-page .tif and .raw, with a label map.

Array axes are (x, y, z) in C order: the first axis (tif pages) is the through-plane
direction from the separator to the current collector. A label map sends file values to
phases, e.g. "0=SE,1=CAM,2=void"; every value present in the file must be mapped.

.npy and .raw files are memory-mapped (copy-on-write): a process touches only the x-slabs it
reads. `read_image(..., lazy=True)` keeps it so under a label map too (`MappedLabels`, checked
slab by slab across the ranks), for solvers that read one slab per rank (conductivity/fv.py).
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
            arr = np.load(p, mmap_mode="c", allow_pickle=False)
        elif suffix in (".tif", ".tiff"):
            import tifffile

            arr = tifffile.imread(p)
        else:
            if len(shape) != 3:
                raise InputError(f"{p}: a .raw image needs its shape (nx, ny, nz), e.g. --shape 100,80,80")
            dt = np.dtype(dtype)
            held = p.stat().st_size // dt.itemsize
            if held != int(np.prod(shape)) or p.stat().st_size % dt.itemsize:
                raise InputError(f"{p}: holds {held} values of {dtype}, shape {tuple(shape)} needs "
                                 f"{int(np.prod(shape))}")
            arr = np.memmap(p, dtype=dt, mode="c", shape=tuple(shape))
    except InputError:
        raise
    except Exception as e:  # corrupt file: one line, no traceback
        raise InputError(f"{p}: cannot be read as {suffix} image: {type(e).__name__}: {e}") from None
    if arr.ndim != 3:
        raise InputError(f"{p}: image must be 3D, got shape {arr.shape}")
    if arr.size == 0:
        raise InputError(f"{p}: image is empty (shape {arr.shape})")
    return arr


def _check_values(values: np.ndarray, counts: np.ndarray, label_map: dict[int, Phase], where: str) -> np.ndarray:
    """The look-up table file value → phase, after checking that every value present is mapped."""
    missing = [(v, c) for v, c in zip(values.tolist(), counts.tolist()) if v not in label_map]
    if missing:
        v, c = missing[0]
        raise InputError(f"{where}: image value {v} ({c} voxels) is not in the label map "
                         f"{ {k: p.name for k, p in label_map.items()} }: map every value, e.g. {v}=void")
    if values.size and values.min() < 0:
        raise InputError(f"{where}: negative image values are not supported")
    lut = np.zeros(int(max(values.max(initial=0), max(label_map))) + 1, np.uint8)
    for v, ph in label_map.items():
        if v >= 0:
            lut[v] = ph
    return lut


def apply_label_map(arr: np.ndarray, label_map: dict[int, Phase], where: str) -> np.ndarray:
    values, counts = np.unique(arr, return_counts=True)
    return _check_values(values, counts, label_map, where)[arr.astype(np.int64)]


class MappedLabels:
    """Phase labels of a (memory-mapped) image under a label map, mapped when sliced: indexing
    returns a uint8 array of the slice; `np.asarray` maps the whole image."""

    def __init__(self, arr, lut: np.ndarray):
        self._arr, self._lut = arr, lut
        self.shape, self.ndim, self.size, self.dtype = arr.shape, arr.ndim, arr.size, np.dtype(np.uint8)

    def __getitem__(self, key):
        return self._lut[np.asarray(self._arr[key]).astype(np.int64)]

    def __array__(self, dtype=None, copy=None):
        out = self[...]
        return out if dtype is None else out.astype(dtype)


def _lazy_label_map(arr, label_map: dict[int, Phase], where: str, comm) -> MappedLabels:
    """MappedLabels of `arr`, each rank checking the values of its share of x-layers."""
    share = np.linspace(0, arr.shape[0], comm.size + 1).astype(int)
    values, counts = np.unique(np.asarray(arr[share[comm.rank]:share[comm.rank + 1]]), return_counts=True)
    found: dict[int, int] = {}
    for part in comm.allgather(dict(zip(values.tolist(), counts.tolist()))):
        for v, c in part.items():
            found[v] = found.get(v, 0) + c
    values = np.array(sorted(found), dtype=np.int64)
    return MappedLabels(arr, _check_values(values, np.array([found[v] for v in values.tolist()]), label_map, where))


def read_image(path, labels, shape=(), dtype="uint8", where: str | None = None, lazy: bool = False, comm=None):
    """Phase labels from an image file; `labels` maps file values to phases (str or dict).

    Without a label map, an image written by fem_assb (a .npy with a .json sidecar) is read as is.
    `lazy`: nothing is read beyond the checks until the result is sliced (a memory map or
    MappedLabels); the check of the label map is shared among the ranks of `comm`.
    """
    from fem_assb.microstructure.structure import sidecar

    where = where or str(path)
    arr = read_array(path, shape, dtype)
    if not labels:
        if Path(sidecar(path)).is_file():
            return arr if lazy and arr.dtype == np.uint8 else np.array(arr, dtype=np.uint8)
        raise InputError(f"{where}: needs a label map (e.g. --labels 0=SE,1=CAM,2=void)")
    if lazy:
        from mpi4py import MPI

        return _lazy_label_map(arr, parse_label_map(labels), where, comm or MPI.COMM_WORLD)
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


def read_labelled_image(path, labels, shape: str | None, dtype: str, voxel_um: float | None,
                        lazy: bool = False) -> tuple[np.ndarray, float]:
    """(labels, voxel size in µm) of an image file: `shape` "nx,ny,nz" for raw files, the voxel
    size from `voxel_um` or else the image's .json sidecar; InputError on bad input. `lazy` as
    for read_image."""
    import json

    from fem_assb.microstructure.structure import sidecar

    dims = ()
    if shape:
        try:
            dims = tuple(int(v) for v in shape.split(","))
        except ValueError:
            raise InputError(f"--shape '{shape}': expected three integers nx,ny,nz") from None
    out = read_image(path, labels, dims, dtype, lazy=lazy)
    h = voxel_um
    if h is None and sidecar(path).is_file():
        h = json.loads(sidecar(path).read_text())["voxel_um"]
    if h is None:
        raise InputError("--voxel-size is required (µm per voxel) for images without a .json sidecar")
    if not h > 0:
        raise InputError(f"--voxel-size = {h:g} is out of range: accepted voxel size > 0 µm")
    return out, float(h)
