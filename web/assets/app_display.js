// The proofreader's control of what is shown: segments hidden one by one, the view isolated to the
// selected segment(s) and the segment jumped to highlighted, in this page only (nothing is sent to
// the server); and a segment's colour chosen in its row, which is the project's (the journaled
// 'colour' edit the 3D annotator makes too), so that every page and the 3D view draw it so.
// Contract:
//  - shownColour(id) is what app.js paintOverlay and app_planes.js paintPlane draw a segment in:
//    null when it is hidden or outside the isolated set, else [r, g, b] (the project's colour for
//    it, state.annotated's, or app.js colour()). The section view and the side views both use it.
//  - I isolates the selected segment and the picked ones (I again, or Shift+H, shows all again);
//    Shift+H shows every segment again. A row's 'hide' button hides or shows that segment; its
//    swatch is a colour picker, and the x beside a chosen colour gives the segment its own again.
//  - highlightJump(id) (called by app_lists.js jumpTo) draws that segment opaque with a white
//    outline until the next key, click in the view or edit.
//  - state.display holds what is shown (for the browser tests): hidden (Set), only (Set or null),
//    highlight (id or 0).
//  - drawScaleBar(g) (called last by app.js draw) draws the scale bar at the bottom right of the
//    section view (the message is at the bottom left): a round length (1, 2 or 5 x 10^n nm, written
//    in nm, or in µm from 1000 nm on) that spans 60 to 150 pixels at the current zoom, from the
//    voxel width (x) of the project's voxel size. When the voxel size is not known there is no bar,
//    and a note says why. state.scaleBar is what was drawn, for the tests: {nm, pixels, text}, or
//    {text} without a bar.
'use strict';

state.display = { hidden: new Set(), only: null, highlight: 0, projectColours: '' };

function shown(id) {
  const d = state.display;
  return !d.hidden.has(id) && (!d.only || d.only.has(id));
}
function shownColour(id) { return shown(id) ? segmentColour(id) : null; }
function segmentColour(id) {
  const chosen = state.annotated.get(id)?.colour;  // '#rrggbb'
  return chosen ? [1, 3, 5].map((k) => parseInt(chosen.slice(k, k + 2), 16)) : colour(id);
}
// Called by app_lists.js refreshSegments with the project's names, locks and colours: a colour
// chosen here, by another person or in the 3D view is drawn as soon as the list knows of it.
function noticeProjectColours() {
  const now = [...state.annotated.values()].filter((a) => a.colour).map((a) => `${a.id}${a.colour}`).join();
  if (now === state.display.projectColours) return;
  state.display.projectColours = now;
  paintOverlay();
  draw();
  if (state.planes && state.planes.on) { paintPlane('xz'); paintPlane('yz'); }
}

// Draws everything again with what is shown now: the section, the side views, the list.
function redisplay() {
  paintOverlay();
  draw();
  if (state.planes && state.planes.on) { paintPlane('xz'); paintPlane('yz'); }
  renderSegments();
  showDisplayState();
}

function showDisplayState() {
  const d = state.display, parts = [];
  if (d.only) parts.push(`only ${[...d.only].join(', ')}`);
  if (d.hidden.size) parts.push(`${d.hidden.size} hidden`);
  $('display-state').textContent = parts.length ? parts.join('; ') : 'all segments shown';
  $('isolate').classList.toggle('active', !!d.only);
  $('show-all').disabled = !d.only && !d.hidden.size;
}

function isolate() {
  const d = state.display;
  if (d.only) return showAll();
  const ids = new Set([state.selected, ...state.picked].filter((id) => id > 0));
  if (!ids.size) return say('select a segment first (a click in Navigate, or its row), then I shows only it', true);
  d.only = ids;
  redisplay();
  say(`only segment${ids.size > 1 ? 's' : ''} ${[...ids].join(', ')} shown - I or Shift+H shows all again`);
}

function showAll() {
  state.display.only = null;
  state.display.hidden.clear();
  redisplay();
  say('every segment is shown again');
}

function toggleHidden(id) {
  const d = state.display;
  if (d.hidden.has(id)) d.hidden.delete(id); else d.hidden.add(id);
  redisplay();
  say(d.hidden.has(id) ? `segment ${id} hidden - its row's 'show' or Shift+H shows it again` : `segment ${id} shown again`);
}

// The project's colour for a segment ('#rrggbb', or '' for its own again): an edit like a name.
async function setSegmentColour(id, hex) {
  if (!(await edit('colour', { id, colour: hex }))) return;
  await refreshSegments();  // the list's colours are what segmentColour draws
  say(hex ? `segment ${id} is drawn in ${hex} now, on every page and in the 3D view (the x beside its swatch gives it its own colour again)`
          : `segment ${id} has its own colour again`);
}

function highlightJump(id) {
  state.display.highlight = id;
  paintOverlay();
  draw();
}
function endHighlight() {
  if (!state.display.highlight) return;
  state.display.highlight = 0;
  paintOverlay();
  draw();
}

// The row's own controls (app_lists.js renderSegments): the swatch, a colour picker, and 'hide'.
function displayControls(tr, id) {
  const [r, g, b] = segmentColour(id), chosen = state.annotated.get(id)?.colour, holder = lockHolder(state.annotated.get(id)?.locked_by);
  const pick = document.createElement('input');
  pick.type = 'color';
  pick.className = 'swatch';
  pick.value = `#${[r, g, b].map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
  pick.title = holder ? heldBy(id, holder) : `click to choose this segment's colour, for everyone and in the 3D view${chosen ? ` (now ${chosen})` : ''}`;
  pick.disabled = !!holder;
  pick.onclick = (e) => e.stopPropagation();
  pick.onchange = () => setSegmentColour(id, pick.value);
  const cell = tr.cells[0];
  cell.prepend(pick);
  if (chosen && !holder) {
    const own = document.createElement('button');
    own.className = 'own-colour';
    own.textContent = 'x';
    own.title = 'give the segment its own colour again';
    own.onclick = (e) => { e.stopPropagation(); setSegmentColour(id, ''); };
    pick.after(own);
  }
  const hide = document.createElement('button');
  const hidden = state.display.hidden.has(id);
  hide.textContent = hidden ? 'show' : 'hide';
  hide.title = hidden ? 'show this segment again' : 'hide this segment in every view (this page only)';
  hide.onclick = (e) => { e.stopPropagation(); toggleHidden(id); };
  tr.cells[tr.cells.length - 1].append(hide);  // after lock, name and del
  if (!shown(id)) tr.classList.add('hidden-segment');
}

$('isolate').onclick = () => isolate();
$('show-all').onclick = () => showAll();
window.addEventListener('keydown', (e) => {
  if (typing(e.target) || e.ctrlKey || e.metaKey || e.altKey || !state.info) return;
  if (!['Shift', 'Control', 'Alt', 'Meta'].includes(e.key)) endHighlight();
  if (e.key === 'i' || e.key === 'I') isolate();
  else if (e.key === 'H' && e.shiftKey) showAll();
});
$('view').addEventListener('mousedown', () => endHighlight());
window.addEventListener('DOMContentLoaded', showDisplayState);

function drawScaleBar(g) {
  const { voxel_size: size, voxel_size_known: known } = state.info;
  g.setTransform(1, 0, 0, 1, 0, 0);
  g.font = '12px sans-serif';
  const bottom = g.canvas.height - 12;
  let bar = { text: 'voxel size not known: no scale bar' };
  if (known && size && size[2] > 0) {
    const nmPerPixel = size[2] / state.scale, wanted = nmPerPixel * 150;
    const power = 10 ** Math.floor(Math.log10(wanted)), lead = wanted / power;
    const nm = +((lead >= 5 ? 5 : lead >= 2 ? 2 : 1) * power).toPrecision(3);
    bar = { nm, pixels: nm / nmPerPixel, text: nm >= 1000 ? `${+(nm / 1000).toPrecision(3)} µm` : `${nm} nm` };
  }
  const width = Math.max(bar.pixels || 0, g.measureText(bar.text).width) + 12, left = g.canvas.width - width - 6;
  g.fillStyle = 'rgba(0, 0, 0, 0.6)';
  g.fillRect(left - 6, bottom - (bar.pixels ? 30 : 22), width, bar.pixels ? 36 : 28);
  g.fillStyle = '#fff';
  g.fillText(bar.text, left, bottom - (bar.pixels ? 12 : 2));
  if (bar.pixels) g.fillRect(left, bottom - 6, bar.pixels, 5);
  state.scaleBar = bar;
}
