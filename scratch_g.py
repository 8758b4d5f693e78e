import numpy as np, time
from mpi4py import MPI
from fem_assb.mesh.gmsh_spheres import build_gmsh_mesh
from fem_assb.microstructure.packing import pack_spheres, sample_radii
from fem_assb.phases import Phase, Facet
rng=np.random.default_rng(0); box=[20,16,16]
r=sample_radii(0.3, box, [6.0], [], 0.0, rng); p=pack_spheres(r, box, rng, 0.1)
t=time.time()
tm=build_gmsh_mesh(p.centers, p.radii, box, 5.0, None, 1.5, 0.1)
c=tm.counts(); a=tm.facet_area(Facet.INTERFACE)*1e12; v=tm.measure_volume(Phase.CAM)*1e18
if MPI.COMM_WORLD.rank==0:
    print(len(r), time.time()-t, c)
    print('interface', a, 'exact', np.sum(4*np.pi*(p.radii*tm.info['radius_scale'])**2), 'vol', v, np.sum(4/3*np.pi*(p.radii*tm.info['radius_scale'])**3), tm.info)
