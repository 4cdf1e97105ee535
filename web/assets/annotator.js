// The 3D annotator (served at /annotator/?path=MESHFOLDER[&image=STACK]): a mesh folder written by
// `uniem mesh`, its objects as a table (GET ../api/meshes a page at a time: sorted, searched and
// paged by the server) next to their surfaces in 3D (annotator_view.js), markers on the surfaces
// (annotator_markers.js), an EM section of the same volume, pictures and tables to save.
// Routes: web/workspace/annotator_service.h. This file holds the start, the table, the selection,
// the colours, the view's controls and the exports.
import {
  $, el, say, state, route, change, PAGE_SIZE, MAX_SHOWN, MAX_TRIANGLES, figure, micrometres, cubicMicrometres,
  squareMicrometres, position, colourOf, ownColour, objectName, rampScale, rampGradient,
} from './annotator_common.js';
import { View, parseSurface } from './annotator_view.js';
import { setupMarkers, loadNotes, applyNotes, remember, surfaceClicked, selectMarker, keyPressed } from './annotator_markers.js';

let view = null;
let pageRequest = 0;   // the latest table request: older answers are dropped
let showRequest = 0;   // the latest showSurfaces(): an older one stops
let fitted = false;    // the camera was fitted once

// ---- the object table ----------------------------------------------------------------------------
async function loadPage() {
  const mine = ++pageRequest;
  const query = { path: state.path, sort: state.sort, order: state.order, offset: state.offset, limit: PAGE_SIZE };
  if (state.search) query.q = state.search;
  let page;
  try {
    page = await api(route(''), undefined, query);
  } catch (e) {
    say(`The objects could not be read: ${e.message}`, 'error');
    return false;
  }
  if (mine !== pageRequest) return false;
  state.matching = page.total;
  if (!state.search) state.total = page.total;
  for (const row of page.objects) state.rows.set(row.id, row);
  state.page = page.objects.map((r) => r.id);
  drawTable();
  await showSurfaces();
  return true;
}

function drawTable() {
  const body = $('objects').tBodies[0];
  body.replaceChildren(...state.page.map((id) => objectRow(state.rows.get(id))));
  for (const th of $('objects').querySelectorAll('th[data-sort]')) {
    th.classList.toggle('sorted', th.dataset.sort === state.sort);
    th.dataset.order = th.dataset.sort === state.sort ? state.order : '';
  }
  const count = state.search ? `${state.matching} of ${state.total} match “${state.search}”` : `${state.total} in all`;
  $('object-count').textContent = `(${count})`;
  const first = state.offset + 1, last = state.offset + state.page.length;
  $('page-text').textContent = state.page.length ? `${first}–${last} of ${state.matching}` : 'no objects';
  $('previous').disabled = state.offset === 0;
  $('next').disabled = last >= state.matching;
}

function objectRow(row) {
  const id = row.id;
  const c = row.centroid_nm;  // z, y, x
  const name = el('input', { type: 'text', value: objectName(id), placeholder: '—', spellcheck: false, class: 'name',
    title: 'type a name, then Enter (Esc: keep the old one)', onchange: () => saveName(id, name),
    onkeydown: (e) => {
      if (e.key === 'Enter') name.blur();
      if (e.key === 'Escape') { name.value = objectName(id); name.blur(); }
    } });
  const colour = el('input', { type: 'color', value: colourOf(id), class: 'colour', title: 'the colour it is drawn in: click to choose another',
    oninput: () => view?.setColour(id, colour.value), onchange: () => saveColour(id, colour) });
  const shown = el('input', { type: 'checkbox', checked: !state.hidden.has(id), title: 'untick to hide it in the 3D view',
    onchange: () => setShown(id, shown.checked) });
  return el('tr', { 'data-id': id, class: state.selected.has(id) ? 'selected' : '',
    onclick: (e) => { if (!e.target.closest('input')) select(id, e.ctrlKey || e.metaKey || e.shiftKey); },
    ondblclick: (e) => { if (!e.target.closest('input')) lookAt(new Set([id])); } },
  el('td', { class: 'number', text: String(id) }), el('td', {}, name), el('td', {}, colour), el('td', { class: 'centre' }, shown),
  el('td', { class: 'number', text: cubicMicrometres(row.volume_nm3) }),
  el('td', { class: 'number', text: squareMicrometres(row.area_nm2) }),
  el('td', { class: 'number', text: position(c[2], c[1], c[0]) }));
}

// Names and colours as the annotations have them now (after a change, ours or someone else's).
export function objectsChanged() {
  for (const tr of $('objects').tBodies[0].rows) {
    const id = Number(tr.dataset.id);
    const name = tr.querySelector('input.name'), colour = tr.querySelector('input.colour');
    if (document.activeElement !== name) name.value = objectName(id);
    colour.value = colourOf(id);
  }
  if (view) for (const id of view.meshes.keys()) view.setColour(id, colourOf(id));
}

async function saveName(id, input) {
  const before = objectName(id), name = input.value.trim();
  if (name === before) return;
  try {
    applyNotes(await change({ op: 'object', object: id, name }));
    remember({ what: `the name of object ${id}`, ops: [{ op: 'object', object: id, name: before }] });
    say(name ? `Object ${id} is now called “${name}”.` : `Object ${id} has no name now.`);
  } catch (e) {
    input.value = before;
    say(`The name of object ${id} was not saved: ${e.message}`, 'error');
  }
}

async function saveColour(id, input) {
  const before = ownColour(id), colour = input.value;
  try {
    applyNotes(await change({ op: 'object', object: id, colour }));
    remember({ what: `the colour of object ${id}`, ops: [{ op: 'object', object: id, colour: before }] });
    let note = '';
    if (state.colourBy !== 'id') {
      state.colourBy = 'id';
      $('colour-by').value = 'id';
      recolour();
      note = ' Colours are by object again, so that it shows.';
    }
    say(`Object ${id} is drawn in ${colour} now.${note}`);
  } catch (e) {
    input.value = colourOf(id);
    say(`The colour of object ${id} was not saved: ${e.message}`, 'error');
  }
}

function sortBy(key) {
  if (state.sort === key) state.order = state.order === 'asc' ? 'desc' : 'asc';
  else { state.sort = key; state.order = key === 'volume' || key === 'area' ? 'desc' : 'asc'; }
  state.offset = 0;
  const words = { id: 'number', name: 'name', volume: 'volume', area: 'surface area' }[key];
  const how = (key === 'volume' || key === 'area') ? (state.order === 'desc' ? 'largest first' : 'smallest first')
    : (state.order === 'asc' ? 'ascending' : 'descending');
  loadPage().then((ok) => ok && say(`Objects sorted by ${words}, ${how}.`));
}

let searchTimer = 0;
function searchFor(text, now = false) {
  clearTimeout(searchTimer);
  const run = () => {
    state.search = text.trim();
    state.offset = 0;
    loadPage().then((ok) => ok && say(state.search ? `${state.matching} object${state.matching === 1 ? '' : 's'} match “${state.search}”.`
      : 'The search is cleared: every object is listed.'));
  };
  if (now) run(); else searchTimer = setTimeout(run, 300);
}

// ---- what is shown in 3D ---------------------------------------------------------------------------
// The objects to draw: the page's (or the selected, after "Show only the selected"), less those
// unticked, at most MAX_SHOWN and MAX_TRIANGLES.
function toShow() {
  const base = state.only ? [...state.only] : state.page;
  const ids = [];
  let triangles = 0, capped = '';
  for (const id of base) {
    if (state.hidden.has(id)) continue;
    const t = state.rows.get(id)?.triangles || 0;
    if (ids.length >= MAX_SHOWN) { capped = `${MAX_SHOWN} objects`; break; }
    if (ids.length && triangles + t > MAX_TRIANGLES) { capped = `${figure(MAX_TRIANGLES / 1e6)} million triangles`; break; }
    ids.push(id);
    triangles += t;
  }
  return { ids, triangles, capped };
}

async function showSurfaces() {
  if (!view) return;
  const mine = ++showRequest;
  const { ids, triangles, capped } = toShow();
  const missing = ids.filter((id) => !view.has(id));
  const failed = [];
  let done = 0;
  const next = [...missing];
  const worker = async () => {
    while (next.length && mine === showRequest) {
      const id = next.shift();
      const row = state.rows.get(id);
      try {
        if (!row.file) throw new Error('it has no surface file in this folder');
        const r = await fetch(url(route('/surface'), { path: state.path, id }));
        if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error || `the server answered HTTP ${r.status}`);
        if (!view.has(id)) view.add(id, parseSurface(await r.arrayBuffer(), row.file), colourOf(id));
      } catch (e) {
        failed.push(`object ${id}: ${e.message}`);
      }
      ++done;
      if (missing.length > 4 && mine === showRequest) say(`Loading surfaces: ${done} of ${missing.length}...`, 'busy');
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  if (mine !== showRequest) return;
  trimCache(new Set(ids));
  view.show(new Set(ids));
  if (!fitted && ids.length) fitted = view.fit(null, 'oblique');
  updateClipRange();
  if (ids.length && ids.every((id) => !state.rows.get(id).file)) {
    say('This mesh folder has no surface file per object (label_N.ply, .obj or .stl): it was written as one file ' +
      '(--single-file) or for Neuroglancer (--format precomputed). The table works; for the 3D view, mesh again without those options.', 'error');
    return;
  }
  const parts = [`Showing ${ids.length} object${ids.length === 1 ? '' : 's'} in 3D (${figure(triangles)} triangles)`];
  if (state.only) parts.push('only the selected: Show all brings the others back');
  if (capped) parts.push(`not more: at most ${capped} are drawn at once; untick some, or use Show only the selected`);
  say(`${parts.join('; ')}.${failed.length ? ` ${failed.length} could not be shown: ${failed.slice(0, 3).join('; ')}` : ''}`,
    failed.length ? 'error' : 'info');
}

// Surfaces not shown are kept for going back a page, up to twice what may be shown.
function trimCache(keep) {
  const spare = [...view.meshes.keys()].filter((id) => !keep.has(id));
  for (const id of spare.slice(0, Math.max(0, view.meshes.size - 2 * MAX_SHOWN))) view.remove(id);
}

function setShown(id, on) {
  if (on) state.hidden.delete(id); else state.hidden.add(id);
  showSurfaces().then(() => say(`Object ${id} ${on ? 'is shown' : 'is hidden'} in the 3D view.`));
}

// ---- selection ------------------------------------------------------------------------------------
async function select(id, add = false) {
  const ids = new Set(add ? state.selected : []);
  if (add && ids.has(id)) ids.delete(id); else ids.add(id);
  state.selected = ids;
  if (!state.page.includes(id)) {
    // From the 3D view, an object of another page: the table searches for it, by number, where it
    // comes first (any other number that holds its digits is larger).
    $('search').value = String(id);
    state.search = String(id);
    state.sort = 'id';
    state.order = 'asc';
    state.offset = 0;
    if (!(await loadPage())) return;
  }
  for (const tr of $('objects').tBodies[0].rows) tr.classList.toggle('selected', state.selected.has(Number(tr.dataset.id)));
  $('objects').querySelector(`tr[data-id="${id}"]`)?.scrollIntoView({ block: 'nearest' });
  view?.setSelected(state.selected);
  const row = state.rows.get(id);
  if (!row) return;
  if (!ids.has(id)) say(`Object ${id} is no longer selected (${ids.size} selected).`);
  else {
    say(`Object ${id}${objectName(id) ? ` “${objectName(id)}”` : ''} selected${ids.size > 1 ? ` (${ids.size} in all)` : ''}: ` +
      `volume ${cubicMicrometres(row.volume_nm3)} µm³, surface ${squareMicrometres(row.area_nm2)} µm².` +
      (state.search === String(id) && !add ? ' (The table shows the search for it: clear the search box to see all.)' : ''));
  }
}

function clearSelection() {
  state.selected = new Set();
  for (const tr of $('objects').tBodies[0].rows) tr.classList.remove('selected');
  view?.setSelected(state.selected);
}

function lookAt(ids) {
  if (!view) return;
  const shown = new Set([...ids].filter((id) => view.has(id) && view.shown().includes(id)));
  if (!shown.size) { say('The selected objects are not shown in 3D: tick “Shown”, or use Show only the selected.', 'error'); return; }
  view.fit(shown);
  say(`The camera looks at object${shown.size === 1 ? '' : 's'} ${[...shown].join(', ')}.`);
}

// ---- colours ------------------------------------------------------------------------------------
function recolour() {
  objectsChanged();
  const by = state.colourBy;
  $('legend').hidden = by === 'id';
  if (by === 'id') return;
  const scale = rampScale(state.range[by]);
  if (!scale) return;
  const unit = by === 'volume' ? (v) => `${cubicMicrometres(v)} µm³` : (v) => `${squareMicrometres(v)} µm²`;
  $('legend-low').textContent = unit(scale.low);
  $('legend-high').textContent = unit(scale.high);
  $('legend-ramp').style.background = rampGradient;
  $('legend-note').textContent = scale.log ? '(log scale)' : '';
}

// The smallest and largest volume and area of the folder, for the colour ramp: two rows each.
async function loadRanges() {
  for (const key of ['volume', 'area']) {
    const ask = (order) => api(route(''), undefined, { path: state.path, sort: key, order, limit: 1 });
    const [low, high] = await Promise.all([ask('asc'), ask('desc')]);
    if (!low.objects.length) continue;
    const field = key === 'volume' ? 'volume_nm3' : 'area_nm2';
    state.range[key] = [low.objects[0][field], high.objects[0][field]];
  }
}

// ---- the view's controls ---------------------------------------------------------------------------
function updateClipRange() {
  const box = view.bounds();
  if (box.isEmpty()) return;
  const slider = $('clip-z');
  const stack = section.item ? [0, (section.item.shape[0] - 1) * section.item.voxel_size.z] : [box.min.z, box.max.z];
  slider.min = Math.min(box.min.z, stack[0]);
  slider.max = Math.max(box.max.z, stack[1]);
  if (!$('clip-on').checked) slider.value = box.max.z;
  clipText();
}

function clipText() {
  const z = Number($('clip-z').value);
  $('clip-text').textContent = $('clip-on').checked ? `${micrometres(z)} µm${sectionOf(z)}` : '';
}

function setClip() {
  const on = $('clip-on').checked, z = Number($('clip-z').value), above = $('clip-above').checked;
  $('clip-z').disabled = $('clip-above').disabled = !on;
  view.setClip(on, z, above);
  clipText();
}

// ---- the EM section ----------------------------------------------------------------------------
const section = { item: null, request: 0 };
const SECTION_SIZE = 1024;  // pixels on the longer side of the section's picture
const sectionOf = (z) => (section.item ? ` (section ${Math.round(z / section.item.voxel_size.z)})` : '');

async function listStacks() {
  let list;
  try {
    list = await api('../api/data');
  } catch {
    return;
  }
  const stacks = list.items.filter((i) => i.kind === 'images');
  const select = $('image');
  select.replaceChildren(el('option', { value: '', text: stacks.length ? 'none' : 'none (no image stack in the workspace)' }),
    ...stacks.map((i) => el('option', { value: i.path, text: `${i.path} (${i.shape.join(' × ')} voxels)` })));
  select.onchange = () => {
    state.image = select.value;
    const address = new URL(location.href);
    if (state.image) address.searchParams.set('image', state.image); else address.searchParams.delete('image');
    history.replaceState(null, '', address);
    setStack(stacks.find((i) => i.path === state.image) || null);
  };
  if (state.image && !stacks.some((i) => i.path === state.image)) {
    say(`The image stack “${state.image}” is not in the workspace: no EM section is shown (choose one under EM section).`, 'error');
    return;
  }
  select.value = state.image;
  if (state.image) await setStack(stacks.find((i) => i.path === state.image));
}

async function setStack(item) {
  section.item = item;
  const slider = $('section-z');
  slider.disabled = $('section-cut').disabled = !item;
  $('section-controls').hidden = !item;
  if (!item) {
    view?.setSection(null);
    if ($('section-cut').checked && $('clip-on').checked) { $('clip-on').checked = false; setClip(); }
    $('section-text').textContent = '';
    say('No EM section is shown.');
    return;
  }
  slider.max = item.shape[0] - 1;
  slider.value = Math.floor(item.shape[0] / 2);
  await showSection(true);
}

async function showSection(first = false) {
  const item = section.item;
  if (!item || !view) return;
  const z = Number($('section-z').value), mine = ++section.request;
  const v = item.voxel_size;
  $('section-text').textContent = `section ${z} of ${item.shape[0]}, z ${micrometres(z * v.z)} µm`;
  const image = new Image();
  image.src = url('../api/data/section', { path: item.path, z, size: SECTION_SIZE });
  try {
    await image.decode();
  } catch {
    if (mine === section.request) say(`Section ${z} of ${item.path} could not be read.`, 'error');
    return;
  }
  if (mine !== section.request) return;
  // The server takes every f-th voxel (web/workspace/section_picture.h): each pixel stands for f voxels.
  const f = Math.max(1, Math.ceil(Math.max(item.shape[1], item.shape[2]) / SECTION_SIZE));
  view.setSection(image, { voxels: f, vx: v.x, vy: v.y, z: z * v.z });
  cutAtSection();
  if (!first) return;
  const box = view.bounds(new Set(view.shown()));
  const far = !box.isEmpty() && (box.max.x > item.shape[2] * v.x * 1.1 || box.max.y > item.shape[1] * v.y * 1.1 ||
    box.max.z > item.shape[0] * v.z * 1.1);
  const many = view.shown().length > 3 && $('section-cut').checked;
  say(`EM section ${z} of ${item.path} is shown; move the slider to go through the sections.` +
    (many ? ' The surfaces in front of it hide much of it: Show only the selected to see it next to a few objects.' : '') +
    (v.known ? '' : ' Its voxel size is not known, so it may not line up with the surfaces.') +
    (far ? ' The surfaces reach beyond this stack: is it the same volume?' : ''), far || !v.known ? 'error' : 'info');
}

// With "cut the surfaces here", the surfaces end at the section shown, so that it can be seen.
function cutAtSection() {
  if (!section.item || !$('section-cut').checked) return;
  updateClipRange();
  $('clip-on').checked = true;
  $('clip-z').value = Number($('section-z').value) * section.item.voxel_size.z;
  setClip();
}

// ---- exports ---------------------------------------------------------------------------------------
function pictureSize() {
  for (const [id, length] of [['png-width', view.renderer.domElement.clientWidth], ['png-height', view.renderer.domElement.clientHeight]]) {
    const input = $(id);
    if (!input.dataset.typed) input.value = Math.min(view.maxPicture, Math.round(length));
  }
}

async function savePicture() {
  if (!view) { say('There is no 3D view to save (this browser draws no 3D).', 'error'); return; }
  const w = Number($('png-width').value), h = Number($('png-height').value), most = view.maxPicture;
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 16 || h < 16 || w > most || h > most) {
    say(`A picture is 16 to ${most} pixels wide and high (whole numbers), not ${$('png-width').value} × ${$('png-height').value}.`, 'error');
    return;
  }
  say(`Drawing a picture of ${w} × ${h} pixels...`, 'busy');
  try {
    const blob = await view.picture(w, h, { transparent: $('png-transparent').checked, scaleBar: $('png-scale').checked });
    const name = `${state.path.split('/').filter(Boolean).pop() || 'meshes'}-3d-${w}x${h}.png`;
    const link = el('a', { href: URL.createObjectURL(blob), download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    say(`Saved ${name} (${w} × ${h} pixels${$('png-transparent').checked ? ', transparent background' : ''}) to your downloads.`);
  } catch (e) {
    say(`The picture could not be made: ${e.message}`, 'error');
  }
}

// ---- clicks in the view ------------------------------------------------------------------------------
function setupClicks(canvas) {
  let down = null;
  canvas.addEventListener('pointerdown', (e) => { down = { x: e.clientX, y: e.clientY, button: e.button }; });
  canvas.addEventListener('pointerup', (e) => {
    if (!down || down.button !== 0 || Math.hypot(e.clientX - down.x, e.clientY - down.y) > 5) return;
    down = null;
    const hit = view.pick(e.clientX, e.clientY, !state.mode);
    if (state.mode) {
      if (hit && hit.kind === 'surface') surfaceClicked(hit, e);
      else say('That is not on a surface: click on an object (Esc stops).', 'error');
      return;
    }
    if (!hit) {
      if (state.selected.size) { clearSelection(); say('Nothing selected.'); }
      return;
    }
    if (hit.kind === 'marker') selectMarker(hit.id, false);
    else select(hit.id, e.ctrlKey || e.metaKey || e.shiftKey);
  });
}

// ---- the start ------------------------------------------------------------------------------------
function setupControls() {
  for (const th of $('objects').querySelectorAll('th[data-sort]')) th.addEventListener('click', () => sortBy(th.dataset.sort));
  const search = $('search');
  search.addEventListener('input', () => searchFor(search.value));
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { searchFor(search.value, true); search.blur(); }
    if (e.key === 'Escape') { search.value = ''; searchFor('', true); search.blur(); }
  });
  $('previous').addEventListener('click', () => { state.offset = Math.max(0, state.offset - PAGE_SIZE); loadPage(); });
  $('next').addEventListener('click', () => { state.offset += PAGE_SIZE; loadPage(); });
  $('colour-by').addEventListener('change', () => {
    state.colourBy = $('colour-by').value;
    recolour();
    say(state.colourBy === 'id' ? 'Each object in its own colour.' :
      `Objects coloured by ${state.colourBy === 'volume' ? 'volume' : 'surface area'}: dark blue small, yellow large (the legend above).`);
  });
  $('show-selected').addEventListener('click', async () => {
    if (!state.selected.size) { say('Select objects first: click their rows, or their surfaces in 3D.', 'error'); return; }
    state.only = new Set(state.selected);
    for (const id of state.only) state.hidden.delete(id);
    await showSurfaces();
    view?.fit(new Set(view.shown()));
    say(`Showing only object${state.only.size === 1 ? '' : 's'} ${[...state.only].join(', ')}; Show all brings the others back.`);
  });
  $('show-all').addEventListener('click', async () => {
    state.only = null;
    state.hidden.clear();
    drawTable();
    await showSurfaces();
  });
  $('fit-selected').addEventListener('click', () => {
    if (!state.selected.size) say('Select objects first: click their rows, or their surfaces in 3D.', 'error');
    else lookAt(state.selected);
  });
  if (!view) return;
  $('reset-camera').addEventListener('click', () => { view.fit(null, $('direction').value); say('The camera looks at everything shown.'); });
  $('direction').addEventListener('change', () => {
    view.fit(null, $('direction').value);
    say(`Looking ${$('direction').selectedOptions[0].text}.`);
  });
  $('projection').addEventListener('change', () => {
    view.setProjection($('projection').value);
    say($('projection').value === 'orthographic' ? 'Orthographic: sizes compare anywhere in the view.'
      : 'Perspective: far things look smaller.');
  });
  $('axes').addEventListener('change', () => view.setAxes($('axes').checked));
  $('clip-on').addEventListener('change', () => {
    setClip();
    say($('clip-on').checked ? 'Surfaces are cut at the z shown: move the slider to see inside.' : 'Surfaces are whole again.');
  });
  $('clip-z').addEventListener('input', setClip);
  $('clip-above').addEventListener('change', setClip);
  $('section-z').addEventListener('input', () => showSection());
  $('section-through').addEventListener('change', () => {
    view.setSectionOpacity($('section-through').checked ? 0.55 : 1);
    say($('section-through').checked ? 'The section is see-through: surfaces behind it show.' : 'The section is opaque again.');
  });
  $('section-cut').addEventListener('change', () => {
    if ($('section-cut').checked) { cutAtSection(); say('The surfaces are cut at the section shown.'); return; }
    $('clip-on').checked = false;
    setClip();
    say('The surfaces are whole again; the section is drawn inside them.');
  });
  for (const id of ['png-width', 'png-height']) $(id).addEventListener('input', () => { $(id).dataset.typed = '1'; });
  $('save-png').addEventListener('click', savePicture);
  $('png-help').textContent = `up to ${view.maxPicture} × ${view.maxPicture} pixels; selection marks left out`;
  view.onLost = () => say('The 3D view was lost (the graphics card was reset): reload the page (F5).', 'error');
  new ResizeObserver(pictureSize).observe($('view'));
}

function setupKeys() {
  document.addEventListener('keydown', (e) => {
    const typing = e.target.closest && e.target.closest('input, select, textarea');
    if (typing && e.target.type !== 'checkbox' && e.target.type !== 'range') return;
    if (keyPressed(e)) { e.preventDefault(); return; }
    if ((e.key === 'r' || e.key === 'R') && !e.ctrlKey && !e.metaKey && view) { view.fit(null, $('direction').value); e.preventDefault(); }
  });
}

async function start() {
  if (!state.path) {
    say('No mesh folder named: open this page from the workbench (Data, then “View in 3D” on a mesh folder), ' +
      'or add ?path=FOLDER to its address.', 'error');
    return;
  }
  $('folder').textContent = state.path;
  document.title = `${state.path} - uniem 3D annotator`;
  $('objects-csv').href = url(route('/objects.csv'), { path: state.path });
  $('markers-csv').href = url(route('/markers.csv'), { path: state.path });
  for (const id of ['objects-csv', 'markers-csv']) {
    $(id).addEventListener('click', () => say(`Downloading ${$(id).getAttribute('download')} (distances in nm)...`));
  }
  try {
    view = new View($('view'), { bar: $('scale-bar'), label: $('scale-text') });
    state.view = view;
    setupClicks(view.renderer.domElement);
  } catch (e) {
    state.webgl = false;
    $('no-webgl').hidden = false;
    $('no-webgl').textContent = `No 3D view: ${e.message}. The table, the markers and the exports still work.`;
  }
  window.annotator = {  // for people who script the page, and for the browser tests
    state,
    counts: (id) => view?.counts(id) || null,
    pointOnSurface: (id) => view?.pointOnSurface(id) || null,
    still: () => !view || !view.flying,
    shown: () => view?.shown() || [],
  };
  setupControls();
  setupKeys();
  setupMarkers({ objectsChanged, view });
  say(`Opening ${state.path}...`, 'busy');
  try {
    await loadNotes();
  } catch (e) {
    say(`${state.path} could not be opened: ${e.message}`, 'error');
    return;
  }
  await loadRanges().catch(() => {});
  await loadPage();
  if (view) await listStacks();
  state.ready = true;
}

start();
