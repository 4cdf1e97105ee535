// The uniem proofreader page: one section of EM with its label overlay, the editing tools, and
// the live view of everybody's edits (server-sent events). Every edit is sent to the server and
// shown once the server has stored it; the server's answer is the only truth, and the status
// says what each edit did. This file holds the state, the server, the drawing, sections loading,
// the view (fit and zoom) and the keys; app_lists.js the side panel, app_tools.js the tools,
// app_planes.js the side views (xz, yz), app_display.js what is shown (hide, isolate, colours),
// app_review.js the review queue (next problem, checked segments, progress), app_groundtruth.js
// fast ground truth (copy an outline, interpolate, the brush's size, the wheel).
'use strict';

const $ = (id) => document.getElementById(id);

const state = {
  info: null, version: 0, z: 0, level: 0,
  scale: 1, ox: 0, oy: 0,                 // screen = voxel * scale + offset
  image: null, imageKey: '',              // the section's image (HTMLImageElement)
  labels: null, lw: 0, lh: 0, labelKey: '',
  overlay: document.createElement('canvas'),
  mode: 'navigate', picked: [], seeds: [], stroke: null,
  selected: 0,                            // the segment selected (a row, or a click in Navigate), shared with the 3D view
  segments: [], matching: 0, total: 0, segmentOffset: 0,  // the page of the segment list shown
  segmentPage: 200,                       // rows per page
  annotated: new Map(),                   // id -> {name, locked_by}: every named or locked segment
  markers: [], markerIndex: -1, sort: 'id', sortDown: false,
  cursor: null, opacity: 0.45, boundaries: false, window: null,
  anonymous: '',                          // this page's name at the server when the user gives none
  zoomed: false,                          // the user zoomed or panned: a resize keeps the view
  fill: null,                             // a fill's preview, waiting for Enter or Esc
  messageSeconds: 6,                      // how long a message stays
};
window.uniem = state;  // for people who script the page, and for the browser tests

// ---- the server (url() and api() are in server.js) ---------------------------------------------
function user() { return $('user').value.trim() || 'anonymous'; }
// The name the server files this page's edits under: without a name, 'anonymous-' and an id of
// this browser, so that undo takes back only this person's edits.
function me() { return $('user').value.trim() || state.anonymous || 'anonymous'; }

// Sends an edit; the labels are shown again as the server has them. `what` names a stroke for
// the messages ('this stroke'): when it does not go through, the person is told it was not saved.
async function edit(op, fields, what = '') {
  let result;
  quiet();  // the last action's message is stale now
  try {
    result = await api('api/edit', { op, user: user(), version: state.version, ...fields });
  } catch (e) {
    if (e.status === undefined) {  // no answer: nothing was saved; redraw once the server is back
      say(`the server did not answer; ${what || `the ${op}`} was not saved. Check that uniem is still running, then do it again.`, true);
      whenServerAnswers();
    } else {
      say(what ? `${what} was not saved: ${e.message}` : e.message, true);
      await refreshLabels(true);
    }
    return null;
  }
  if (result.version > state.version) state.version = result.version;
  if (result.user && !$('user').value.trim()) state.anonymous = result.user;
  rememberPainted(op, fields, result);  // app_groundtruth.js: the sections a segment was painted on
  const told = whatHappened(op, fields, result);
  if (told) say(told);
  await refreshLabels(true);
  scheduleLists();
  showVersion();
  if (op === 'undo' || op === 'redo') await keepBrushValid(op, told);
  return result;
}

// What an accepted edit did, in a sentence for the status line.
function whatHappened(op, f, r) {
  const n = (k) => `${Number(k || 0).toLocaleString('en')} voxel${k === 1 ? '' : 's'}`;
  const undo = ' - undo with Ctrl+Z', kept = f.id === 'new' ? ` (new; the brush keeps it, type new for another)` : '';
  if (r.changed === 0 && ['paint', 'erase', 'fill', 'merge', 'delete', 'split'].includes(op))
    return `the ${op} changed nothing${f.protect ? ": 'protect others' kept the other segments as they were" : ''}`;
  switch (op) {
    case 'paint': return `Painted ${n(r.changed)} into segment ${r.id}${kept} on section ${f.z}${f.protect ? ', other segments protected' : ''}${undo}`;
    case 'erase': return `Erased ${n(r.changed)}${f.protect ? ` of segment ${f.id}` : ''} to background on section ${f.z}${undo}`;
    case 'fill': return `Filled ${n(r.changed)} of section ${f.z} with segment ${r.id}${f.id === 'new' ? ' (new)' : ''}${undo}`;
    case 'merge': return `Merged ${f.ids.slice(1).join(', ')} into segment ${f.ids[0]} (${n(r.changed)} relabelled)${undo}`;
    case 'split': return `Split segment ${f.id}: the orange part (${n(r.changed)}) is now segment ${r.new_id}${undo}`;
    case 'delete': return `Deleted segment ${f.id} (${n(r.changed)} now background)${undo}`;
    case 'undo': case 'redo': {
      const of = r.of || {}, what = of.op === 'check' ? `${of.checked ? 'check' : 'uncheck'} of segment ${of.id}`
        : `${{ interpolate: 'interpolation', copy: 'copied outline' }[of.op] || of.op || 'edit'}${of.id ? ` of segment ${of.id}` : ''}`;
      if (!r.changed) return op === 'undo' ? `Undid your ${what} - redo with Ctrl+Y` : `Redid your ${what} - undo with Ctrl+Z`;
      return op === 'undo' ? `Undid your ${what} (${n(r.changed)} back as before) - redo with Ctrl+Y`
                           : `Redid your ${what} (${n(r.changed)}) - undo with Ctrl+Z`;
    }
    case 'check': return f.checked ? `Segment ${f.id} marked checked${undo}` : `Segment ${f.id} is not checked any more${undo}`;
    case 'lock': return `Locked segment ${f.id}: only you can change it`;
    case 'unlock': return `Unlocked segment ${f.id}`;
    case 'name': return f.name ? `Named segment ${f.id} "${f.name}"` : `Segment ${f.id} has no name now`;
    case 'marker': return `Marker added at z ${f.z} y ${f.y} x ${f.x}`;
    case 'unmark': return 'Marker removed';
    default: return '';
  }
}

// After an undo or a redo the brush's id may be gone (an undone paint with a new id): the brush
// goes back to 'new', since a stroke with an id that does not exist would be refused.
async function keepBrushValid(op, told) {
  const id = brushId();
  if (!Number.isInteger(id)) return;
  const gone = await api('api/segment', undefined, { id }).then(() => false, (e) => e.status === 404);
  if (!gone) return;
  $('brush-id').value = 'new';
  say(`${told ? `${told}. ` : ''}Segment ${id} no longer exists after the ${op}; the brush paints a new segment again (id: new)`);
}

// While the server does not answer, asks it again every second; once it does, the section and
// the lists are shown as the server has them (a stroke that was not saved disappears).
function whenServerAnswers() {
  if (whenServerAnswers.timer) return;
  const retry = async () => {
    let info;
    try { info = await api('api/info'); } catch (e) { whenServerAnswers.timer = setTimeout(retry, 1000); return; }
    whenServerAnswers.timer = null;
    if (info.version > state.version) state.version = info.version;
    showVersion();
    await refreshLabels(true);
    scheduleLists();
    say('the server answers again; the section shows what it has saved (draw again what was not saved)');
  };
  whenServerAnswers.timer = setTimeout(retry, 1000);
}

// The status line's message: replaced by the next one, cleared when the next edit starts, and gone
// after state.messageSeconds (twice as long for errors; `keep`: until replaced).
function say(text, error = false, keep = false) {
  const m = $('message');
  m.textContent = text;
  m.className = error ? 'error' : 'info';
  clearTimeout(say.timer);
  if (!keep) say.timer = setTimeout(quiet, state.messageSeconds * (error ? 2000 : 1000));
}
function quiet() { clearTimeout(say.timer); $('message').textContent = ''; $('message').className = ''; }

// ---- contrast ---------------------------------------------------------------------------------
// The window of image values shown black to white; the server maps them (16-bit EM is kept whole).
function setWindow(lo, hi) {
  const top = state.info.image_type === 'uint16' ? 65535 : 255;
  lo = Math.round(Math.max(0, Math.min(top - 1, lo)));
  hi = Math.round(Math.max(lo + 1, Math.min(top, hi)));
  state.window = [lo, hi];
  $('window-lo').value = lo;
  $('window-hi').value = hi;
  refreshImage();
}
function stepWindow(narrow, shift) {
  const [lo, hi] = state.window || state.info.window;
  const width = hi - lo, step = Math.max(1, Math.round(width * 0.1));
  setWindow(lo + narrow * step / 2 + shift * step, hi - narrow * step / 2 + shift * step);
}
function windowFromInputs() {
  const lo = Number($('window-lo').value), hi = Number($('window-hi').value);
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo) {
    say('contrast: the white value must be above the black one', true);
    return;
  }
  setWindow(lo, hi);
}

function showVersion() { $('version').textContent = `version ${state.version}`; }

// ---- colours --------------------------------------------------------------------------------
// A stable colour per id, far from the colours of nearby ids: the hue steps by the golden ratio of
// a turn (ids 1, 2, 3 ... are 137.5 degrees apart), and the lightness and saturation take one of 3
// and 2 levels from a hash of the id, so that two ids whose hues fall close still differ in
// brightness most of the time. The 3D annotator of a project draws segments in the same colours
// (web/assets/annotator_common.js proofreaderColour); a colour chosen for a segment: app_display.js.
function colour(id) {
  let h = Math.imul(id ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  const hue = ((id * 0.6180339887498949) % 1) * 6;
  const light = [0.55, 0.72, 0.4][h % 3], sat = [0.95, 0.7][(h >>> 8) & 1];
  const c = (1 - Math.abs(2 * light - 1)) * sat, x = c * (1 - Math.abs((hue % 2) - 1)), m = light - c / 2;
  const [r, g, b] = hue < 1 ? [c, x, 0] : hue < 2 ? [x, c, 0] : hue < 3 ? [0, c, x] : hue < 4 ? [0, x, c] : hue < 5 ? [x, 0, c] : [c, 0, x];
  return [r, g, b].map((v) => Math.round((v + m) * 255));
}

function paintOverlay() {
  const { labels, lw, lh } = state;
  if (!labels) return;
  state.overlay.width = lw;
  state.overlay.height = lh;
  const ctx = state.overlay.getContext('2d');
  const img = ctx.createImageData(lw, lh);
  const px = new Uint32Array(img.data.buffer);
  const picked = new Set(state.picked);
  if (state.selected) picked.add(state.selected);
  const alpha = Math.round(state.opacity * 255);
  const cache = new Map(), lit = state.display.highlight;  // the segment jumped to: opaque, outlined in white
  for (let y = 0, i = 0; y < lh; ++y) {
    for (let x = 0; x < lw; ++x, ++i) {
      const id = labels[i];
      if (id === 0) continue;
      const edge = (state.boundaries || id === lit) &&
        ((x > 0 && labels[i - 1] !== id) || (x + 1 < lw && labels[i + 1] !== id) ||
         (y > 0 && labels[i - lw] !== id) || (y + 1 < lh && labels[i + lw] !== id));
      if (state.boundaries && !edge && !picked.has(id) && id !== lit) continue;
      let c = cache.get(id);
      if (c === undefined) {
        const rgb = shownColour(id);  // null: hidden, or not among the isolated (app_display.js)
        const a = id === lit ? 255 : picked.has(id) ? Math.min(255, alpha + 100) : alpha;
        c = rgb ? ((a << 24) | (rgb[2] << 16) | (rgb[1] << 8) | rgb[0]) >>> 0 : 0;
        cache.set(id, c);
      }
      if (c && id === lit && edge) px[i] = 0xffffffff;
      else if (c) px[i] = c;
    }
  }
  ctx.putImageData(img, 0, 0);
}

// ---- drawing --------------------------------------------------------------------------------
const canvas = $('view');
const ctx = canvas.getContext('2d');

// A resize fits the section again unless the user has zoomed or panned.
function resize() {
  const r = canvas.getBoundingClientRect();
  canvas.width = Math.max(1, Math.round(r.width));
  canvas.height = Math.max(1, Math.round(r.height));
  if (state.info && !state.zoomed) fit(); else draw();
}

// The zoom that shows the whole section; zooms go from a quarter of it to 32 screen pixels a voxel.
function fitScale() {
  const [, ny, nx] = state.info.shape;
  return Math.min(canvas.width / nx, canvas.height / ny);
}
const maxScale = 32;
function clampScale(scale) { return Math.min(maxScale, Math.max(fitScale() / 4, scale)); }

function fit() {
  const [, ny, nx] = state.info.shape;
  state.scale = fitScale();
  state.ox = (canvas.width - nx * state.scale) / 2;
  state.oy = (canvas.height - ny * state.scale) / 2;
  state.zoomed = false;
  draw();
  refreshSection();
}

// Zooms keeping canvas point (sx, sy) in place.
function zoomAt(sx, sy, scale) {
  scale = clampScale(scale);
  state.ox = sx - (sx - state.ox) * scale / state.scale;
  state.oy = sy - (sy - state.oy) * scale / state.scale;
  state.scale = scale;
  state.zoomed = true;
  draw();
  clearTimeout(zoomAt.timer);
  zoomAt.timer = setTimeout(refreshSection, 150);
}

function draw() {
  if (!state.info) return;
  const [, ny, nx] = state.info.shape;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.setTransform(state.scale, 0, 0, state.scale, state.ox, state.oy);
  ctx.imageSmoothingEnabled = state.scale < 1;
  if (state.image) ctx.drawImage(state.image, 0, 0, nx, ny);
  ctx.imageSmoothingEnabled = false;
  if (state.labels) ctx.drawImage(state.overlay, 0, 0, nx, ny);
  const line = (points, style, width) => {
    if (!points.length) return;
    ctx.strokeStyle = style;
    ctx.lineWidth = width;
    ctx.lineCap = ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(points[0][1] + 0.5, points[0][0] + 0.5);
    for (const p of points) ctx.lineTo(p[1] + 0.5, p[0] + 0.5);
    if (points.length === 1) ctx.lineTo(points[0][1] + 0.6, points[0][0] + 0.5);
    ctx.stroke();
  };
  drawFill();
  if (state.stroke && state.stroke.mode === 'split') line(state.stroke.points, state.stroke.group === 2 ? '#ff9800' : '#40c4ff', 2 / state.scale);
  else if (state.stroke) ctx.drawImage(state.stroke.canvas, 0, 0, nx, ny);  // the voxels it paints
  for (const g of [1, 2]) {
    ctx.fillStyle = g === 2 ? '#ff9800' : '#40c4ff';
    for (const s of state.seeds) if (s[2] === g) ctx.fillRect(s[1], s[0], 1, 1);
  }
  for (const m of state.markers) {
    if (m.z !== state.z) continue;
    ctx.strokeStyle = '#ff1744';
    ctx.lineWidth = 2 / state.scale;
    const r = 6 / state.scale;
    ctx.beginPath();
    ctx.arc(m.x + 0.5, m.y + 0.5, r, 0, 2 * Math.PI);
    ctx.stroke();
  }
  drawBrush();
  drawPlaneLines(ctx);
  drawScaleBar(ctx);
}

function toVoxel(event) {
  const r = canvas.getBoundingClientRect();
  const sx = (event.clientX - r.left) * canvas.width / r.width, sy = (event.clientY - r.top) * canvas.height / r.height;
  return [(sy - state.oy) / state.scale - 0.5, (sx - state.ox) / state.scale - 0.5];
}
// Client (page) coordinates of voxel (y, x): used by the browser tests.
state.toScreen = (y, x) => {
  const r = canvas.getBoundingClientRect();
  return [r.left + ((x + 0.5) * state.scale + state.ox) * r.width / canvas.width,
          r.top + ((y + 0.5) * state.scale + state.oy) * r.height / canvas.height];
};

function inside(v) {
  const [, ny, nx] = state.info.shape;
  return v[0] >= 0 && v[1] >= 0 && v[0] <= ny - 1 && v[1] <= nx - 1;
}
function clampVoxel(v) {
  const [, ny, nx] = state.info.shape;
  return [Math.min(ny - 1, Math.max(0, v[0])), Math.min(nx - 1, Math.max(0, v[1]))];
}
function labelAt(v) {
  if (!state.labels || !inside(v)) return 0;
  const step = 1 << state.level;
  const y = Math.min(state.lh - 1, Math.floor(Math.round(v[0]) / step)), x = Math.min(state.lw - 1, Math.floor(Math.round(v[1]) / step));
  return state.labels[y * state.lw + x];
}
function brush() { return Math.max(1, Math.min(100, Number($('brush').value) || 4)); }

// ---- loading sections -------------------------------------------------------------------------
function chooseLevel() {
  let level = 0;
  while (level + 1 < state.info.levels && state.scale * (1 << (level + 1)) <= 1) ++level;
  return level;
}

// Sections load one at a time: while one loads, W held down only moves state.z, and when it is in
// the newest section asked for is loaded (those passed over are never asked for). The promise is
// kept until what was asked last is shown.
const sections = { running: null, again: false, force: false };
state.sectionRequests = 0;  // label sections asked of the server (for the browser tests)
function refreshSection(force = false) {
  sections.force = sections.force || force;
  if (sections.running) { sections.again = true; return sections.running; }
  sections.running = (async () => {
    try {
      do {
        sections.again = false;
        const f = sections.force;
        sections.force = false;
        await Promise.all([loadImage(), loadLabels(f)]);
      } while (sections.again);
    } finally { sections.running = null; }
  })();
  return sections.running;
}
function refreshImage() { return refreshSection(false); }
function refreshLabels(force = false) { return refreshSection(force); }

async function loadImage() {
  const level = chooseLevel();
  const [lo, hi] = state.window || state.info.window;
  const key = `${state.z}/${level}/${lo}/${hi}`;
  if (key === state.imageKey) return;
  state.imageKey = key;
  const img = new Image();
  img.src = url('api/image', { z: state.z, level, lo, hi });
  await img.decode().catch(() => {});
  if (state.imageKey === key) { state.image = img; draw(); }
}

async function loadLabels(force) {
  const level = chooseLevel();
  const key = `${state.z}/${level}`;
  if (!force && key === state.labelKey) return;
  state.labelKey = key;
  let response, runs;
  try {
    ++state.sectionRequests;
    response = await fetch(url('api/labels', { z: state.z, level, encoding: 'runs' }));
    if (response.ok) runs = new Uint32Array(await response.arrayBuffer());
  } catch (e) {  // no answer: loaded again when the server answers
    if (state.labelKey === key) state.labelKey = '';
    whenServerAnswers();
    return;
  }
  if (!response.ok) { say(`the labels of section ${state.z} could not be loaded: the server answered HTTP ${response.status}`, true); return; }
  const [h, w] = response.headers.get('X-Uniem-Size').split(',').map(Number);
  if (state.labelKey !== key) return;
  // (id, count) pairs in raster order.
  const labels = new Uint32Array(w * h);
  for (let k = 0, at = 0; k + 1 < runs.length; k += 2) {
    const id = runs[k], end = at + runs[k + 1];
    if (id) labels.fill(id, at, end);
    at = end;
  }
  state.level = level;
  state.labels = labels;
  state.lw = w;
  state.lh = h;
  paintOverlay();
  draw();
  showCursor();
}

// Goes to section z; with (y, x), centred there, at `scale` when given.
async function goTo(z, y, x, scale) {
  const nz = state.info.shape[0];
  state.moves = (state.moves || 0) + 1;  // a jump still waiting for the server is dropped (jumpTo)
  state.z = Math.max(0, Math.min(nz - 1, z));
  $('slice').value = state.z;
  if (state.fill && state.fill.z !== state.z) cancelFill(false);
  if (scale) { state.scale = clampScale(scale); state.zoomed = true; }
  if (y !== undefined) {
    planeAt(y, x);
    state.ox = canvas.width / 2 - (x + 0.5) * state.scale;
    state.oy = canvas.height / 2 - (y + 0.5) * state.scale;
  }
  state.seeds = state.seeds.filter(() => false);
  showGroundTruth();  // the panel names the section (app_groundtruth.js)
  draw();
  await refreshSection();
}

// ---- the 3D view of the same project (web/assets/annotator_project.js) ----------------------------
// A BroadcastChannel named after the project's address links this page and the 3D annotator open
// in the same browser: each says which segment is selected; the 3D view asks this page to go to a
// voxel ('go'), and this page answers where it went ('went').
const channel = 'BroadcastChannel' in window ? new BroadcastChannel(`uniem-project:${new URL('.', location.href).pathname}`) : null;
function tell(message) { if (channel) channel.postMessage({ ...message, from: 'proofreader' }); }

function select(id, announce = true) {
  state.selected = id;
  paintOverlay();
  renderSegments();
  draw();
  if (announce) tell({ type: 'select', id });
}

if (channel) {
  channel.onmessage = async (e) => {
    const m = e.data;
    if (!m || m.from !== 'annotator' || !state.info) return;
    if (m.type === 'select') {
      if (m.id === state.selected) return;
      select(m.id, false);
      say(m.id ? `segment ${m.id} selected in the 3D view` : 'nothing selected in the 3D view');
    } else if (m.type === 'go') {
      if (m.id) select(m.id, false);
      await jumpTo(`${m.z},${m.y},${m.x}`);
      say(`went to z ${m.z} y ${m.y} x ${m.x}${m.id ? ` on segment ${m.id}` : ''}, double-clicked in the 3D view`);
      tell({ type: 'went', z: state.z, y: m.y, x: m.x });
    }
  };
}

$('open-3d').onclick = () => {
  const tab = window.open(url('annotator/'), `uniem-3d:${new URL('.', location.href).pathname}`);
  if (tab) tab.focus(); else say('the browser blocked the new tab: allow pop-ups for this page, or open annotator/ under this address', true);
};


// ---- keys and controls ----------------------------------------------------------------------
// A box being typed in (jump, section, brush, id, search, name) takes the keys; Enter or Esc
// leaves it, so that the keys drive the viewer again.
function typing(t) {
  return t.tagName === 'TEXTAREA' || t.isContentEditable ||
    (t.tagName === 'INPUT' && ['text', 'number', 'search', 'email', 'url', 'password', ''].includes(t.type));
}
window.addEventListener('keydown', (e) => {
  if (typing(e.target)) {
    if (e.key !== 'Enter' && e.key !== 'Escape') return;
    e.preventDefault();
    if (e.key === 'Enter' && e.target.id === 'jump') jumpTo(e.target.value);
    if (e.key === 'Enter' && e.target.id === 'slice') goTo(Number(e.target.value));
    e.target.blur();
    return;
  }
  const k = e.key.toLowerCase();
  if ((e.ctrlKey || e.metaKey) && k === 'z') { e.preventDefault(); edit('undo', {}); return; }
  if ((e.ctrlKey || e.metaKey) && k === 'y') { e.preventDefault(); edit('redo', {}); return; }
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const v = state.cursor;
  switch (k) {
    case 'w': goTo(state.z + 1); break;
    case 's': goTo(state.z - 1); break;
    case 'e': setOpacity(state.opacity + 0.1); break;
    case 'd': setOpacity(state.opacity - 0.1); break;
    case '+': case '=': $('brush').value = Math.min(100, brush() + 1); draw(); break;
    case '-': $('brush').value = Math.max(1, brush() - 1); draw(); break;
    case '1': setMode('merge'); break;
    case '2': setMode('split'); break;
    case '3': setMode('paint'); break;
    case '4': setMode('erase'); break;
    case 'f': setMode('fill'); break;
    case 'escape': if (state.fill) { cancelFill(); break; } setMode('navigate'); $('help').hidden = true; break;
    case '0': setMode('navigate'); $('help').hidden = true; break;
    case 'h': case 'home': if (e.shiftKey) return;  // Shift+H: show all (app_display.js)
      fit(); say('the whole section fits the view (H or Home)'); break;
    case 'enter': apply(); break;
    case 'b': $('boundaries').checked = !$('boundaries').checked; setBoundaries(); break;
    case 'l': {
      const id = v ? labelAt(v) : 0;
      const holder = id ? lockHolder(state.annotated.get(id)?.locked_by) : '';
      if (holder) say(heldBy(id, holder), true);
      else if (id) edit(state.annotated.get(id)?.locked_by ? 'unlock' : 'lock', { id });
      break;
    }
    case 'm': addMarker(); break;
    case '[': stepWindow(1, 0); break;
    case ']': stepWindow(-1, 0); break;
    case '{': stepWindow(0, 1); break;
    case '}': stepWindow(0, -1); break;
    case 'n': stepMarker(1); break;
    case 'p': stepMarker(-1); break;
    case 'j': e.preventDefault(); $('jump').focus(); break;
    case '?': $('help').hidden = !$('help').hidden; break;
    default: return;
  }
});

function setOpacity(o) {
  state.opacity = Math.max(0, Math.min(1, o));
  $('opacity').value = state.opacity;
  paintOverlay();
  draw();
}
function setBoundaries() { state.boundaries = $('boundaries').checked; paintOverlay(); draw(); }
function addMarker() {
  const v = state.cursor;
  if (!v || !inside(v)) return say('point at the place to mark first', true);
  const note = prompt('Note for this marker (optional)', '') ?? '';
  edit('marker', { z: state.z, y: Math.round(v[0]), x: Math.round(v[1]), note });
}

for (const b of document.querySelectorAll('[data-mode]')) b.onclick = () => setMode(b.dataset.mode);
for (const a of document.querySelectorAll('[data-sort], [data-column]')) {  // the links and the column heads
  a.onclick = (e) => {
    e.preventDefault();
    const by = a.dataset.sort || a.dataset.column;
    state.sortDown = state.sort === by ? !state.sortDown : by === 'voxels';
    state.sort = by;
    state.segmentOffset = 0;
    refreshSegments();
  };
}
$('search').oninput = () => {
  state.segmentOffset = 0;
  clearTimeout(refreshSegments.timer);
  refreshSegments.timer = setTimeout(refreshSegments, 150);
};
$('window-lo').onchange = windowFromInputs;
$('window-hi').onchange = windowFromInputs;
$('window-auto').onclick = () => setWindow(...state.info.window);
$('prev-segments').onclick = () => segmentPage(-1);
$('next-segments').onclick = () => segmentPage(1);
$('apply').onclick = () => apply();
$('fit').onclick = () => fit();
$('undo').onclick = () => edit('undo', {});
$('redo').onclick = () => edit('redo', {});
$('opacity').oninput = () => setOpacity(Number($('opacity').value));
$('boundaries').onchange = setBoundaries;
$('prev-slice').onclick = () => goTo(state.z - 1);
$('next-slice').onclick = () => goTo(state.z + 1);
$('slice').onchange = () => goTo(Number($('slice').value));
$('prev-marker').onclick = () => stepMarker(-1);
$('next-marker').onclick = () => stepMarker(1);
$('add-marker').onclick = addMarker;
$('help-button').onclick = () => { $('help').hidden = !$('help').hidden; };
$('help-close').onclick = () => { $('help').hidden = true; };
$('export').onclick = async () => {
  try {
    const r = await api('api/export', { format: 'tif' });
    say(`exported version ${state.version} to ${r.path}, with its segments (names, colours, locks, checked marks) and markers beside it`);
    for (const [file, text] of [[r.file, 'download'], ...r.tables.map((t) => [t, t.slice(t.indexOf('.') + 1)])]) {
      const a = document.createElement('a');
      a.href = url(`exports/${file}`);
      a.download = file;
      a.textContent = text;
      $('message').append(' ', a);
    }
  } catch (e) { say(e.message, true); }
};
// The name is kept in this browser from the first visit on: the 3D annotator files its edits under it too.
if (!localStorage.getItem('uniem-user')) localStorage.setItem('uniem-user', `user-${Math.floor(Math.random() * 9000 + 1000)}`);
$('user').value = localStorage.getItem('uniem-user');
$('user').onchange = () => { localStorage.setItem('uniem-user', $('user').value.trim()); renderSegments(); };
window.addEventListener('resize', resize);
// Opened with a person's own address (uniem serve --users): the server files every edit under
// their name, so the name is shown and cannot be changed here.
function signedIn(name) {
  $('user').value = name;
  $('user').readOnly = true;
  $('who').firstChild.textContent = 'signed in as ';
  $('who').classList.add('signed-in');
  $('who').title = `you are signed in as ${name} by the address you opened; your edits, locks and undo are yours. ` +
    'To work under another name, open that person\'s address.';
}

// ---- live updates ---------------------------------------------------------------------------
function listen() {
  const source = new EventSource(url('api/events', { since: state.version }));
  source.onopen = () => { $('connection').textContent = 'live'; $('connection').className = ''; };
  source.onmessage = (m) => {
    const e = JSON.parse(m.data);
    if (e.reload) { state.version = e.version; refreshLabels(true); scheduleLists(); showVersion(); return; }
    let here = false;
    for (const ev of e.events) {
      if (ev.box && ev.box[0] <= state.z && state.z < ev.box[3]) here = true;
      if (ev.user !== me() && ev.op) say(`${ev.user}: ${ev.kind === 'edit' ? ev.op : ev.kind}`);
    }
    if (e.version > state.version) state.version = e.version;
    showVersion();
    if (here) refreshLabels(true);
    scheduleLists();
  };
  source.onerror = () => {
    $('connection').textContent = 'reconnecting...';
    $('connection').className = 'down';
    source.close();
    setTimeout(async () => {
      try { const info = await api('api/info'); if (info.version !== state.version) { state.version = info.version; refreshLabels(true); scheduleLists(); } } catch (e) { /* still down */ }
      listen();
    }, 1000);
  };
}

async function start() {
  try {
    state.info = await api('api/info');
  } catch (e) {
    say(e.message, true);
    return;
  }
  state.version = state.info.version;
  if (state.info.anonymous) state.anonymous = state.info.anonymous;
  if (state.info.user) signedIn(state.info.user);
  $('slices').textContent = `/ ${state.info.shape[0] - 1}`;
  $('slice').max = state.info.shape[0] - 1;
  document.title = `uniem proofreader - ${state.info.shape.join(' x ')}`;
  [$('window-lo').value, $('window-hi').value] = state.info.window.map(Math.round);
  state.z = Math.floor(state.info.shape[0] / 2);  // the middle section, loaded once by the fit
  resize();  // fits the section to the view
  showVersion();
  setMode('navigate');
  if (state.info.recovery) say(`server: ${state.info.recovery}`);
  await goTo(state.z);
  refreshSegments();
  refreshMarkers();
  refreshReview();
  listen();
  state.ready = true;
}
window.addEventListener('DOMContentLoaded', start);  // once app_lists.js and app_tools.js are loaded too
