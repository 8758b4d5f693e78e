"""Voxel microstructures: generation, import/export and analysis."""
