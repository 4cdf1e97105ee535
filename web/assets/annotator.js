// The 3D annotator (served at /annotator/?path=MESHFOLDER[&image=STACK]): a mesh folder written by
// `uniem mesh`, its objects as a table (GET ../api/meshes a page at a time: sorted, searched and
// paged by the server) next to their surfaces in 3D (annotator_view.js), markers on the surfaces
// (annotator_markers.js), an EM section of the same volume, pictures and tables to save.
// Routes: web/workspace/annotator_service.h. Served at a proofreading project's /annotator/
// instead, it shows the project's segments, made into surfaces by the server when asked and made
// again when they are edited, and is linked to the project's proofreader (annotator_project.js).
// This file holds the start, the table, the selection, the colours, the view's controls and the
// exports; the EM section is annotator_section.js.
import {
  $, el, say, state, route, change, labelColour as labelColourOf, PAGE_SIZE, MAX_SHOWN, MAX_TRIANGLES, figure, micrometres, cubicMicrometres,
  squareMicrometres, position, colourOf, ownColour, objectName, rampScale, rampGradient,
} from './annotator_common.js';
import { View, parseSurface } from './annotator_view.js';
import { section, sectionOf, setupSection, listStacks, showSection, cutAtSection } from './annotator_section.js';
import { setupMarkers, loadNotes, applyNotes, remember, surfaceClicked, selectMarker, keyPressed } from './annotator_markers.js';
import {
  project, openProject, projectPage, projectSurface, centroidOf, voxelOf, voxelBox, boxesMeet, follow, link, tell,
} from './annotator_project.js';

let view = null;
let pageRequest = 0;   // the latest table request: older answers are dropped
let showRequest = 0;   // the latest showSurfaces(): an older one stops
let fitted = false;    // the camera was fitted once

// ---- the object table ----------------------------------------------------------------------------
async function loadPage(quiet = false) {
  const mine = ++pageRequest;
  const query = { path: state.path, sort: state.sort, order: state.order, offset: state.offset, limit: PAGE_SIZE };
  if (state.search) query.q = state.search;
  let page;
  try {
    page = state.project ? await projectPage(query, state.rows) : await api(route(''), undefined, query);
  } catch (e) {
    say(`The objects could not be read: ${e.message}`, 'error');
    return false;
  }
  if (mine !== pageRequest) return false;
  state.matching = page.total;
  if (!state.search) state.total = page.total;
  if (page.all !== undefined) state.total = page.all;
  for (const row of page.objects) state.rows.set(row.id, row);
  state.page = page.objects.map((r) => r.id);
  drawTable();
  await showSurfaces(quiet);
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
  el('td', { class: 'number' }, String(id), surfaceTag(row)), el('td', {}, name), el('td', {}, colour), el('td', { class: 'centre' }, shown),
  el('td', { class: 'number', text: cubicMicrometres(row.volume_nm3) }),
  ...measuredCells(row));
}

// The area and the centre: on a project, known once the surface is made (a dash before).
function measuredCells(row) {
  const c = row.centroid_nm;  // z, y, x
  const later = 'known once its surface is loaded (shown in 3D)';
  return [el('td', { class: 'number', text: row.area_nm2 === undefined ? '—' : squareMicrometres(row.area_nm2),
    title: row.area_nm2 === undefined ? later : null }),
  el('td', { class: 'number', text: c ? position(c[2], c[1], c[0]) : '—', title: c ? null : later })];
}

// On a project, a word after the number when the surface shown is not every voxel's.
function surfaceTag(row) {
  const m = row.mesh;
  if (!m) return null;
  if (m.level > 1) {
    return el('span', { class: 'tag coarse', text: `every ${m.level}th voxel`,
      title: `this segment is large: its surface was made from every ${m.level}th voxel along each axis (a coarser level), so it is less detailed; its volume and area are of that surface` });
  }
  if (m.decimated) {
    return el('span', { class: 'tag', text: 'simplified',
      title: `drawn with ${figure(m.triangles)} of its ${figure(m.full_triangles)} triangles; select it and press “Full resolution” for every one (its area and volume are of the full surface)` });
  }
  return null;
}

// After its surface came: the row's area, centre and tag.
function rowMeasured(id) {
  const tr = $('objects').querySelector(`tr[data-id="${id}"]`);
  const row = state.rows.get(id);
  if (!tr || !row) return;
  const cells = tr.cells;
  cells[5].replaceWith(...measuredCells(row).slice(0, 1));
  tr.cells[6].replaceWith(...measuredCells(row).slice(1));
  tr.cells[0].replaceChildren(String(id), surfaceTag(row) || '');
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
  if (state.project && key === 'area') {
    say('On a project the areas are known only once the surfaces are made, so the table cannot be sorted by area; ' +
      'sort by volume (the voxels), number or name.', 'error');
    return;
  }
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

// `quiet`: without saying what is shown (after an edit elsewhere, which says so itself).
async function showSurfaces(quiet = false) {
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
        if (state.project) {
          const { geometry, info } = await projectSurface(id, state.full.has(id));
          measured(row, geometry, info);
          if (!view.has(id)) view.add(id, geometry, colourOf(id));
          rowMeasured(id);
        } else {
          if (!row.file) throw new Error('it has no surface file in this folder');
          const r = await fetch(url(route('/surface'), { path: state.path, id }));
          if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error || `the server answered HTTP ${r.status}`);
          if (!view.has(id)) view.add(id, parseSurface(await r.arrayBuffer(), row.file), colourOf(id));
        }
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
    say('This mesh folder has no surface file per object (label_N.ply, .obj, .stl or a precomputed N.frag): it was written as one ' +
      'file (--single-file). The table works; for the 3D view, mesh again without --single-file.', 'error');
    return;
  }
  if (quiet) return;
  const drawn = state.project ? ids.reduce((n, id) => n + (state.rows.get(id)?.mesh?.triangles || 0), 0) : triangles;
  const parts = [`Showing ${ids.length} ${state.project ? 'segment' : 'object'}${ids.length === 1 ? '' : 's'} in 3D (${figure(drawn)} triangles)`];
  if (state.only) parts.push('only the selected: Show all brings the others back');
  if (state.project) parts.push(...surfaceNotes(ids));
  if (capped) parts.push(`not more: at most ${capped} are drawn at once; untick some, or use Show only the selected`);
  say(`${parts.join('; ')}.${failed.length ? ` ${failed.length} could not be shown: ${failed.slice(0, 3).join('; ')}` : ''}`,
    failed.length ? 'error' : 'info');
}

// A project's surface came: what the server says of it, its area and centre for the table.
function measured(row, geometry, info) {
  row.mesh = info;
  row.triangles = info.triangles;
  row.area_nm2 = info.area_nm2;
  row.centroid_nm = centroidOf(geometry);
}

// What the page should say of the surfaces shown: coarser levels, simplified ones.
function surfaceNotes(ids) {
  const meshes = ids.map((id) => state.rows.get(id)?.mesh).filter(Boolean);
  const out = [];
  const coarse = meshes.filter((m) => m.level > 1);
  if (coarse.length) {
    out.push(`segment${coarse.length === 1 ? '' : 's'} ${coarse.map((m) => m.segment).join(', ')} ${coarse.length === 1 ? 'is' : 'are'} ` +
      `too large to mesh every voxel: made from every ${coarse[0].level}th voxel (a coarser level, marked in the table)`);
  }
  const simplified = meshes.filter((m) => m.decimated && m.level <= 1);
  if (simplified.length) {
    out.push(`${simplified.length} surface${simplified.length === 1 ? ' is' : 's are'} simplified for display (fewer triangles): ` +
      'select and press Full resolution for every triangle');
  }
  return out;
}

// The selected segments' surfaces with every triangle (a project's are simplified when large).
async function fullResolution() {
  const ids = [...state.selected].filter((id) => state.rows.get(id)?.mesh?.decimated);
  if (!ids.length) {
    say(state.selected.size ? 'The selected surfaces are already drawn with every triangle.'
      : 'Select the segments first (click their rows or their surfaces); then Full resolution loads every triangle of theirs.', 'error');
    return;
  }
  say(`Loading ${ids.length === 1 ? `segment ${ids[0]}` : `${ids.length} segments`} at full resolution...`, 'busy');
  for (const id of ids) state.full.add(id);
  try {
    for (const id of ids) await reloadSurface(id);
    const t = ids.reduce((n, id) => n + state.rows.get(id).mesh.triangles, 0);
    say(`Full resolution: ${ids.length === 1 ? `segment ${ids[0]} is` : `${ids.length} segments are`} drawn with every triangle (${figure(t)}).`);
  } catch (e) {
    say(`The full surface could not be made: ${e.message}`, 'error');
  }
}

// Segment `id`'s surface made again (it changed): replaced in the view where it was.
async function reloadSurface(id) {
  const row = state.rows.get(id);
  const { geometry, info } = await projectSurface(id, state.full.has(id));
  measured(row, geometry, info);
  if (view.has(id)) view.replace(id, geometry, colourOf(id)); else view.add(id, geometry, colourOf(id));
  rowMeasured(id);
  return info;
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
async function select(id, add = false, announce = true) {
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
  if (announce && state.project) tell({ type: 'select', id: ids.has(id) ? id : 0 });
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
  if (state.project) {
    const ask = (order) => api('../api/segments', undefined, { count: 1, sort: 'voxels', order });
    const [low, high] = await Promise.all([ask('up'), ask('down')]);
    const vv = project.voxel.x * project.voxel.y * project.voxel.z;
    if (low.items.length) state.range.volume = [low.items[0].voxels * vv, high.items[0].voxels * vv];
    return;
  }
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
  // On a project, a double-click on a surface or a marker: the proofreader goes to that voxel.
  canvas.addEventListener('dblclick', (e) => {
    if (!state.project || state.mode) return;
    const hit = view.pick(e.clientX, e.clientY, true);
    if (!hit) return;
    if (hit.kind === 'marker') {
      const m = state.notes.markers.find((x) => x.id === hit.id);
      if (m) goToVoxel(m.voxel, m.segment, `marker “${m.name}”`);
    } else {
      goToVoxel(voxelOf(hit.point), hit.id, `segment ${hit.id}`);
    }
  });
}

// ---- the proofreader of the same project ------------------------------------------------------------
let went = 0;  // the timer that says no proofreader answered
function goToVoxel(v, id, what) {
  tell({ type: 'go', z: v.z, y: v.y, x: v.x, id });
  say(`Asked the proofreader to show ${what} at section ${v.z} (y ${v.y}, x ${v.x})...`, 'busy');
  clearTimeout(went);
  went = setTimeout(() => say(`No proofreader of this project answered: open it (“Proofreader” at the top right), ` +
    `then double-click again to show ${what} there at section ${v.z}.`, 'error'), 1500);
}

function proofreaderSaid(m) {
  if (m.type === 'select' && m.id > 0) {
    if (state.selected.size === 1 && state.selected.has(m.id)) return;
    select(m.id, false, false).then(() => {
      if (state.selected.has(m.id)) say(`Segment ${m.id} selected in the proofreader, so here too.`);
    });
  } else if (m.type === 'went') {
    clearTimeout(went);
    say(`The proofreader shows section ${m.z} now, centred on y ${m.y}, x ${m.x}.`);
  }
}

// ---- live: edits made anywhere (the proofreader, another annotator) ---------------------------------
let refreshing = null;  // the refresh under way; edits meanwhile wait for it
let pending = [];       // the boxes of the edits not yet looked at (null: look at everything)
const editors = new Set();  // who made them
async function projectChanged(events) {
  if (events === null) pending.push(null);
  else for (const ev of events) { pending.push(ev.box || undefined); if (ev.box) editors.add(ev.user); }
  if (refreshing) return;
  refreshing = (async () => {
    while (pending.length) {
      const boxes = pending;
      pending = [];
      await refreshProject(boxes);
    }
  })();
  await refreshing;
  refreshing = null;
}

async function refreshProject(boxes) {
  const before = new Map([...state.rows].map(([id, r]) => [id, r.voxels]));
  if (!state.changing) await loadNotes().catch(() => {});
  const all = boxes.includes(null);
  // Markers, names and locks change no voxels (their events have no box): the notes say it all.
  if (!all && boxes.every((b) => !b)) return;
  if (!view) { await loadPage(true); return; }
  const shown = view.shown();
  // The table's page again (sizes and names), then the surfaces that an edit met or whose size changed.
  await loadPage(true);
  const again = shown.filter((id) => {
    const mesh = view.meshes.get(id);
    if (all || !state.rows.has(id) || state.rows.get(id).voxels !== before.get(id)) return true;
    const box = voxelBox(mesh.geometry.boundingBox);
    return boxes.some((b) => b && boxesMeet(b, box));
  });
  const updated = [], gone = [], failed = [];
  for (const id of again) {
    try {
      updated.push([id, await reloadSurface(id)]);
    } catch (e) {
      if (e.status === 404) { view.remove(id); gone.push(id); } else failed.push(`segment ${id}: ${e.message}`);
    }
  }
  if (gone.length) view.show(new Set(view.shown()));
  const by = editors.size ? ` by ${[...editors].join(', ')}` : '';
  editors.clear();
  if (failed.length) say(`An edit changed segments whose surfaces could not be made again: ${failed.join('; ')}`, 'error');
  else if (updated.length || gone.length) {
    const parts = updated.map(([id, m]) => `segment ${id} (${figure(m.triangles)} triangles now)`);
    say(`${parts.length ? `Edited${by} in the proofreader; the surface${parts.length === 1 ? ' is' : 's are'} made again: ${parts.join(', ')}.` : ''}` +
      `${gone.length ? ` Segment${gone.length === 1 ? '' : 's'} ${gone.join(', ')} no longer exist${gone.length === 1 ? 's' : ''} (merged or deleted).` : ''}`);
  }
}

// ---- exports on a project: the tables made here ------------------------------------------------------
const csvField = (v) => (/[",\n]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v));
function saveText(name, text) {
  const link = el('a', { href: URL.createObjectURL(new Blob([text], { type: 'text/csv' })), download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}
async function projectObjectsCsv() {
  say('Reading every segment of the project...', 'busy');
  const all = await api('../api/segments');
  const vv = project.voxel.x * project.voxel.y * project.voxel.z;
  const lines = ['id,name,colour,voxels,volume_nm3,area_nm2,centroid_x_nm,centroid_y_nm,centroid_z_nm'];
  for (const s of all) {
    const row = state.rows.get(s.id), c = row?.centroid_nm;
    lines.push([s.id, csvField(s.name || ''), ownColour(s.id) || labelColourOf(s.id), s.voxels, s.voxels * vv,
      row?.area_nm2 ?? '', c ? c[2] : '', c ? c[1] : '', c ? c[0] : ''].join(','));
  }
  saveText('segments.csv', `${lines.join('\n')}\n`);
  say(`Saved segments.csv: ${all.length} segments (volume from the voxels; area and centre for those whose surface was loaded).`);
}
function projectMarkersCsv() {
  const lines = ['id,name,type,x,y,z,segment,note'];
  for (const m of state.notes.markers) lines.push([m.id, csvField(m.name), csvField(m.type), m.x, m.y, m.z, m.segment, csvField(m.note)].join(','));
  saveText('markers.csv', `${lines.join('\n')}\n`);
  say(`Saved markers.csv: ${state.notes.markers.length} markers (x, y, z in nm).`);
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

// A project instead of a mesh folder: the words, the links and what works otherwise.
function setupProject() {
  const [nz, ny, nx] = project.info.shape, v = project.voxel;
  const size = `${nz} × ${ny} × ${nx} voxels of ${figure(v.z)} × ${figure(v.y)} × ${figure(v.x)} nm`;
  $('source-label').firstChild.textContent = 'proofreading project ';
  $('source-label').title = `the proofreading project whose segments are shown (${size}); edits made in its proofreader show here within seconds`;
  $('folder').textContent = project.name || size;
  document.title = `${project.name || 'project'} - uniem 3D annotator`;
  $('objects-title').textContent = 'Segments';
  $('objects').querySelector('th[data-sort="id"]').textContent = 'Segment';
  $('markers').querySelector('th[title="the object it is on"]').textContent = 'Segment';
  $('markers-help').textContent = "Points on surfaces (a synapse, something to check...), with a name and a type. Saved in the project " +
    "like its edits; its proofreader lists them too (double-click one here to show it there).";
  const proofreader = $('proofreader');
  proofreader.hidden = false;
  proofreader.href = url('../');
  proofreader.target = `uniem-proofreader:${project.prefix}`;
  $('objects-help').hidden = false;
  document.querySelector('#top .how').append(' · ', el('b', { text: 'Double-click' }),
    ' a surface or a marker: the proofreader shows that place');
  $('full-detail').hidden = false;
  $('full-detail').addEventListener('click', fullResolution);
  $('objects-csv').textContent = 'Segments as CSV';
  $('objects-csv').title = "every segment's number, name, colour, voxels and volume (nm³), and the area and centre of those loaded";
  $('objects-csv').addEventListener('click', (e) => {
    e.preventDefault();
    projectObjectsCsv().catch((x) => say(`The segments could not be read: ${x.message}`, 'error'));
  });
  $('markers-csv').addEventListener('click', (e) => { e.preventDefault(); projectMarkersCsv(); });
  $('import').closest('label').title = 'add markers to the project from a CSV file with the columns name,type,x,y,z,segment[,note] ' +
    '(x, y, z in nm; segment: its number); a bad line imports nothing';
  for (const th of $('objects').querySelectorAll('th[data-sort]')) {
    if (th.dataset.sort === 'area') th.title = 'area of its surface, once it is loaded (the table cannot be sorted by it on a project)';
    if (th.dataset.sort === 'volume') th.title = 'its voxels times the voxel volume; click to sort';
  }
  $('colour-by').querySelector('option[value="area"]').disabled = true;
  $('colour-by').querySelector('option[value="id"]').textContent = 'segment (as proofread)';
  $('colour-by').title = "each segment in the colour its proofreader draws it in (change one in the table: kept in the project, for everyone), or by its volume";
  link(proofreaderSaid);
  follow(projectChanged, (live) => {
    $('live').textContent = live ? 'live' : 'reconnecting...';
    $('live').className = live ? 'live' : 'live down';
    $('live').title = live ? 'edits made in the proofreader show here as they are saved' : 'the server does not answer; trying again';
  });
}

async function start() {
  if (!state.path && !(await openProject())) {
    say('No mesh folder named: open this page from the workbench (Data, then “View in 3D” on a mesh folder), ' +
      'or add ?path=FOLDER to its address.', 'error');
    return;
  }
  if (!state.project) {
    $('folder').textContent = state.path;
    document.title = `${state.path} - uniem 3D annotator`;
    $('objects-csv').href = url(route('/objects.csv'), { path: state.path });
    $('markers-csv').href = url(route('/markers.csv'), { path: state.path });
    for (const id of ['objects-csv', 'markers-csv']) {
      $(id).addEventListener('click', () => say(`Downloading ${$(id).getAttribute('download')} (distances in nm)...`));
    }
  }
  setupSection({ view: () => view, setClip, updateClipRange });
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
    row: (id) => state.rows.get(id) || null,  // on a project: with .mesh, what the server said of its surface
    voxelAt: (x, y) => {  // on a project: the voxel (z, y, x) of the surface under a point of the screen
      const hit = view?.pick(x, y, false);
      return hit && state.project ? voxelOf(hit.point) : null;
    },
  };
  setupControls();
  setupKeys();
  setupMarkers({ objectsChanged, view });
  const what = state.project ? project.name || 'the project' : state.path;
  say(`Opening ${what}...`, 'busy');
  try {
    await loadNotes();
  } catch (e) {
    say(`${what} could not be opened: ${e.message}`, 'error');
    return;
  }
  if (state.project) setupProject();
  await loadRanges().catch(() => {});
  await loadPage();
  if (view) await listStacks();
  state.ready = true;
}

start();
