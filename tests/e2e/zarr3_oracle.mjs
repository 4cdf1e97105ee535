// uniem's Zarr version 3 against an independent implementation, zarrita (npm), under Node.
// zarrita writes version 3 arrays (uncompressed in either byte order, zstd, blosc); `uniem convert
// --format zarr3` reads each and writes it as an OME-Zarr 0.5 image whose arrays are sharded;
// zarrita reads that back through the image's multiscales and must find the same voxels, and
// coarser levels of the right shape. zarrita reads shards but does not write them; uniem's reading
// of shards is tested on files laid out by hand in tests/io/test_zarr.cpp.
// Usage: node zarr3_oracle.mjs UNIEM_BINARY WORK_DIR. Exit 77 (skipped) without zarrita.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';

let zarr, FileSystemStore;
try {
  zarr = await import('zarrita');
  FileSystemStore = (await import('@zarrita/storage/fs')).default;
} catch {
  console.log('zarrita is not installed (scripts/setup.sh --browser installs it)');
  process.exit(77);
}
const [binary, work] = process.argv.slice(2);
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

function check(condition, what) {
  if (!condition) { console.error(`FAILED: ${what}`); process.exit(1); }
  console.log(`ok: ${what}`);
}
function uniem(...args) {
  const r = spawnSync(binary, args, { encoding: 'utf8' });
  if (r.status !== 0) { console.error(`uniem ${args.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`); process.exit(1); }
  return r.stdout;
}
// A deterministic pattern with every byte of the type used.
const pattern = (Type, n, scale) => Type.from({ length: n }, (_, i) => ((i * 2654435761) % 4294967296) % scale);
const open = (path, kind) => zarr.open(zarr.root(new FileSystemStore(path)), { kind });

const cases = [
  { name: 'u8-uncompressed', dtype: 'uint8', Type: Uint8Array, scale: 256, shape: [3, 40, 50], chunk: [2, 16, 16], codecs: [] },
  { name: 'u16-big-endian', dtype: 'uint16', Type: Uint16Array, scale: 65536, shape: [2, 33, 20], chunk: [1, 10, 20], codecs: [], endian: 'big' },
  { name: 'u32-zstd', dtype: 'uint32', Type: Uint32Array, scale: 4294967296, shape: [4, 30, 30], chunk: [2, 30, 16],
    codecs: [{ name: 'zstd', configuration: { level: 3 } }] },
  { name: 'f32-blosc', dtype: 'float32', Type: Float32Array, scale: 1000, shape: [2, 300, 280], chunk: [1, 128, 128],
    codecs: [{ name: 'blosc', configuration: { cname: 'lz4', clevel: 5, shuffle: 'shuffle', typesize: 4, blocksize: 0 } }] },
];
for (const c of cases) {
  const n = c.shape.reduce((a, b) => a * b, 1);
  const data = pattern(c.Type, n, c.scale);
  const source = `${work}/${c.name}.zarr`;
  const array = await zarr.create(zarr.root(new FileSystemStore(source)), {
    shape: c.shape, chunkShape: c.chunk, dtype: c.dtype,
    codecs: [{ name: 'bytes', configuration: { endian: c.endian || 'little' } }, ...c.codecs],
  });
  await zarr.set(array, null, { data, shape: c.shape, stride: [c.shape[1] * c.shape[2], c.shape[2], 1] });
  const out = `${work}/${c.name}-by-uniem.zarr`;
  uniem('convert', source, out, '--format', 'zarr3');
  check(/Zarr 3, shards/.test(uniem('info', out)), `${c.name}: uniem describes its own output as sharded Zarr 3`);
  const group = await open(out, 'group');
  const ome = group.attrs.ome;
  check(ome && ome.version === '0.5' && ome.multiscales[0].axes.map((a) => a.name).join() === 'z,y,x',
    `${c.name}: an OME-Zarr 0.5 image, axes z, y, x`);
  const level0 = await zarr.get(await open(`${out}/${ome.multiscales[0].datasets[0].path}`, 'array'));
  check(level0.shape.join() === c.shape.join(), `${c.name}: zarrita reads uniem's shards as ${level0.shape.join(' x ')}`);
  let differ = 0;
  for (let i = 0; i < n; i += 1) differ += level0.data[i] !== data[i] ? 1 : 0;
  check(differ === 0, `${c.name}: every voxel as zarrita wrote it (${n} voxels)`);
  if (ome.multiscales[0].datasets.length > 1) {
    const level1 = await zarr.get(await open(`${out}/${ome.multiscales[0].datasets[1].path}`, 'array'));
    check(level1.shape[1] === Math.ceil(c.shape[1] / 2) && level1.shape[2] === Math.ceil(c.shape[2] / 2),
      `${c.name}: level 1 is ${level1.shape.join(' x ')}`);
  }
}
console.log('zarrita and uniem agree on Zarr version 3');
