// The proofreader's fast ground truth (index.html #groundtruth-panel): a segment's outline copied to
// the next or the previous section, the sections between two painted ones filled with the shape
// interpolated between them, the brush doubled or halved, the wheel moving through the sections.
// Loaded after app.js and app_tools.js, whose state and functions it uses.
// Contract:
//  - The segment these tools work on (groundTruthSegment()) is the brush's id when it is a number
//    (after a first stroke with 'new' it is the new segment's), else the selected segment. The
//    panel names it, and says what each button will do with it.
//  - copyOutline(step) (O: +1, the next section; Shift+O: -1) sends the journaled 'copy' edit
//    (web/proofreading/session.h) of the segment from this section to section z + step, then goes
//    there, and says how many voxels were painted and how many of other segments were kept.
//  - interpolate() (G) sends 'interpolate' between the section in #gt-from and this one (either
//    order). #gt-from is filled with the last other section, at least two away, that the segment
//    was painted, filled or copied on in this page (rememberPainted(), called by app.js edit()).
//  - Both paint into background only (other segments kept, as 'protect others' does for the
//    brush) unless #gt-overwrite is ticked; both are one step of Ctrl+Z.
//  - The brush: '.' doubles its radius, ',' halves it (1 to 100; + and - step by one).
//  - The wheel over the section moves through the sections (down: the next one, as W); Ctrl+wheel
//    (and a touchpad's pinch) zooms. #wheel-zooms (kept in this browser) makes the wheel zoom
//    instead; wheelMoves(e) is what app_tools.js's wheel handler asks.
//  - state.groundTruth (for the browser tests): painted (id -> sections, last painted last), last
//    (the server's answer to the last copy or interpolation).
'use strict';

state.groundTruth = { painted: new Map(), last: null, wheel: 0 };

function groundTruthSegment() {
  const id = brushId();
  return Number.isInteger(id) && id > 0 ? id : state.selected || 0;
}

// After every accepted edit (app.js edit()): the sections each segment was painted on.
function rememberPainted(op, fields, result) {
  if (!result || !result.changed || !result.id) return;
  const z = op === 'copy' ? fields.to : ['paint', 'fill'].includes(op) ? fields.z : undefined;
  if (z === undefined) return;
  const list = (state.groundTruth.painted.get(result.id) || []).filter((s) => s !== z);
  list.push(z);
  state.groundTruth.painted.set(result.id, list);
  showGroundTruth();
}

// The last section other than this one, at least two away, the segment was painted on here.
function interpolationPartner(id) {
  const list = state.groundTruth.painted.get(id) || [];
  for (let k = list.length - 1; k >= 0; --k) if (Math.abs(list[k] - state.z) >= 2) return list[k];
  return null;
}

const voxelCount = (n) => `${Number(n || 0).toLocaleString('en')} voxel${n === 1 ? '' : 's'}`;
const keptNote = (r) => (r.kept ? `; ${voxelCount(r.kept)} of other segments kept as they were (tick 'overwrite other segments' to paint over them)` : '');

async function copyOutline(step) {
  const id = groundTruthSegment(), from = state.z, to = state.z + step;
  if (!id) return say('choose the segment first: paint it, type its id in the id box, or select it (click in Navigate)', true);
  if (to < 0 || to >= state.info.shape[0]) return say(`there is no section ${to}: section ${from} is the ${step > 0 ? 'last' : 'first'}`, true);
  const fields = { id, z: from, to, protect: !$('gt-overwrite').checked };
  const r = await edit('copy', fields, `the copy of segment ${id}`);
  if (!r) return;
  state.groundTruth.last = r;
  await goTo(to);
  say(r.changed
    ? `Copied segment ${id}'s outline from section ${from} to section ${to} (${voxelCount(r.changed)} painted${keptNote(r)}); now on section ${to} - undo with Ctrl+Z`
    : `Segment ${id} already covers its outline of section ${from} on section ${to}: nothing to copy${keptNote(r)}`);
}

async function interpolate() {
  const id = groundTruthSegment(), here = state.z, other = Number($('gt-from').value);
  if (!id) return say('choose the segment first: paint it, type its id in the id box, or select it (click in Navigate)', true);
  if ($('gt-from').value === '' || !Number.isInteger(other))
    return say(`paint segment ${id} on another section too (at least two away), or type that section in 'between section', then press G here`, true);
  if (Math.abs(other - here) < 2) return say(`sections ${other} and ${here} have no section between them to fill: choose sections at least two apart`, true);
  const [z1, z2] = other < here ? [other, here] : [here, other];
  const fields = { id, z1, z2, protect: !$('gt-overwrite').checked };
  const r = await edit('interpolate', fields, `the interpolation of segment ${id}`);
  if (!r) return;
  state.groundTruth.last = r;
  say(r.changed
    ? `Filled sections ${z1 + 1} to ${z2 - 1} with segment ${id}, shaped between its outlines on ${z1} and ${z2} (${voxelCount(r.changed)}${keptNote(r)}); W/S or the wheel to look - undo with Ctrl+Z`
    : `Sections ${z1 + 1} to ${z2 - 1} already hold segment ${id} where it would go: nothing changed${keptNote(r)}`);
}

// The panel: which segment, and what the buttons will do with it.
function showGroundTruth() {
  if (!state.info) return;
  const id = groundTruthSegment(), nz = state.info.shape[0];
  const partner = id ? interpolationPartner(id) : null;
  const from = $('gt-from');
  if (partner !== null && from.dataset.auto !== `${id}:${partner}` && document.activeElement !== from) {
    from.value = partner;
    from.dataset.auto = `${id}:${partner}`;
  }
  $('gt-segment').textContent = id
    ? `segment ${id}${Number.isInteger(brushId()) ? ' (the brush\'s id)' : ' (selected)'}, on section ${state.z}`
    : 'no segment yet: paint one, type an id, or select one';
  $('gt-here').textContent = `this one (${state.z})`;
  $('gt-copy-up').disabled = !id || state.z + 1 >= nz;
  $('gt-copy-down').disabled = !id || state.z === 0;
  $('gt-interpolate').disabled = !id;
}
setInterval(showGroundTruth, 300);

// ---- the brush and the wheel ------------------------------------------------------------------
function scaleBrush(factor) {
  const r = Math.max(1, Math.min(100, Math.round(brush() * factor)));
  $('brush').value = r;
  draw();
  say(`brush radius ${r} voxels (. doubles, , halves)`);
}

state.wheelZooms = localStorage.getItem('uniem.wheelZooms') === '1';
$('wheel-zooms').checked = state.wheelZooms;
$('wheel-zooms').onchange = () => {
  state.wheelZooms = $('wheel-zooms').checked;
  localStorage.setItem('uniem.wheelZooms', state.wheelZooms ? '1' : '0');
  say(state.wheelZooms ? 'the wheel zooms now' : 'the wheel moves through the sections now; Ctrl+wheel zooms');
};

// True when the wheel event moved the section (then the caller does not zoom). A notch (100)
// moves one section; a touchpad's small steps add up to one.
function wheelMoves(e) {
  if (e.ctrlKey || e.metaKey || state.wheelZooms) return false;
  state.groundTruth.wheel += e.deltaMode === 1 ? e.deltaY * 33 : e.deltaY;
  const steps = Math.trunc(state.groundTruth.wheel / 100);
  if (steps) {
    state.groundTruth.wheel -= steps * 100;
    goTo(state.z + Math.sign(steps));
  }
  return true;
}

$('gt-copy-up').onclick = () => copyOutline(1);
$('gt-copy-down').onclick = () => copyOutline(-1);
$('gt-interpolate').onclick = () => interpolate();
window.addEventListener('keydown', (e) => {
  if (typing(e.target) || e.ctrlKey || e.metaKey || e.altKey || !state.info) return;
  if (e.key === 'o' || e.key === 'O') copyOutline(e.shiftKey ? -1 : 1);
  else if (e.key === 'g' || e.key === 'G') interpolate();
  else if (e.key === '.') scaleBrush(2);
  else if (e.key === ',') scaleBrush(0.5);
});
