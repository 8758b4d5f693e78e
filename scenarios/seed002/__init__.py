"""Seed 002 (NMC622 | β-Li3PS4 | Li metal): virtual electrodes, C-rates, sandwich-like lithiation."""
