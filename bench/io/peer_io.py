#!/usr/bin/python3
"""The peer side of bench/io: Pillow for PNG stacks, tifffile for multi-page TIFF, zarr-python for
Zarr (the level 0 array of uniem's OME-Zarr; written with the same chunks and codec, no pyramid).

Usage: /usr/bin/python3 peer_io.py DIR REPS [AREAS]   (AREAS: png,tiff,zarr by default)
DIR holds png/ (0000.png ...), stack.tif and stack.zarr, made by bench_io. Prints one JSON object:
seconds (median of REPS after one warm-up) for each operation. Pillow saves PNG with its
defaults (zlib level 6, adaptive filters); tifffile writes uncompressed, as uniem does.
"""
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np
import tifffile
from PIL import Image

folder, reps = sys.argv[1], int(sys.argv[2])
areas = sys.argv[3].split(",") if len(sys.argv) > 3 else ["png", "tiff", "zarr"]
names = sorted(n for n in os.listdir(os.path.join(folder, "png")) if n.endswith(".png"))  # not voxel-size.json


def timed(fn):
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def read_png():
    return np.stack([np.asarray(Image.open(os.path.join(folder, "png", n))) for n in names])


volume = read_png()
out = tempfile.mkdtemp(dir=folder)


def write_png():
    for z in range(volume.shape[0]):
        Image.fromarray(volume[z]).save(os.path.join(out, f"{z:04d}.png"))


result = {"versions": {"numpy": np.__version__, "tifffile": tifffile.__version__, "Pillow": Image.__version__}}
if "png" in areas:
    result["read_png"] = timed(read_png)
    result["write_png"] = timed(write_png)
if "tiff" in areas:
    result["read_tiff"] = timed(lambda: tifffile.imread(os.path.join(folder, "stack.tif")))
    result["write_tiff"] = timed(lambda: tifffile.imwrite(os.path.join(out, "stack.tif"), volume))
if "zarr" in areas:
    import numcodecs
    import zarr
    result["versions"]["zarr"] = zarr.__version__
    result["read_zarr"] = timed(lambda: zarr.open_array(os.path.join(folder, "stack.zarr", "0"), mode="r")[...])

    def write_zarr():
        z = zarr.open_array(os.path.join(out, "stack.zarr"), mode="w", shape=volume.shape, dtype=volume.dtype,
                            chunks=(32, 256, 256), compressor=numcodecs.Zlib(level=1))
        z[...] = volume
    result["write_zarr"] = timed(write_zarr)
shutil.rmtree(out)
print(json.dumps(result))
