#!/usr/bin/env bash
# Installs what uniem needs on Debian 12, and nothing twice. Quiet when everything is there.
#
#   scripts/setup.sh            packages for the everyday build and its tests, and the pages'
#                               libraries from npm (uPlot, three.js, into web/vendor/node_modules),
#                               which the build embeds into the binary
#   scripts/setup.sh --static   also the Debian sources of lodepng and cpp-httplib for the static build,
#                               unpacked into build-static/_sources (adds a deb-src entry to apt if missing)
#   scripts/setup.sh --bench    also the Python peers the benchmarks compare against
#   scripts/setup.sh --browser  also Chromium, Node.js, playwright-core, zarrita and neuroglancer (npm, into
#                               tests/e2e) for the browser tests of the web pages and the format oracles
#                               (with python3-zarr and python3-h5py)
#   scripts/setup.sh --cluster  also Slurm and munge, which the cluster test starts on this machine
# Runs apt-get as root, or through sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

want_static=0 want_bench=0 want_browser=0 want_cluster=0
for arg in "$@"; do
  case "$arg" in
    --static) want_static=1 ;;
    --bench) want_bench=1 ;;
    --browser) want_browser=1 ;;
    --cluster) want_cluster=1 ;;
    *) echo "setup.sh: unknown option '$arg' (use --static, --bench, --browser or --cluster)" >&2; exit 2 ;;
  esac
done

packages=(build-essential cmake pkg-config git file
          libeigen3-dev zlib1g-dev libdeflate-dev liblodepng-dev libcpp-httplib-dev doctest-dev libtiff-dev
          nlohmann-json3-dev libsqlite3-dev libblosc-dev libzstd-dev liblz4-dev libsnappy-dev libhdf5-dev clang)
[ $want_static = 1 ] && packages+=(dpkg-dev)
[ $want_browser = 1 ] && packages+=(chromium python3-zarr python3-h5py)  # the tests' browser and their Zarr and HDF5 oracles
[ $want_cluster = 1 ] && packages+=(slurm-wlm munge)  # tests/cluster/slurm.sh runs a real Slurm on this machine
# Node.js may come from elsewhere (NodeSource bundles npm, and conflicts with Debian's npm): only
# what has no command yet is installed. npm fetches the pages' libraries (and the browser tests').
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
[ $want_bench = 1 ] && packages+=(python3-numpy python3-tifffile python3-pil python3-scipy python3-skimage python3-opencv python3-torch python3-vtk9 python3-zarr)

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "setup.sh: need root (or sudo) to run: $*" >&2; exit 1; fi
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ $want_static = 1 ]; then
  src=build-static/_sources
  if ! ls -d $src/lodepng-*/ $src/cpp-httplib-*/ >/dev/null 2>&1; then
    if ! apt-get source --print-uris lodepng >/dev/null 2>&1; then
      echo "setup: adding a deb-src entry for bookworm (/etc/apt/sources.list.d/uniem-deb-src.sources)"
      as_root tee /etc/apt/sources.list.d/uniem-deb-src.sources >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
      as_root apt-get update -qq
    fi
    echo "setup: fetching the Debian sources of lodepng and cpp-httplib into $src"
    rm -rf $src && mkdir -p $src
    (cd $src && apt-get source -qq lodepng cpp-httplib >/dev/null 2>&1) || {
      echo "setup: 'apt-get source lodepng cpp-httplib' failed" >&2; exit 1; }
  fi
fi

if [ ! -f web/vendor/node_modules/uplot/dist/uPlot.iife.min.js ] || [ ! -f web/vendor/node_modules/three/build/three.module.js ]; then
  echo "setup: installing uPlot and three.js from npm into web/vendor/node_modules (embedded into uniem)"
  (cd web/vendor && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || {
    echo "setup: 'npm ci' in web/vendor failed (is registry.npmjs.org reachable?)" >&2; exit 1; }
fi

if [ $want_browser = 1 ] && { [ ! -d tests/e2e/node_modules/playwright-core ] || [ ! -d tests/e2e/node_modules/zarrita ]; }; then
  echo "setup: installing playwright-core and zarrita from npm into tests/e2e/node_modules"
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || {
    echo "setup: 'npm ci' in tests/e2e failed (is registry.npmjs.org reachable?)" >&2; exit 1; }
fi
# Neuroglancer's own code is the oracle of the precomputed format (compressed segmentation, Morton
# codes, the sharding hash). Its npm package names a dependency on GitHub, which cannot be reached
# here, and the oracle needs none of them: the package alone is unpacked (npm checks its integrity).
neuroglancer=2.41.2
if [ $want_browser = 1 ] && [ ! -f tests/e2e/node_modules/neuroglancer/lib/util/zorder.js ]; then
  echo "setup: unpacking neuroglancer $neuroglancer from npm into tests/e2e/node_modules/neuroglancer (the precomputed oracle)"
  pack=$(mktemp -d)
  (cd "$pack" && npm pack "neuroglancer@$neuroglancer" --loglevel=error >/dev/null) || {
    echo "setup: 'npm pack neuroglancer@$neuroglancer' failed (is registry.npmjs.org reachable?)" >&2; rm -rf "$pack"; exit 1; }
  mkdir -p tests/e2e/node_modules/neuroglancer
  tar xzf "$pack"/neuroglancer-$neuroglancer.tgz -C tests/e2e/node_modules/neuroglancer --strip-components=1
  rm -rf "$pack"
fi
