// The proofreader's side views: the two cuts across the sections, xz (along the cyan line of the
// section view) and yz (along the magenta line), shown beside the section view (xy) by the
// "Side views" button or the V key. View only: edits are made in the section view.
// Contract:
//  - The lines cross at state.planes.point = [y, x]: a click in the section view in Navigate
//    mode moves it there, as does a jump (goTo with y, x); the cuts are loaded through it at full
//    resolution (GET api/labels/plane, api/image/plane, web/server.h).
//  - A click in a cut goes to the section clicked (z) and moves the other cut's line there.
//  - Drawn to scale: a voxel is voxel_size nm tall (z) and wide, so anisotropic stacks look as
//    the tissue is; the yellow line in each cut is the section shown.
//  - The cuts are loaded again when the point moves, the version changes (anybody's edit), the
//    contrast changes or the opacity or the selection do (their colours and what is shown:
//    app_display.js shownColour, as in the section view).
//  - drawPlaneLines(ctx) is called by app.js draw() with the section view's voxel transform set;
//    planeAt(y, x) by goTo. state.planes.toScreen(plane, z, k) gives page coordinates of voxel
//    (z, k) of a cut (for the browser tests), state.planes.xz/yz what each cut shows.
'use strict';

const planeLine = { xz: '#00e5ff', yz: '#ff40ff', z: '#ffd740' };
state.planes = {
  on: false, point: null,
  xz: { labels: null, w: 0, h: 0, image: null, key: '', overlay: document.createElement('canvas') },
  yz: { labels: null, w: 0, h: 0, image: null, key: '', overlay: document.createElement('canvas') },
};

function planesShown(on) {
  const p = state.planes;
  p.on = on;
  $('planes').hidden = !on;
  $('planes-toggle').classList.toggle('active', on);
  if (on && !p.point) p.point = [Math.floor(state.info.shape[1] / 2), Math.floor(state.info.shape[2] / 2)];
  resize();  // the section view is narrower or wider now
  if (on) { loadPlanes(); say('side views: click the section view (Navigate) to move the cyan and magenta lines; click a side view to go to that section'); }
}

// Moves the point the cuts go through (voxel y, x of the section view).
function planeAt(y, x) {
  const [, ny, nx] = state.info.shape;
  state.planes.point = [Math.max(0, Math.min(ny - 1, Math.round(y))), Math.max(0, Math.min(nx - 1, Math.round(x)))];
  if (state.planes.on) { loadPlanes(); draw(); }
}

// The cut through the point: its labels (as runs) and its image, each loaded once per state.
async function loadPlane(plane) {
  const p = state.planes, c = p[plane];
  const at = plane === 'xz' ? p.point[0] : p.point[1];
  const [lo, hi] = state.window || state.info.window;
  const key = `${at}/${state.version}/${lo}/${hi}`;
  if (key === c.key) return paintPlane(plane);
  c.key = key;
  let runs, response;
  try {
    response = await fetch(url('api/labels/plane', { plane, at, encoding: 'runs' }));
    if (response.ok) runs = new Uint32Array(await response.arrayBuffer());
  } catch (e) { c.key = ''; return; }  // no answer: loaded again with the next change
  if (!response.ok) { say(`the ${plane} view could not be loaded: the server answered HTTP ${response.status}`, true); return; }
  const [h, w] = response.headers.get('X-Uniem-Size').split(',').map(Number);
  const image = new Image();
  image.src = url('api/image/plane', { plane, at, lo, hi });
  await image.decode().catch(() => {});
  if (c.key !== key) return;
  const labels = new Uint32Array(w * h);
  for (let k = 0, i = 0; k + 1 < runs.length; k += 2) {
    const end = i + runs[k + 1];
    if (runs[k]) labels.fill(runs[k], i, end);
    i = end;
  }
  Object.assign(c, { labels, w, h, image, at });
  paintPlane(plane);
}
function loadPlanes() {
  if (!state.planes.on) return;
  loadPlane('xz');
  loadPlane('yz');
}

// The labels of a cut in their colours, as paintOverlay does for the section.
function paintPlane(plane) {
  const c = state.planes[plane];
  if (!c.labels) return;
  c.overlay.width = c.w;
  c.overlay.height = c.h;
  const g = c.overlay.getContext('2d'), img = g.createImageData(c.w, c.h), px = new Uint32Array(img.data.buffer);
  const picked = new Set(state.picked);
  if (state.selected) picked.add(state.selected);
  const alpha = Math.round(state.opacity * 255), cache = new Map();
  for (let i = 0; i < c.labels.length; ++i) {
    const id = c.labels[i];
    if (!id) continue;
    let v = cache.get(id);
    if (v === undefined) {
      const rgb = shownColour(id), a = picked.has(id) || id === state.display.highlight ? Math.min(255, alpha + 100) : alpha;
      v = rgb ? ((a << 24) | (rgb[2] << 16) | (rgb[1] << 8) | rgb[0]) >>> 0 : 0;  // 0: hidden (app_display.js)
      cache.set(id, v);
    }
    px[i] = v;
  }
  g.putImageData(img, 0, 0);
  c.painted = `${state.opacity}/${[...picked].join(',')}/${state.display.highlight}`;
  drawPlane(plane);
}

// Where a cut is drawn on its canvas: voxel (z, k) at (ox + k * sx, oy + z * sz) canvas pixels,
// sx and sz in proportion to the voxel's width and height in nm.
function planeLayout(plane) {
  const canvas = $(plane), c = state.planes[plane];
  const [vz, vy, vx] = state.info.voxel_size || [1, 1, 1];
  const wide = plane === 'xz' ? vx : vy;
  const s = Math.min(canvas.width / (c.w * wide), canvas.height / (c.h * vz));
  const sx = s * wide, sz = s * vz;
  return { sx, sz, ox: (canvas.width - c.w * sx) / 2, oy: (canvas.height - c.h * sz) / 2 };
}

function drawPlane(plane) {
  const canvas = $(plane), c = state.planes[plane];
  const r = canvas.getBoundingClientRect(), w = Math.max(1, Math.round(r.width)), h = Math.max(1, Math.round(r.height));
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const g = canvas.getContext('2d');
  g.fillStyle = '#000';
  g.fillRect(0, 0, canvas.width, canvas.height);
  if (!c.labels) return;
  const { sx, sz, ox, oy } = planeLayout(plane);
  g.imageSmoothingEnabled = false;
  if (c.image && c.image.naturalWidth) g.drawImage(c.image, ox, oy, c.w * sx, c.h * sz);
  g.drawImage(c.overlay, ox, oy, c.w * sx, c.h * sz);
  const other = plane === 'xz' ? state.planes.point[1] : state.planes.point[0];
  g.lineWidth = 1;
  g.strokeStyle = planeLine.z;  // the section shown
  g.beginPath();
  g.moveTo(ox, oy + (state.z + 0.5) * sz);
  g.lineTo(ox + c.w * sx, oy + (state.z + 0.5) * sz);
  g.stroke();
  g.strokeStyle = planeLine[plane === 'xz' ? 'yz' : 'xz'];  // where the other cut goes through
  g.beginPath();
  g.moveTo(ox + (other + 0.5) * sx, oy);
  g.lineTo(ox + (other + 0.5) * sx, oy + c.h * sz);
  g.stroke();
  const [vz, vy, vx] = state.info.voxel_size || [1, 1, 1];
  const scale = state.info.voxel_size_known ? `${vz} x ${plane === 'xz' ? vx : vy} nm voxels to scale` : 'voxel size not known: drawn as cubes';
  $(`${plane}-title`).textContent = `${plane === 'xz' ? `Along the cyan line (y ${c.at})` : `Along the magenta line (x ${c.at})`}: ` +
    `section 0 at the top, the yellow line is section ${state.z}; ${scale}`;
}

// Called by draw(): the lines of the cuts over the section view, and the cuts again when what
// they show changed (section, version, contrast, opacity, selection).
function drawPlaneLines(g) {
  const p = state.planes;
  if (!p.on || !p.point) return;
  const [, ny, nx] = state.info.shape;
  g.lineWidth = 1 / state.scale;
  g.strokeStyle = planeLine.xz;
  g.beginPath();
  g.moveTo(0, p.point[0] + 0.5);
  g.lineTo(nx, p.point[0] + 0.5);
  g.stroke();
  g.strokeStyle = planeLine.yz;
  g.beginPath();
  g.moveTo(p.point[1] + 0.5, 0);
  g.lineTo(p.point[1] + 0.5, ny);
  g.stroke();
  const picked = new Set(state.picked);
  if (state.selected) picked.add(state.selected);
  const [lo, hi] = state.window || state.info.window;
  for (const plane of ['xz', 'yz']) {
    const c = p[plane], at = plane === 'xz' ? p.point[0] : p.point[1];
    if (c.key && c.key !== `${at}/${state.version}/${lo}/${hi}`) {
      clearTimeout(drawPlaneLines.timer);  // edits come in bursts: load once they pause
      drawPlaneLines.timer = setTimeout(loadPlanes, 250);
    } else if (c.labels && c.painted !== `${state.opacity}/${[...picked].join(',')}/${state.display.highlight}`) paintPlane(plane);
    else drawPlane(plane);
  }
}

// A click in a cut: to that section, the other cut through the point clicked.
function planeClick(plane, e) {
  const c = state.planes[plane];
  if (!c.labels) return;
  const canvas = $(plane), r = canvas.getBoundingClientRect();
  const { sx, sz, ox, oy } = planeLayout(plane);
  const k = Math.floor(((e.clientX - r.left) * canvas.width / r.width - ox) / sx);
  const z = Math.floor(((e.clientY - r.top) * canvas.height / r.height - oy) / sz);
  if (k < 0 || k >= c.w || z < 0 || z >= c.h) return;
  const [y, x] = state.planes.point;
  if (plane === 'xz') planeAt(y, k); else planeAt(k, x);
  goTo(z);
  say(`section ${z}, ${plane === 'xz' ? `x ${k}` : `y ${k}`} (clicked in the side view)`);
}

state.planes.toScreen = (plane, z, k) => {
  const canvas = $(plane), r = canvas.getBoundingClientRect(), { sx, sz, ox, oy } = planeLayout(plane);
  return [r.left + (ox + (k + 0.5) * sx) * r.width / canvas.width, r.top + (oy + (z + 0.5) * sz) * r.height / canvas.height];
};

$('planes-toggle').onclick = () => planesShown(!state.planes.on);
$('xz').addEventListener('click', (e) => planeClick('xz', e));
$('yz').addEventListener('click', (e) => planeClick('yz', e));
// A click (not a pan) in the section view in Navigate moves the lines there.
$('view').addEventListener('click', (e) => {
  if (!state.planes.on || state.mode !== 'navigate') return;
  if (pressedAt && Math.hypot(e.clientX - pressedAt[0], e.clientY - pressedAt[1]) > 4) return;
  const v = toVoxel(e);
  if (inside(v)) planeAt(v[0], v[1]);
});
window.addEventListener('keydown', (e) => {
  if (typing(e.target) || e.ctrlKey || e.metaKey || e.altKey || e.key.toLowerCase() !== 'v' || !state.info) return;
  planesShown(!state.planes.on);
});
