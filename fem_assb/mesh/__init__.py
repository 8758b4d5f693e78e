"""Tagged DOLFINx meshes from voxel images (hexahedra) and sphere packings (gmsh tetrahedra)."""
