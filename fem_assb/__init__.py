"""fem_assb: microstructure-resolved finite-element simulation of all-solid-state battery electrodes."""

__version__ = "0.1.0"
