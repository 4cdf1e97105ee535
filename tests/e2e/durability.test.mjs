// Durability of the proofreader: scripted clients make edits while `uniem serve` is killed with
// SIGKILL at random moments and restarted, ROUNDS times. Every acknowledged edit must be there
// afterwards, and nothing else: voxels never sent keep their value, an edit in flight at the kill
// is either wholly there or wholly absent, and the version counts exactly the edits applied.
// Usage: node durability.test.mjs UNIEM_BINARY WORK_DIR [ROUNDS]. Fixed seed: the same run each time.
import { mkdirSync, rmSync } from 'node:fs';
import { uniem, serve, stop, json, labelVolume, check } from './server.mjs';

const [binary, work, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg || 20);
let seed = 12345;
const random = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 2 ** 32; };

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
uniem(binary, ['synth', `${work}/synth`, '--shape', '4,96,96', '--seed', '5']);
const project = `${work}/project`;
let server = await serve(binary, ['--images', `${work}/synth/image`, '--labels', `${work}/synth/neurons`, '--project', project]);
const original = await labelVolume(server.url);
const [nz, ny, nx] = original.info.shape;
const ids = [...new Set(original.sections.flatMap((s) => [...s]))].filter((v) => v > 0).slice(0, 2);

// Edit k paints voxel k (each voxel at most once) with the first id it does not already hold.
const voxel = (k) => [k % nz, Math.floor(k / nz) % ny, Math.floor(k / (nz * ny)) % nx];
const target = (k) => { const v = voxel(k); return original.at(...v) === ids[0] ? ids[1] : ids[0]; };
const state = new Map();  // k -> 'acked' | 'inflight'
let next = 0, version = 0, acked = 0, kills = 0;

async function client() {
  for (;;) {
    const k = next++;
    if (k >= ny * nx * nz) return;
    const [z, y, x] = voxel(k);
    state.set(k, 'inflight');
    try {
      const r = await json(`${server.url}api/edit`, { op: 'paint', user: `c${k % 3}`, version, z, points: [[y, x]], radius: 0.5, id: target(k) });
      check(r.changed === 1, `edit ${k} changed one voxel`);
      version = Math.max(version, r.version);
      state.set(k, 'acked');
      ++acked;
    } catch (e) {
      if (e.status) throw e;  // a refusal would be a bug here
      return;                 // the server died: this edit stays 'inflight'
    }
  }
}

for (let round = 0; round < rounds; ++round) {
  const clients = [client(), client(), client()];
  await new Promise((resolve) => setTimeout(resolve, 30 + random() * 250));
  server.process.kill('SIGKILL');
  ++kills;
  await Promise.all(clients);
  server = await serve(binary, ['--project', project]);
  const info = await json(`${server.url}api/info`);
  const now = await labelVolume(server.url);
  let applied = 0;
  for (let k = 0; k < next; ++k) {
    const v = voxel(k), there = now.at(...v) === target(k);
    if (state.get(k) === 'acked') check(there, `acknowledged edit ${k} survived kill ${kills}`);
    if (!state.has(k)) check(!there, `edit ${k}, lost in flight earlier, did not come back`);
    if (there) { ++applied; if (state.get(k) === 'inflight') state.set(k, 'acked'); }
    else if (state.get(k) === 'inflight') state.delete(k);  // never acknowledged, never applied
  }
  for (let k = next; k < nz * ny * nx; ++k) check(now.at(...voxel(k)) === original.at(...voxel(k)), `voxel ${k} was never edited`);
  check(info.version === applied, `version ${info.version} counts the ${applied} edits applied`);
  version = info.version;
}

// Copy and interpolate (fast ground truth): each is one record, there whole after a SIGKILL right
// after its acknowledgement, and one step of undo after the restart.
const same = (a, b) => a.sections.every((s, z) => s.every((l, i) => l === b.sections[z][i]));
const gt = async (op, fields) => {
  const r = await json(`${server.url}api/edit`, { op, user: 'gt', version, ...fields });
  version = r.version;
  return r;
};
const killAndRestart = async () => {
  server.process.kill('SIGKILL');
  ++kills;
  await new Promise((resolve) => server.process.once('exit', resolve));
  server = await serve(binary, ['--project', project]);
};
const disc = await gt('paint', { z: 0, points: [[48, 40]], radius: 10, id: 'new' });
const copied = await gt('copy', { id: disc.id, z: 0, to: 1, protect: false });
await gt('paint', { z: 3, points: [[48, 56]], radius: 20, id: disc.id });
const beforeInterpolation = await labelVolume(server.url);
const filled = await gt('interpolate', { id: disc.id, z1: 1, z2: 3, protect: false });
check(copied.changed > 250 && filled.changed > 400, `the copy (${copied.changed}) and the interpolation (${filled.changed}) painted`);
const acknowledged = await labelVolume(server.url);
await killAndRestart();
check((await json(`${server.url}api/info`)).version === version, 'the copy and the interpolation are counted after the kill');
check(same(await labelVolume(server.url), acknowledged), 'the copy and the interpolation survived the kill whole');
const undone = await gt('undo', {});
check(undone.of.op === 'interpolate' && undone.changed === filled.changed, 'one undo takes the whole interpolation back');
await killAndRestart();
check(same(await labelVolume(server.url), beforeInterpolation), 'the undo of the interpolation survived the kill');
await stop(server);
console.log(`ok: ${kills} SIGKILLs during ${acked} acknowledged edits, a copy and an interpolation; every one survived, nothing else changed`);
