#!/usr/bin/python3
"""uniem's Zarr against an independent implementation, Debian's python3-zarr (Zarr v2).

zarr-python writes arrays of every type and codec uniem reads (zlib, gzip, blosc with lz4, zstd
and zlib inside and byte or bit shuffle, zstd, lz4, none; big-endian,
bool, float64, 2D, chunks left unwritten; and N5 datasets through its N5Store); `uniem convert`
turns each into an OME-Zarr image;
zarr-python reads that back and must find the same voxels, the OME multiscales metadata, and
coarser levels that are the block means (images) or the most frequent ids (--labels).

Usage: zarr_oracle.py UNIEM WORK_DIR. Exit 77 (skipped) without python3-zarr.
"""
import json
import os
import shutil
import subprocess
import sys

try:
    import numcodecs
    import numpy as np
    import zarr
except ImportError:
    print("python3-zarr is not installed (scripts/setup.sh --browser installs it)")
    sys.exit(77)

uniem, work = sys.argv[1:3]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
rng = np.random.default_rng(1)


def run(*args):
    r = subprocess.run([uniem, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"uniem {' '.join(args)} failed ({r.returncode}): {r.stdout}{r.stderr}")
    return r.stdout


def check(condition, what):
    if not condition:
        sys.exit(f"FAILED: {what}")
    print(f"ok: {what}")


def level(group, i):
    return group[group.attrs["multiscales"][0]["datasets"][i]["path"]][...]


arrays = {
    "u8-zlib": (rng.integers(0, 256, (5, 70, 90), dtype=np.uint8), numcodecs.Zlib(level=3), (2, 32, 40), 0),
    "u16-big-endian-gzip": (rng.integers(0, 65535, (3, 40, 50)).astype(">u2"), numcodecs.GZip(), (3, 16, 16), 0),
    "u32-uncompressed": (rng.integers(0, 2**32 - 1, (4, 33, 35), dtype=np.uint32), None, (4, 10, 10), 0),
    "f64-zlib": (rng.random((2, 20, 30)), numcodecs.Zlib(), (1, 20, 30), 0),
    "bool": (rng.random((2, 16, 16)) > 0.5, None, (2, 8, 8), 0),
    "2d-u8": (rng.integers(0, 256, (50, 60), dtype=np.uint8), numcodecs.Zlib(), (25, 25), 0),
    "unwritten-chunks": (np.full((4, 20, 20), 5, dtype=np.uint16), numcodecs.Zlib(), (2, 10, 10), 5),
    "blosc-default": (rng.integers(0, 256, (6, 64, 64), dtype=np.uint8), "default", (3, 32, 32), 0),
    "blosc-zstd-bitshuffle": (rng.integers(0, 9000, (4, 40, 40), dtype=np.uint16),
                              numcodecs.Blosc(cname="zstd", clevel=5, shuffle=numcodecs.Blosc.BITSHUFFLE), (2, 20, 40), 0),
    "blosc-zlib-f32": (rng.random((3, 30, 30)).astype(np.float32), numcodecs.Blosc(cname="zlib", shuffle=numcodecs.Blosc.SHUFFLE), (3, 16, 16), 0),
    "zstd": (rng.integers(0, 2**31, (3, 25, 25), dtype=np.uint32), numcodecs.Zstd(level=3), (2, 25, 10), 0),
    "lz4": (rng.integers(0, 256, (2, 50, 50), dtype=np.uint8), numcodecs.LZ4(), (1, 50, 50), 0),
}
for name, (data, codec, chunks, fill) in arrays.items():
    source = f"{work}/{name}.zarr"
    codec = {} if codec == "default" else {"compressor": codec}  # zarr-python's default: blosc with lz4
    z = zarr.open_array(source, mode="w", shape=data.shape, chunks=chunks, dtype=data.dtype, fill_value=fill, **codec)
    if name == "unwritten-chunks":
        data[:2, :10, :10] = np.arange(100, dtype=np.uint16).reshape(10, 10)
        z[:2, :10, :10] = data[:2, :10, :10]  # the other chunks are never written: read as the fill value
        check(len([k for k in z.store.keys() if not k.startswith(".")]) == 1, f"{name}: zarr-python wrote one chunk")
    else:
        z[...] = data
    out = f"{work}/{name}-by-uniem.zarr"
    run("convert", source, out)
    back = level(zarr.open_group(out, mode="r"), 0)
    expected = data.reshape((1,) + data.shape) if data.ndim == 2 else data
    expected = expected.astype(np.float32) if data.dtype.kind == "f" else expected.astype(np.uint8) if data.dtype == bool else expected
    check(back.shape == expected.shape and back.dtype == expected.dtype.newbyteorder("="),
          f"{name}: shape {back.shape} and type {back.dtype} as written")
    check(np.array_equal(back, expected), f"{name}: every voxel read by uniem and written back as zarr-python reads it")

# N5, as zarr-python's N5Store writes it (blocks listed x first, big-endian, whole edge blocks).
n5 = zarr.N5Store(f"{work}/volume.n5")
n5_cases = {"gzip": (numcodecs.GZip(), np.uint16), "zlib": (numcodecs.Zlib(), np.uint8), "blosc": (numcodecs.Blosc(), np.float32),
            "raw": (None, np.uint32)}
for name, (codec, dtype) in n5_cases.items():
    data = (rng.random((5, 37, 41)) * 1000).astype(dtype)
    zarr.open_array(n5, mode="w", path=name, shape=data.shape, chunks=(2, 16, 16), dtype=dtype, compressor=codec)[...] = data
    run("convert", f"{work}/volume.n5/{name}", f"{work}/n5-{name}.zarr")
    back = level(zarr.open_group(f"{work}/n5-{name}.zarr", mode="r"), 0)
    check(np.array_equal(back, data), f"N5 {name} ({np.dtype(dtype).name}): every voxel read by uniem")

# A pyramid: an image's coarser level holds the block means; unknown voxel size, so z is halved too.
image = rng.integers(0, 256, (3, 300, 400), dtype=np.uint8)
zarr.open_array(f"{work}/big.zarr", mode="w", shape=image.shape, chunks=(3, 128, 128), dtype=np.uint8, compressor=numcodecs.Zlib())[...] = image
run("convert", f"{work}/big.zarr", f"{work}/pyramid.zarr")
group = zarr.open_group(f"{work}/pyramid.zarr", mode="r")
ms = group.attrs["multiscales"][0]
check(ms["version"] == "0.4" and [a["name"] for a in ms["axes"]] == ["z", "y", "x"] and len(ms["datasets"]) == 2,
      f"OME-Zarr 0.4 multiscales with axes z, y, x and two levels ({json.dumps(ms['datasets'])})")
check(ms["datasets"][1]["coordinateTransformations"][0]["scale"] == [2.0, 2.0, 2.0], "level 1's scale is twice level 0's")
coarse = level(group, 1)
check(coarse.shape == (2, 150, 200), f"level 1 is 2 x 150 x 200 ({coarse.shape})")
means = np.zeros(coarse.shape)
for z in range(2):
    block = image[2 * z:2 * z + 2].astype(np.float64)
    means[z] = block.reshape(block.shape[0], 150, 2, 200, 2).mean(axis=(0, 2, 4))
check(np.array_equal(coarse, np.floor(means + 0.5).astype(np.uint8)), "level 1 holds the mean of each 2 x 2 x 2 block, rounded")

# Labels: the coarser level keeps ids that are there, never a mean of two.
labels = rng.integers(1, 6, (2, 300, 300), dtype=np.uint32) * 1000
zarr.open_array(f"{work}/labels.zarr", mode="w", shape=labels.shape, chunks=(2, 100, 100), dtype=np.uint32, compressor=None)[...] = labels
run("convert", f"{work}/labels.zarr", f"{work}/labels-pyramid.zarr", "--labels")
coarse = level(zarr.open_group(f"{work}/labels-pyramid.zarr", mode="r"), 1)
check(set(np.unique(coarse)) <= {1000, 2000, 3000, 4000, 5000}, "a label volume's level 1 holds only its ids")
print("zarr-python and uniem agree")
