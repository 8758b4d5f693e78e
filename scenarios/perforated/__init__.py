"""Seed 001 perforated cathodes (Clausnitzer et al.): an SE channel along x through a 65 % CAM
composite, quarter channel at a corner of the 106×60×60 µm symmetry cell."""
