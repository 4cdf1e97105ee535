#!/usr/bin/python3
"""uniem's HDF5 against an independent implementation, Debian's python3-h5py.

h5py writes datasets in the layouts labs have (CREMI's volumes/raw with a "resolution" attribute
and uint64 volumes/labels/neuron_ids, FFN's raw and stack, ilastik's (z, y, x, 1) exported_data
with element_size_um, 2D, signed, boolean and float64 datasets, contiguous or chunked with gzip,
shuffle, LZF or Fletcher-32); `uniem convert` copies each into a new HDF5 file and into an existing
one beside its datasets; h5py reads them back and must find the same voxels, the voxel size and
the other datasets untouched. Bad input (a missing dataset, a file that is not HDF5, a truncated
file, negative labels) must fail with the file named, leaving the output as it was.

Usage: hdf5_oracle.py UNIEM WORK_DIR. Exit 77 (skipped) without python3-h5py.
"""
import os
import shutil
import subprocess
import sys

try:
    import h5py
    import numpy as np
except ImportError:
    print("python3-h5py is not installed (scripts/setup.sh --browser installs it)")
    sys.exit(77)

uniem, work = sys.argv[1:3]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
os.chdir(work)
rng = np.random.default_rng(2)


def run(*args, ok=True):
    r = subprocess.run([uniem, *args], capture_output=True, text=True)
    if ok and r.returncode != 0:
        sys.exit(f"uniem {' '.join(args)} failed ({r.returncode}): {r.stdout}{r.stderr}")
    return r


def check(condition, what):
    if not condition:
        sys.exit(f"FAILED: {what}")
    print(f"ok: {what}")


labels = rng.integers(0, 2**40, (6, 40, 50), dtype=np.uint64)
with h5py.File("cremi.h5", "w") as f:
    raw = f.create_dataset("volumes/raw", data=rng.integers(0, 256, (6, 40, 50), dtype=np.uint8), chunks=(2, 20, 25), compression="gzip")
    raw.attrs["resolution"] = [40.0, 4.0, 4.0]
    f.create_dataset("volumes/labels/neuron_ids", data=labels, chunks=(3, 16, 16), compression="gzip", shuffle=True)
with h5py.File("ffn.h5", "w") as f:
    f.create_dataset("raw", data=rng.integers(0, 256, (5, 33, 31), dtype=np.uint8))
    f.create_dataset("stack", data=rng.integers(0, 70000, (5, 33, 31), dtype=np.int64), chunks=(5, 11, 11), compression="lzf")
with h5py.File("ilastik.h5", "w") as f:
    d = f.create_dataset("exported_data", data=rng.random((4, 30, 20, 1), dtype=np.float32), chunks=(1, 30, 20, 1), compression="lzf")
    d.attrs["element_size_um"] = [0.03, 0.005, 0.005]
with h5py.File("other.h5", "w") as f:
    f.create_dataset("section", data=rng.integers(0, 65535, (64, 48), dtype=np.uint16), chunks=(8, 8), fletcher32=True)
    f.create_dataset("mask", data=rng.random((3, 10, 12)) > 0.5)
    f.create_dataset("float64", data=rng.random((3, 10, 12)))
    f.create_dataset("signed", data=rng.integers(0, 120, (3, 10, 12), dtype=np.int8))
    f.create_dataset("big-endian", data=rng.integers(0, 65535, (3, 10, 12)).astype(">u2"), compression="gzip")
    f.create_dataset("negative", data=np.full((2, 4, 4), -3, dtype=np.int32))


def expected(name):
    file, dataset = name.split(":")
    with h5py.File(file, "r") as f:
        a = f[dataset][...]
    a = a.reshape([n for n in a.shape if n != 1] if a.ndim > 3 else a.shape)
    if a.ndim == 2:
        a = a[None]
    return a.astype(np.float32) if a.dtype.kind == "f" else a.astype(np.uint8) if a.dtype == bool else a


for source in ["cremi.h5:volumes/raw", "cremi.h5:volumes/labels/neuron_ids", "ffn.h5:raw", "ffn.h5:stack", "ilastik.h5:exported_data",
               "other.h5:section", "other.h5:mask", "other.h5:float64", "other.h5:signed", "other.h5:big-endian"]:
    target = source.replace(".h5:", "-").replace("/", "-")
    run("convert", source, f"copies.h5:{target}")
    with h5py.File("copies.h5", "r") as f:
        got = f[target][...]
    want = expected(source)
    check(got.shape == want.shape and np.array_equal(got, want.astype(got.dtype)) and got.dtype.itemsize == max(1, want.dtype.itemsize),
          f"{source}: uniem reads what h5py wrote, and h5py what uniem wrote ({got.dtype}, {got.shape})")

with h5py.File("copies.h5", "r") as f:
    check(list(f["cremi-volumes-raw"].attrs["resolution"]) == [40.0, 4.0, 4.0], "CREMI's resolution attribute is kept")
    check(np.allclose(f["ilastik-exported_data"].attrs["resolution"], [30.0, 5.0, 5.0]), "ilastik's element_size_um becomes the resolution in nm")
    check(len(f.keys()) == 10, "each convert added its dataset beside the others")

# A file named alone: its one volume, or a message listing the volumes.
with h5py.File("single.h5", "w") as f:
    f.create_dataset("only/volume", data=np.arange(60, dtype=np.uint16).reshape(3, 4, 5))
run("convert", "single.h5", "single-copy.h5", "--labels")
with h5py.File("single-copy.h5", "r") as f:
    check(np.array_equal(f["volumes/labels"][...], np.arange(60).reshape(3, 4, 5)), "a file with one volume is read without naming it; --labels names the output volumes/labels")
r = run("info", "cremi.h5", ok=False)
check(r.returncode != 0 and "volumes/raw" in r.stderr and "cremi.h5:" in r.stderr, "a file with several volumes asks for one: " + r.stderr.strip())

# Bad input: named, non-zero, the output untouched.
before = open("copies.h5", "rb").read()
for args, words in [(["convert", "cremi.h5:volumes/nothing", "copies.h5:x"], "no such dataset"),
                    (["convert", "other.h5:negative", "copies.h5:x"], "negative"),
                    (["convert", "cremi.h5:volumes/raw", "copies.h5:cremi-volumes-raw"], "already exists"),
                    (["convert", "missing.h5:raw", "copies.h5:x"], "no such file")]:
    r = run(*args, ok=False)
    check(r.returncode != 0 and words in r.stderr and open("copies.h5", "rb").read() == before,
          f"{args[1]} -> {args[2]}: refused, output untouched: {r.stderr.strip()}")
with open("not-hdf5.h5", "w") as f:
    f.write("this is text\n")
r = run("info", "not-hdf5.h5", ok=False)
check(r.returncode != 0 and "not-hdf5.h5" in r.stderr and "not an HDF5 file" in r.stderr, "a text file named .h5: " + r.stderr.strip())
data = open("cremi.h5", "rb").read()
with open("truncated.h5", "wb") as f:
    f.write(data[: len(data) * 2 // 3])
r = run("convert", "truncated.h5:volumes/labels/neuron_ids", "t.tif", ok=False)
check(r.returncode != 0 and "truncated.h5" in r.stderr and not os.path.exists("t.tif") and "Segmentation" not in r.stderr,
      "a truncated file: " + r.stderr.strip())
run("convert", "cremi.h5:volumes/raw", "copies.h5:cremi-volumes-raw", "--overwrite")
with h5py.File("copies.h5", "r") as f:
    check(len(f.keys()) == 10 and np.array_equal(f["cremi-volumes-raw"][...], expected("cremi.h5:volumes/raw")), "--overwrite replaces one dataset, keeping the others")
leftovers = [n for n in os.listdir(".") if ".tmp-" in n]
check(not leftovers, "no temporary files are left behind")
print("hdf5 oracle: all checks passed")
