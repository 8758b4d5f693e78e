"""The one table of phase labels (voxel values and mesh cell tags) and facet tags.

Axis convention: x runs from the separator/anode side (x = 0) to the current collector
(x = L). Voxel images index as image[ix, iy, iz].
"""
from __future__ import annotations

from enum import IntEnum


class Phase(IntEnum):
    """Phase labels of voxel images and cell tags of meshes."""

    SE = 0  # the electrolyte in the composite: a solid one, or the liquid filling resolved pores
    CAM = 1  # cathode active material
    BINDER = 2  # polymer binder (ionic and electronic insulator by default)
    VOID = 3  # residual pore space (no transport)
    CARBON = 4  # conductive additive (optional)
    SEPARATOR = 5  # SE slab between composite and anode
    CBD = 7  # carbon-binder domain (homogenised porous; SE with a solid electrolyte)
    SE_PASSIVE = 8  # SE coating a delaminated CAM surface: conducts like SE, no Li transfer


class Facet(IntEnum):
    """Facet tags of meshes."""

    INTERFACE = 1  # CAM|SE (and CAM|separator) interface: Butler-Volmer active
    PASSIVATED = 2  # delaminated CAM|SE interface: no Li transfer
    CAM_CC = 3  # CAM (or carbon) facets on the current collector, x = L
    ANODE = 4  # SE/separator facets on the Li-metal anode, x = 0
    OUTER = 5  # other outer faces (insulated)
    CC_DELAMINATED = 6  # CAM facets at x = L that lost contact with the current collector (insulated)


#: phases that conduct Li ions: the electrolyte (solid, or the liquid in resolved pores), the
#: separator, the passivated coating and the carbon-binder domain (a homogenised porous phase with a
#: liquid electrolyte; meshed as SE with a solid one, as in seed 001)
ION_CONDUCTORS = (Phase.SE, Phase.SEPARATOR, Phase.SE_PASSIVE, Phase.CBD)
#: phases that conduct electrons and store Li
ELECTRON_CONDUCTORS = (Phase.CAM, Phase.CARBON)

PHASE_NAMES = {p.name: p for p in Phase}


def phase_from_name(name: str) -> Phase:
    """Look a phase up by name, case-insensitively (e.g. 'se', 'CAM', 'void')."""
    from fem_assb.errors import InputError

    key = name.strip().upper()
    if key not in PHASE_NAMES:
        raise InputError(f"unknown phase '{name}': accepted {', '.join(PHASE_NAMES)}")
    return PHASE_NAMES[key]
