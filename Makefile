# The two commands of the README, and a few more. Every target first runs scripts/setup.sh,
# which installs missing Debian packages and is silent when all is there.
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
CONFIGURE = cmake -S . -DCMAKE_BUILD_TYPE=Release -DUNIEM_WERROR=ON $(CMAKE_FLAGS)

.PHONY: all setup setup-test build run test static static-cuda bench clean
all: build

setup:
	@scripts/setup.sh

# The tests also build the static binary, which needs the lodepng and cpp-httplib sources, drive
# the web pages in a real browser (Chromium and playwright-core) and run a real Slurm.
setup-test:
	@scripts/setup.sh --static --browser --cluster

build: setup
	@$(CONFIGURE) -B build >/dev/null
	@cmake --build build -j $(JOBS)

# Synthesise a demo volume and run the workflow on it; prints what it made.
run: build
	./build/uniem demo

# Every test: unit, data (skipped without ../shared/data), the static and clang builds.
test: setup-test build
	cd build && ctest --output-on-failure -j $(JOBS)

# A fully static uniem in build-static/uniem that runs on any x86-64 Linux.
static:
	@scripts/setup.sh --static
	@scripts/build-static.sh

# The same with the CUDA backend: static except glibc, the NVIDIA driver, cuBLAS and cuDNN (found
# at run time); build-static-cuda/uniem. Needs nvcc and cuDNN's headers.
static-cuda:
	@scripts/setup.sh --static
	@scripts/build-static.sh --cuda

# The benchmarks, each against its peer in the same run (tables for bench/RESULTS.md). Needs
# ../shared/bench-peers for the image and filter data; about 30 minutes on 2 cores.
bench: build
	@scripts/setup.sh --bench
	./build/bench/bench_io
	./build/bench/bench_image
	./build/bench/bench_filters
	./build/bench/bench_runtime
	./build/bench/bench_mesh
	./build/bench/bench_jobs
	./build/bench/bench_workbench
	./build/bench/bench_annotator
	./build/bench/bench_cnn2d
	./build/bench/bench_ffn
	./build/bench/bench_web

clean:
	rm -rf build build-static build-static-cuda build-clang demo-output accuracy-output
