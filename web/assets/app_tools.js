// The proofreader's tools (web/assets/index.html): the modes, the mouse on the section (pan,
// strokes, seeds, picks, fills, zoom), the brush as the server paints it, the fill's preview, and
// what is under the cursor. Loaded after app.js, whose state and functions it uses.
'use strict';

function setMode(mode) {
  state.mode = mode;
  if (mode !== 'merge' && mode !== 'split') { state.picked = []; state.seeds = []; }
  if (mode !== 'fill') cancelFill(false);
  const m = $('mode');
  m.textContent = mode[0].toUpperCase() + mode.slice(1);
  m.className = `mode ${mode}`;
  document.body.className = mode;  // the tool's own options show (app.css)
  for (const b of document.querySelectorAll('[data-mode]')) b.classList.toggle('active', b.dataset.mode === mode);
  paintOverlay();
  renderSegments();
  draw();
}

function brushId() {
  const v = $('brush-id').value.trim();
  return v === 'new' || v === '' ? 'new' : Number(v);
}
function protect() { return $('protect').checked; }

async function apply() {
  if (state.mode === 'fill') return applyFill();
  if (state.mode === 'merge') {
    if (state.picked.length < 2) return say('pick at least two segments to merge', true);
    const r = await edit('merge', { ids: state.picked });
    if (r) { state.picked = []; paintOverlay(); renderSegments(); draw(); }
  } else if (state.mode === 'split') {
    if (!state.picked.length) return say('click the segment to split first', true);
    const r = await edit('split', { id: state.picked[0], z: state.z, seeds: state.seeds, mode: $('split3d').checked ? '3d' : '2d' });
    if (r) { state.picked = []; state.seeds = []; paintOverlay(); draw(); }
  }
}

// ---- the brush: the voxels the server paints (web/proofreading/session.h) -----------------------
// Brush centres: the stroke's points and, between two of them, evenly spaced points at most
// max(0.5, radius / 2) apart; a voxel is painted when its centre lies within `radius` of a
// centre. The ring shown and the stroke drawn are these voxels, so what shows is what is saved.
function brushCentres(from, to, radius) {
  if (!from) return [to];
  const dy = to[0] - from[0], dx = to[1] - from[1];
  const steps = Math.ceil(Math.hypot(dy, dx) / Math.max(0.5, radius * 0.5)), out = [];
  for (let s = 1; s <= steps; ++s) out.push([from[0] + dy * s / steps, from[1] + dx * s / steps]);
  return out;
}
function stamp(centre, radius, visit) {
  const [, ny, nx] = state.info.shape, r = Math.ceil(radius), [cy, cx] = centre;
  for (let y = Math.max(0, Math.round(cy) - r); y <= Math.min(ny - 1, Math.round(cy) + r); ++y)
    for (let x = Math.max(0, Math.round(cx) - r); x <= Math.min(nx - 1, Math.round(cx) + r); ++x)
      if ((y - cy) * (y - cy) + (x - cx) * (x - cx) <= radius * radius) visit(y, x);
}
// The voxels (y * nx + x) a stroke through `points` paints: for the browser tests, and the ring.
state.brushVoxels = (points, radius) => {
  const nx = state.info.shape[2], seen = new Set();
  let last = null;
  for (const p of points) {
    for (const c of brushCentres(last, p, radius)) stamp(c, radius, (y, x) => seen.add(y * nx + x));
    last = p;
  }
  return [...seen].sort((a, b) => a - b);
};
// A point as it is sent: a tenth of a voxel.
const sent = (p) => [Math.round(p[0] * 10) / 10, Math.round(p[1] * 10) / 10];

// The outline of a set of voxels (a Set of y * nx + x) as a path of voxel edges.
function outline(voxels) {
  const nx = state.info.shape[2];
  ctx.beginPath();
  for (const i of voxels) {
    const y = Math.floor(i / nx), x = i % nx;
    if (!voxels.has(i - nx)) { ctx.moveTo(x, y); ctx.lineTo(x + 1, y); }
    if (!voxels.has(i + nx)) { ctx.moveTo(x, y + 1); ctx.lineTo(x + 1, y + 1); }
    if (x === 0 || !voxels.has(i - 1)) { ctx.moveTo(x, y); ctx.lineTo(x, y + 1); }
    if (x === nx - 1 || !voxels.has(i + 1)) { ctx.moveTo(x + 1, y); ctx.lineTo(x + 1, y + 1); }
  }
}
// The ring at the cursor: the outline of the voxels one stamp there would paint.
function drawBrush() {
  if (!state.cursor || (state.mode !== 'paint' && state.mode !== 'erase') || !inside(state.cursor)) return;
  const voxels = new Set(state.brushVoxels([sent(clampVoxel(state.cursor))], brush()));
  ctx.strokeStyle = '#fff';
  ctx.lineWidth = 1.5 / state.scale;
  outline(voxels);
  ctx.stroke();
}

// A stroke as it is drawn: its voxels on a canvas of the section, stamped as the mouse moves
// (only those it will change when 'protect others' is on and the labels are at full size).
function startStroke(v) {
  const [, ny, nx] = state.info.shape;
  const canvas2 = document.createElement('canvas');
  canvas2.width = nx;
  canvas2.height = ny;
  const c = canvas2.getContext('2d');
  const id = brushId(), erase = state.mode === 'erase';
  const [r, g, b] = erase ? [0, 0, 0] : Number.isInteger(id) ? segmentColour(id) : [255, 255, 255];
  c.fillStyle = `rgba(${r},${g},${b},${erase ? 0.7 : 0.8})`;
  const only = erase && protect() ? labelAt(v) : 0;
  state.stroke = { mode: state.mode, points: [], last: null, canvas: canvas2, context: c, voxels: new Set(), only };
  extendStroke(v);
}
function extendStroke(v) {
  const s = state.stroke, p = sent(clampVoxel(v)), nx = state.info.shape[2], radius = brush();
  const full = state.level === 0 && state.labels, id = brushId();
  s.points.push(p);
  for (const c of brushCentres(s.last, p, radius))
    stamp(c, radius, (y, x) => {
      const i = y * nx + x;
      if (s.voxels.has(i)) return;
      s.voxels.add(i);
      if (protect() && full) {
        const now = state.labels[i];
        if (s.mode === 'paint' ? now !== 0 && now !== id : now !== s.only) return;
      }
      s.context.fillRect(x, y, 1, 1);
    });
  s.last = p;
}

async function finishStroke(stroke) {
  const fields = { z: state.z, points: stroke.points, radius: brush() };
  if (stroke.mode === 'paint') fields.id = brushId();
  if (protect()) {
    fields.protect = true;
    if (stroke.mode === 'erase') {
      if (!stroke.only) { state.stroke = null; draw(); return say("'protect others' is on: start the erase on the segment to erase (it began on background)", true); }
      fields.id = stroke.only;
    }
  }
  const r = await edit(stroke.mode, fields, 'this stroke');
  if (r && fields.id === 'new') $('brush-id').value = r.id;
  state.stroke = null;  // saved and shown from the server's labels, or not saved and gone
  draw();
}

// ---- fill: previewed, then applied (Enter or the Fill button), or cancelled (Esc) ---------------
async function previewFill(v) {
  const y = Math.round(v[0]), x = Math.round(v[1]), id = brushId(), z = state.z;
  let p;
  try {
    p = await api('api/fill', undefined, { z, y, x });
  } catch (e) { return say(e.message, true); }
  if (p.from === id) return say(`this place is already segment ${id}: nothing to fill`, true);
  if (protect() && p.from !== 0)
    return say(`this place is segment ${p.from}, and 'protect others' is on: fill only into background (or turn it off)`, true);
  const [y0, x0, y1, x1] = p.box, mask = document.createElement('canvas');
  mask.width = x1 - x0;
  mask.height = y1 - y0;
  const c = mask.getContext('2d');
  c.fillStyle = 'rgba(255,235,59,0.75)';
  for (let k = 0, at = 0; k + 1 < p.runs.length; k += 2) {
    at += p.runs[k];
    for (let n = p.runs[k + 1]; n > 0;) {  // a run may go on over rows
      const row = Math.floor(at / mask.width), col = at % mask.width, len = Math.min(n, mask.width - col);
      c.fillRect(col, row, len, 1);
      at += len;
      n -= len;
    }
  }
  state.fill = { ...p, id, mask };
  const what = p.from ? `segment ${p.from}` : 'background';
  const into = id === 'new' ? 'a new segment' : `segment ${id}`;
  const text = p.large
    ? `This fill would change ${p.voxels.toLocaleString('en')} voxels, more than ${p.limit.toLocaleString('en')}: is the outline closed? The yellow area shows what would change.`
    : `Fill: ${p.voxels.toLocaleString('en')} voxels of ${what} on section ${z} (yellow) would become ${into}.`;
  $('fill-text').textContent = text;
  $('fill-prompt').className = p.large ? 'large' : '';
  $('fill-prompt').hidden = false;
  quiet();  // the prompt says it
  draw();
}
async function applyFill() {
  const f = state.fill;
  if (!f) return say('click where to fill first: the page shows what would change before it fills', true);
  cancelFill(false);
  const r = await edit('fill', { z: f.z, y: f.y, x: f.x, id: f.id, expect: f.voxels, ...(protect() ? { protect: true } : {}) }, 'this fill');
  if (r && f.id === 'new') $('brush-id').value = r.id;
}
function cancelFill(tell = true) {
  if (!state.fill) return;
  state.fill = null;
  $('fill-prompt').hidden = true;
  if (tell) say('fill cancelled: nothing changed');
  draw();
}
$('fill-apply').onclick = () => applyFill();
$('fill-cancel').onclick = () => cancelFill();
function drawFill() {
  const f = state.fill;
  if (!f || f.z !== state.z) return;
  const [y0, x0, y1, x1] = f.box;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(f.mask, x0, y0, x1 - x0, y1 - y0);
  ctx.strokeStyle = '#ffeb3b';
  ctx.lineWidth = 2 / state.scale;
  ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
}

// ---- the mouse ----------------------------------------------------------------------------------
let drag = null;
canvas.addEventListener('contextmenu', (e) => e.preventDefault());
let pressedAt = null;  // where the mouse went down: a click that did not pan selects in Navigate
canvas.addEventListener('mousedown', (e) => {
  pressedAt = [e.clientX, e.clientY];
  const v = toVoxel(e);
  const pan = e.button === 1 || e.button === 2 || (e.button === 0 && state.mode === 'navigate');
  if (pan) { drag = { pan: true, x: e.clientX, y: e.clientY, ox: state.ox, oy: state.oy }; return; }
  if (e.button !== 0) return;
  if (state.mode === 'paint' || state.mode === 'erase') {
    if (!inside(v)) return;
    startStroke(v);
    drag = { stroke: true };
  } else if (state.mode === 'split' && state.picked.length) {
    state.stroke = { mode: 'split', group: e.shiftKey ? 2 : 1, points: [clampVoxel(v)] };
    drag = { stroke: true };
  }
  draw();
});
window.addEventListener('mousemove', (e) => {
  if (drag && drag.pan) {
    const r = canvas.getBoundingClientRect();
    state.ox = drag.ox + (e.clientX - drag.x) * canvas.width / r.width;
    state.oy = drag.oy + (e.clientY - drag.y) * canvas.height / r.height;
    state.zoomed = true;
    draw();
    return;
  }
  if (e.target === canvas || drag) {
    state.cursor = toVoxel(e);
    if (drag && drag.stroke) {
      if (state.stroke.mode === 'split') state.stroke.points.push(clampVoxel(state.cursor)); else extendStroke(state.cursor);
    }
    showCursor();
    draw();
  }
});
window.addEventListener('mouseup', async () => {
  const d = drag;
  drag = null;
  if (!d) return;
  if (d.pan) { refreshImage(); refreshLabels(); return; }
  const stroke = state.stroke;
  if (!stroke) return;
  if (stroke.mode === 'split') {
    const seen = new Set(state.seeds.map((s) => `${s[0]},${s[1]}`));
    for (const p of stroke.points) {
      const s = [Math.round(p[0]), Math.round(p[1]), stroke.group];
      if (!seen.has(`${s[0]},${s[1]}`)) { seen.add(`${s[0]},${s[1]}`); state.seeds.push(s); }
    }
    state.stroke = null;
    draw();
    return;
  }
  await finishStroke(stroke);
});
canvas.addEventListener('click', (e) => {
  const v = toVoxel(e);
  if (!inside(v)) return;
  const id = labelAt(v);
  if (state.mode === 'merge') {
    if (!id) return;
    const i = state.picked.indexOf(id);
    if (i >= 0) state.picked.splice(i, 1); else state.picked.push(id);
    say(`merge: ${state.picked.join(' + ')} (Enter merges into the first)`);
  } else if (state.mode === 'split' && !state.picked.length) {
    if (!id) return;
    state.picked = [id];
    say(`split ${id}: draw seeds for the part that keeps the id, Shift-draw the other part, then Enter`);
  } else if (state.mode === 'navigate') {
    if (pressedAt && Math.hypot(e.clientX - pressedAt[0], e.clientY - pressedAt[1]) > 4) return;
    if (id === state.selected) return;
    select(id);
    if (id) say(`segment ${id} selected${channel ? ' (in the 3D view too, when open)' : ''}`);
    return;
  } else if (state.mode === 'fill') {
    previewFill(v);
    return;
  } else {
    return;
  }
  paintOverlay();
  renderSegments();
  draw();
});
canvas.addEventListener('wheel', (e) => {
  e.preventDefault();
  if (wheelMoves(e)) return;  // the wheel moves through the sections; Ctrl+wheel zooms (app_groundtruth.js)
  const r = canvas.getBoundingClientRect();
  const sx = (e.clientX - r.left) * canvas.width / r.width, sy = (e.clientY - r.top) * canvas.height / r.height;
  zoomAt(sx, sy, state.scale * Math.exp(-e.deltaY * 0.0015));
}, { passive: false });

function showCursor() {
  const v = state.cursor;
  if (!v || !inside(v)) { $('cursor').textContent = `z ${state.z} y - x -`; $('under').textContent = 'id -'; return; }
  $('cursor').textContent = `z ${state.z} y ${Math.round(v[0])} x ${Math.round(v[1])}`;
  const id = labelAt(v);
  const s = state.annotated.get(id);
  $('under').textContent = `id ${id}${s && s.name ? ' (' + s.name + ')' : ''}${s && s.locked_by ? ' locked by ' + s.locked_by : ''}`;
}
