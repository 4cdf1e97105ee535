// uniem's Neuroglancer precomputed volumes against Neuroglancer's own code (its npm package, run
// under Node). With Neuroglancer's compressed segmentation encoder, compressed Morton code and
// murmurhash3_x86_128, the test writes a uint64 segmentation unsharded and sharded (gzip-compressed
// minishard indices and data) and a uint16 image; `uniem convert` reads each and writes it as a
// precomputed volume of its own, whose chunks Neuroglancer's decoder must turn back into the same
// voxels. Bad input (an info that does not parse, a jpeg scale, a truncated shard, a chunk of the
// wrong size) must fail naming the file, leaving no output.
// Usage: node precomputed_oracle.mjs UNIEM_BINARY WORK_DIR. Exit 77 (skipped) without neuroglancer.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ng = join(dirname(fileURLToPath(import.meta.url)), 'node_modules', 'neuroglancer', 'lib');
if (!existsSync(join(ng, 'util', 'zorder.js'))) {
  console.log('neuroglancer is not unpacked (scripts/setup.sh --browser does it)');
  process.exit(77);
}
const { encodeChannels } = await import(join(ng, 'sliceview/compressed_segmentation/encode_uint64.js'));
const { decodeChannels } = await import(join(ng, 'sliceview/compressed_segmentation/decode_uint64.js'));
const decode32 = (await import(join(ng, 'sliceview/compressed_segmentation/decode_uint32.js'))).decodeChannels;
const { TypedArrayBuilder } = await import(join(ng, 'util/array.js'));
const { encodeZIndexCompressed } = await import(join(ng, 'util/zorder.js'));
const { murmurHash3_x86_128Hash64Bits_Bigint } = await import(join(ng, 'util/hash.js'));

const [binary, work] = process.argv.slice(2);
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
function check(condition, what) {
  if (!condition) { console.error(`FAILED: ${what}`); process.exit(1); }
  console.log(`ok: ${what}`);
}
function uniem(args, ok = true) {
  const r = spawnSync(binary, args, { encoding: 'utf8' });
  if (ok && r.status !== 0) { console.error(`uniem ${args.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`); process.exit(1); }
  return r;
}

// A volume (x fastest) of segments in boxes, ids above 2^32 so that 64 bits are needed.
const size = [37, 45, 20], chunk = [16, 16, 8], block = [8, 4, 2];
const n = size[0] * size[1] * size[2];
const labels = new BigUint64Array(n);
for (let z = 0, i = 0; z < size[2]; ++z)
  for (let y = 0; y < size[1]; ++y)
    for (let x = 0; x < size[0]; ++x, ++i)
      labels[i] = ((x * 7 + y * 3) % 11 === 0) ? 0n : (1n << 33n) + BigInt(Math.floor(x / 9) + 7 * Math.floor(y / 11) + 50 * Math.floor(z / 6));
const image = Uint16Array.from({ length: n }, (_, i) => (i * 2654435761) % 65536);
const grid = size.map((s, d) => Math.ceil(s / chunk[d]));

// The chunks of `data` (x fastest), each cut to the volume, encoded by `encode`.
function chunks(data, encode) {
  const out = [];
  for (let gz = 0; gz < grid[2]; ++gz)
    for (let gy = 0; gy < grid[1]; ++gy)
      for (let gx = 0; gx < grid[0]; ++gx) {
        const g = [gx, gy, gz];
        const begin = g.map((v, d) => v * chunk[d]), end = begin.map((b, d) => Math.min(size[d], b + chunk[d]));
        const cs = end.map((e, d) => e - begin[d]);
        const part = new data.constructor(cs[0] * cs[1] * cs[2]);
        for (let z = 0, k = 0; z < cs[2]; ++z)
          for (let y = 0; y < cs[1]; ++y)
            for (let x = 0; x < cs[0]; ++x) part[k++] = data[((begin[2] + z) * size[1] + begin[1] + y) * size[0] + begin[0] + x];
        out.push({ g, name: `${begin[0]}-${end[0]}_${begin[1]}-${end[1]}_${begin[2]}-${end[2]}`, bytes: encode(part, cs) });
      }
  return out;
}
const encodeSegmentation = (part, cs) => {
  const builder = new TypedArrayBuilder(Uint32Array, 1024);
  encodeChannels(builder, block, part, [...cs, 1]);
  return Buffer.from(builder.view.buffer, builder.view.byteOffset, builder.view.byteLength);
};
const info = (type, dataType, scale) => JSON.stringify({
  '@type': 'neuroglancer_multiscale_volume', type, data_type: dataType, num_channels: 1,
  scales: [{ key: '8_8_40', size, resolution: [8, 8, 40], voxel_offset: [0, 0, 0], chunk_sizes: [chunk], ...scale }],
});
function writeVolume(folder, infoText, files) {
  mkdirSync(join(folder, '8_8_40'), { recursive: true });
  writeFileSync(join(folder, 'info'), infoText);
  for (const [name, bytes] of files) writeFileSync(join(folder, '8_8_40', name), bytes);
}
const segScale = { encoding: 'compressed_segmentation', compressed_segmentation_block_size: block };
const segChunks = chunks(labels, encodeSegmentation);
writeVolume(join(work, 'ng-seg.precomputed'), info('segmentation', 'uint64', segScale), segChunks.map(c => [c.name, c.bytes]));
writeVolume(join(work, 'ng-image.precomputed'), info('image', 'uint16', { encoding: 'raw' }),
            chunks(image, (part) => Buffer.from(part.buffer)).map(c => [c.name, c.bytes]));

// The same segmentation sharded: 2 shards of 4 minishards, murmurhash3, gzip everywhere.
const sharding = { '@type': 'neuroglancer_uint64_sharded_v1', preshift_bits: 1, hash: 'murmurhash3_x86_128', minishard_bits: 2,
                   shard_bits: 1, minishard_index_encoding: 'gzip', data_encoding: 'gzip' };
const shards = new Map();
for (const c of segChunks) {
  const id = encodeZIndexCompressed(c.g, grid);
  const hashed = murmurHash3_x86_128Hash64Bits_Bigint(0, id >> 1n);
  const minishard = Number(hashed & 3n), shard = Number((hashed >> 2n) & 1n);
  if (!shards.has(shard)) shards.set(shard, [[], [], [], []]);
  shards.get(shard)[minishard].push({ id, data: gzipSync(c.bytes) });
}
const shardFiles = [];
for (const [shard, minishards] of shards) {
  const index = Buffer.alloc(4 * 16), parts = [];
  let offset = 0;
  const indices = [];
  for (const [m, entries] of minishards.entries()) {  // data first, then the minishard indices
    entries.sort((a, b) => (a.id < b.id ? -1 : 1));
    const table = new BigUint64Array(3 * entries.length);
    let previousId = 0n, previousEnd = 0n;  // the first start counts from the end of the shard index
    entries.forEach((e, i) => {
      table[i] = e.id - previousId, previousId = e.id;
      table[entries.length + i] = BigInt(offset) - previousEnd;
      table[2 * entries.length + i] = BigInt(e.data.length);
      parts.push(e.data), offset += e.data.length, previousEnd = BigInt(offset);
    });
    indices.push([m, entries.length ? gzipSync(Buffer.from(table.buffer)) : Buffer.alloc(0)]);
  }
  for (const [m, bytes] of indices) {
    index.writeBigUInt64LE(BigInt(offset), 16 * m), index.writeBigUInt64LE(BigInt(offset + bytes.length), 16 * m + 8);
    parts.push(bytes), offset += bytes.length;
  }
  shardFiles.push([`${shard.toString(16)}.shard`, Buffer.concat([index, ...parts])]);
}
writeVolume(join(work, 'ng-sharded.precomputed'), info('segmentation', 'uint64', { ...segScale, sharding }), shardFiles);

// uniem reads each and writes its own; Neuroglancer's decoder reads uniem's chunks.
function readUniem(folder) {
  const meta = JSON.parse(readFileSync(join(folder, 'info'), 'utf8'));
  const s = meta.scales[0];
  const Type = { uint64: BigUint64Array, uint32: Uint32Array, uint16: Uint16Array }[meta.data_type];
  const out = new Type(n);
  for (const name of readdirSync(join(folder, s.key))) {
    const [b, e] = [0, 1].map(k => name.split('_').map(r => Number(r.split('-')[k])));
    const cs = e.map((v, d) => v - b[d]);
    const bytes = readFileSync(join(folder, s.key, name));
    let part;
    if (s.encoding === 'compressed_segmentation') {
      const words = new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
      part = new Type(cs[0] * cs[1] * cs[2]);
      (Type === BigUint64Array ? decodeChannels : decode32)(part, words, 0, [...cs, 1], s.compressed_segmentation_block_size);
    } else {
      part = new Type(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    }
    for (let z = 0, k = 0; z < cs[2]; ++z)
      for (let y = 0; y < cs[1]; ++y)
        for (let x = 0; x < cs[0]; ++x) out[((b[2] + z) * size[1] + b[1] + y) * size[0] + b[0] + x] = part[k++];
  }
  return { meta, out };
}
const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
for (const name of ['ng-seg', 'ng-sharded']) {
  uniem(['convert', join(work, `${name}.precomputed`), join(work, `${name}-uniem.precomputed`), '--labels']);
  const { meta, out } = readUniem(join(work, `${name}-uniem.precomputed`));
  check(meta.type === 'segmentation' && meta.data_type === 'uint64' && meta.scales[0].encoding === 'compressed_segmentation',
        `${name}: uniem writes a uint64 compressed segmentation`);
  check(same(out, labels), `${name}: uniem read what Neuroglancer's code wrote, and Neuroglancer's decoder reads what uniem wrote`);
  check(JSON.stringify(meta.scales[0].resolution) === '[8,8,40]', `${name}: the resolution is kept (${meta.scales[0].resolution})`);
}
uniem(['convert', join(work, 'ng-image.precomputed'), join(work, 'image-uniem.precomputed')]);
const img = readUniem(join(work, 'image-uniem.precomputed'));
check(img.meta.type === 'image' && same(img.out, image), 'a raw uint16 image: read and written voxel for voxel');
// Small ids are written as uint32, which Neuroglancer's uint32 decoder reads.
uniem(['convert', join(work, 'ng-image.precomputed'), join(work, 'small-ids.precomputed'), '--labels']);
const small = readUniem(join(work, 'small-ids.precomputed'));
check(small.meta.data_type === 'uint32' && same(Array.from(small.out), Array.from(image)), 'ids below 2^32 as uint32 compressed segmentation');

// Meshes written inside the segmentation are named in its info, for Neuroglancer to show.
uniem(['mesh', join(work, 'ng-seg-uniem.precomputed'), join(work, 'ng-seg-uniem.precomputed', 'mesh'), '--format', 'precomputed']);
const linked = JSON.parse(readFileSync(join(work, 'ng-seg-uniem.precomputed', 'info'), 'utf8'));
const first = `${(1n << 33n).toString()}:0`;  // the manifest of the first segment
check(linked.mesh === 'mesh' && existsSync(join(work, 'ng-seg-uniem.precomputed', 'mesh', first)) && linked.scales.length === 1,
      'uniem mesh into seg.precomputed/mesh names the meshes in the info');

// Bad input: one line naming the file, no output.
const refuse = (folder, change, words) => {
  const target = join(work, `${folder}-bad-out.tif`);
  change();
  const r = uniem(['convert', join(work, folder), target], false);
  check(r.status !== 0 && r.stderr.includes(words) && !existsSync(target), `${folder}: refused (${r.stderr.trim()})`);
};
mkdirSync(join(work, 'bad-info.precomputed'));
refuse('bad-info.precomputed', () => writeFileSync(join(work, 'bad-info.precomputed', 'info'), '{"scales": [{"key": "x", "size": [1, 2'), 'info');
mkdirSync(join(work, 'jpeg.precomputed'));
refuse('jpeg.precomputed', () => writeFileSync(join(work, 'jpeg.precomputed', 'info'), info('image', 'uint8', { encoding: 'jpeg' })), 'jpeg');
refuse('ng-sharded.precomputed', () => truncateSync(join(work, 'ng-sharded.precomputed', '8_8_40', shardFiles[0][0]), 100), '.shard');
refuse('ng-image.precomputed', () => writeFileSync(join(work, 'ng-image.precomputed', '8_8_40', '0-16_0-16_0-8'), 'short'), '0-16_0-16_0-8');
console.log('precomputed oracle: all checks passed');
