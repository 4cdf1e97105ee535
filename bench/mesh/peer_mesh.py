#!/usr/bin/python3
"""The peer side of bench/mesh: scikit-image marching cubes and VTK flying edges on the volumes of
../shared/bench-peers/bench_mesh.py (its common.py generators, so the data are the ones its
RESULTS.md used), 256^3.

Usage: /usr/bin/python3 peer_mesh.py DIR
Writes the inputs into DIR as TIFF (blobs.tif, sphere.tif, ellipsoids.tif, voronoi.tif) and prints
one JSON object: for each case and peer, the median seconds and the triangle count.
"""
import json
import os
import sys

import numpy as np
import tifffile
from scipy import ndimage as ndi
from skimage import measure

PEERS = os.environ.get("UNIEM_BENCH_PEERS", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "bench-peers"))
sys.path.insert(0, PEERS)
from common import blob_mask, ellipsoid_labels, timeit, voronoi_labels  # noqa: E402

import vtk  # noqa: E402
from vtk.util import numpy_support  # noqa: E402

vtk.vtkObject.GlobalWarningDisplayOff()
out = sys.argv[1]
result = {}


def to_vtk_image(vol):
    vol = np.ascontiguousarray(vol)
    img = vtk.vtkImageData()
    img.SetDimensions(vol.shape[2], vol.shape[1], vol.shape[0])
    img.GetPointData().SetScalars(numpy_support.numpy_to_vtk(vol.ravel(), deep=False))
    img._keep = vol
    return img


def vtk_contour(cls, vol, values):
    alg = cls()
    alg.SetInputData(to_vtk_image(vol))
    for i, v in enumerate(values):
        alg.SetValue(i, float(v))
    if hasattr(alg, "SetComputeNormals"):
        alg.SetComputeNormals(False)
    if hasattr(alg, "SetComputeGradients"):
        alg.SetComputeGradients(False)
    if hasattr(alg, "SetComputeScalars"):
        alg.SetComputeScalars(len(values) > 1)
    alg.Update()
    return alg.GetOutput().GetNumberOfPolys()


def mc_single(vol):
    return len(measure.marching_cubes(vol, 0.5, method="lewiner")[1])


def mc_per_label(lab):
    tris = 0
    for i, sl in enumerate(ndi.find_objects(lab)):
        if sl is None:
            continue
        sl = tuple(slice(max(s.start - 1, 0), s.stop + 1) for s in sl)
        sub = np.pad(lab[sl] == i + 1, 1).astype(np.float32)
        tris += len(measure.marching_cubes(sub, 0.5, method="lewiner")[1])
    return tris


def record(key, r):
    result[key] = {"seconds": r["median"], "triangles": int(r["out"])}


blobs = blob_mask(256).astype(np.float32)
zz, yy, xx = np.ogrid[:256, :256, :256]
sphere = (((zz - 127.5) ** 2 + (yy - 127.5) ** 2 + (xx - 127.5) ** 2) <= 100 ** 2).astype(np.float32)
for name, vol in (("blobs", blobs), ("sphere", sphere)):
    tifffile.imwrite(os.path.join(out, name + ".tif"), vol.astype(np.uint8))
    record(f"{name}/skimage", timeit(lambda: mc_single(vol), reps=3))
    for th in (1, 2):
        vtk.vtkSMPTools.Initialize(th)
        record(f"{name}/vtk{th}", timeit(lambda: vtk_contour(vtk.vtkFlyingEdges3D, vol, [0.5]), reps=5))
del blobs, sphere

for name, lab in (("ellipsoids", ellipsoid_labels(256, 100)), ("voronoi", voronoi_labels((256, 256, 256), 100, seed=7))):
    tifffile.imwrite(os.path.join(out, name + ".tif"), lab.astype(np.uint32))
    labels = np.unique(lab)
    labels = labels[labels > 0]
    record(f"{name}/skimage", timeit(lambda: mc_per_label(lab), reps=3))
    lab32 = lab.astype(np.int32)
    for th in (1, 2):
        vtk.vtkSMPTools.Initialize(th)
        record(f"{name}/vtk{th}", timeit(lambda: vtk_contour(vtk.vtkDiscreteFlyingEdges3D, lab32, labels), reps=3))

print(json.dumps(result))
