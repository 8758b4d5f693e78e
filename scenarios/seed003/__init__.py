"""Seed 003: effective ionic conductivity of Si anode composites with Li5.5PS4.5Cl1.5 (SE2)."""
