"""Material parameter sets (SI units inside) and SOC-dependent material functions."""
from fem_assb.materials.library import (ACTIVE_MATERIALS, ANODES, BINDERS, ELECTROLYTES,
                                        MATERIAL_SETS, NCM_IONIC_RATIO, electrolyte, material_set)
from fem_assb.materials.types import (ActiveMaterial, LiquidElectrolyte, LithiumMetal, MaterialSet,
                                      SolidElectrolyte)

__all__ = ["ACTIVE_MATERIALS", "ANODES", "BINDERS", "ELECTROLYTES", "MATERIAL_SETS", "NCM_IONIC_RATIO",
           "electrolyte", "material_set", "ActiveMaterial", "LiquidElectrolyte", "LithiumMetal",
           "MaterialSet", "SolidElectrolyte"]
