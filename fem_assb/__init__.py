"""fem_assb: microstructure-resolved finite-element simulation of all-solid-state battery electrodes.

The public API (api.py): `load_scenario`, `run`, `impedance`, `effective_conductivity` and their result
types; the command line (`fem-assb`, cli/) is built on the same functions' modules.
"""

__version__ = "0.1.0"

from fem_assb.api import ImpedanceResult, RunResult, effective_conductivity, impedance, load_scenario, run

__all__ = ["ImpedanceResult", "RunResult", "effective_conductivity", "impedance", "load_scenario", "run", "__version__"]
