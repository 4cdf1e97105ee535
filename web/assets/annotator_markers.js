// The 3D annotator's markers: points on surfaces with a name, a type and a note, kept in the
// mesh folder's annotations.json by the server (web/workspace/mesh_folder.h). Placed, moved by
// a click on a surface; edited, deleted; listed; imported from CSV. Every change of ours can be
// undone by its inverse (add -> delete, delete -> restore, move -> move back, edit -> edit back,
// an object's name or colour -> the old one). The annotations are read again every 3 s, so that
// what others change shows.
// On a project (state.project), the markers are the project's own (annotator_project.js turns the
// same changes into its edits) and what others change arrives with the project's events.
import { $, el, say, state, route, change, position, markerTypes, markerColour, objectName } from './annotator_common.js';
import { projectNotes, projectImport } from './annotator_project.js';

const hooks = { objectsChanged: () => {}, view: null };
const undoStack = [];  // {what, ops: [change...]}, the last one last
let form = null;       // the marker form's subject: {kind: 'add', hit} or {kind: 'edit', marker}
let moving = 0;        // the marker the next click moves

export function setupMarkers({ objectsChanged, view }) {
  hooks.objectsChanged = objectsChanged;
  hooks.view = view;
  $('place').addEventListener('click', () => (state.mode === 'place' ? stopMode('You stopped placing markers.') : startPlacing()));
  $('undo').addEventListener('click', undo);
  $('marker-edit').addEventListener('click', () => { const m = selectedMarker(); if (m) openForm({ kind: 'edit', marker: m }); });
  $('marker-move').addEventListener('click', startMoving);
  $('marker-delete').addEventListener('click', deleteMarker);
  $('marker-form').addEventListener('submit', (e) => { e.preventDefault(); saveForm(); });
  $('marker-cancel').addEventListener('click', () => closeForm('Nothing saved.'));
  $('marker-form').addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && form) { e.preventDefault(); e.stopPropagation(); closeForm('Nothing saved.'); }
  });
  $('import').addEventListener('change', importMarkers);
  if (!state.project) setInterval(poll, 3000);
}

export async function loadNotes() {
  applyNotes(state.project ? await projectNotes() : await api(route('/annotations'), undefined, { path: state.path }));
}

// The annotations after a change (ours: the server's answer; others': read by poll()).
export function applyNotes(notes) {
  state.notes = notes;
  if (!notes.markers.some((m) => m.id === state.markerSelected)) state.markerSelected = 0;
  drawMarkers();
  hooks.objectsChanged();
}

async function poll() {
  if (document.hidden || !state.ready || state.changing) return;
  try {
    const notes = await api(route('/annotations'), undefined, { path: state.path });
    if (notes.version > state.notes.version && !state.changing) {
      applyNotes(notes);
      say(`The markers or object names were changed elsewhere (another browser or tab): what is shown is up to date.`);
    }
  } catch {
    // read again in 3 s; the next change says what is wrong
  }
}

const selectedMarker = () => state.notes.markers.find((m) => m.id === state.markerSelected) || null;
const describe = (m) => `“${m.name}”${m.type ? ` (${m.type})` : ''}`;
const onObject = (id) => {
  const word = state.project ? 'segment' : 'object';
  return id ? `${word} ${id}${objectName(id) ? ` “${objectName(id)}”` : ''}` : `no ${word}`;
};

function drawMarkers() {
  const markers = [...state.notes.markers].sort((a, b) => a.id - b.id);
  $('marker-count').textContent = `(${markers.length})`;
  $('markers-empty').hidden = markers.length > 0;
  $('markers').tBodies[0].replaceChildren(...markers.map((m) => el('tr', {
    'data-id': m.id, class: m.id === state.markerSelected ? 'selected' : '', title: m.note || '',
    onclick: () => selectMarker(m.id, true), ondblclick: () => openForm({ kind: 'edit', marker: m }) },
  el('td', { text: m.name }),
  el('td', {}, el('span', { class: 'dot', style: `background:${markerColour(m.type)}` }), m.type || ''),
  el('td', { class: 'number', text: m.segment ? String(m.segment) : '—' }),
  el('td', { class: 'number', text: position(m.x, m.y, m.z) }))));
  const types = [...new Set([...markerTypes(), 'synapse', 'note'])];
  $('marker-types').replaceChildren(...types.map((t) => el('option', { value: t })));
  const none = !selectedMarker();
  for (const id of ['marker-edit', 'marker-move', 'marker-delete']) $(id).disabled = none;
  drawInView();
}

function drawInView() {
  if (!hooks.view) return;
  const markers = [...state.notes.markers];
  if (form && form.kind === 'add') markers.push({ id: -1, type: $('marker-type').value, ...xyz(form.hit.point) });
  hooks.view.setMarkers(markers, form && form.kind === 'add' ? -1 : state.markerSelected, (m) => markerColour(m.type));
}

const xyz = (p) => ({ x: p.x, y: p.y, z: p.z });

// A marker chosen in the list (the camera flies to it) or in the 3D view.
export function selectMarker(id, fly) {
  state.markerSelected = id;
  drawMarkers();
  const m = selectedMarker();
  if (!m) return;
  $('markers').querySelector(`tr[data-id="${id}"]`)?.scrollIntoView({ block: 'nearest' });
  if (fly) hooks.view?.flyTo(m);
  say(`Marker ${describe(m)} on ${onObject(m.segment)} at ${position(m.x, m.y, m.z)} µm${m.note ? `: ${m.note}` : ''}.`);
}

// ---- modes: what the next click on a surface does ------------------------------------------------------
function setMode(mode, text) {
  state.mode = mode;
  const overlay = $('mode-text');
  overlay.hidden = !mode;
  overlay.textContent = text || '';
  $('place').classList.toggle('active', mode === 'place');
  $('place').textContent = mode === 'place' ? 'Stop placing' : 'Place marker';
  $('view').classList.toggle('picking', Boolean(mode));
}

function startPlacing() {
  if (!hooks.view) { say('Markers are placed in the 3D view, which this browser cannot draw.', 'error'); return; }
  setMode('place', 'Click on a surface to place a marker · Esc: stop');
  say('Click on a surface where the marker goes (Esc or Stop placing to end).');
}

function startMoving() {
  const m = selectedMarker();
  if (!m) return;
  moving = m.id;
  setMode('move', `Click on a surface where marker “${m.name}” goes · Esc: leave it`);
  say(`Click on a surface where marker ${describe(m)} should go (Esc: leave it where it is).`);
}

export function stopMode(text) {
  closeForm();
  moving = 0;
  setMode('');
  if (text) say(text);
}

export function surfaceClicked(hit, event) {
  if (state.mode === 'place') openForm({ kind: 'add', hit }, event);
  else if (state.mode === 'move') moveMarker(hit);
}

// ---- the form ----------------------------------------------------------------------------------
function openForm(subject, event = null) {
  form = subject;
  const f = $('marker-form');
  const m = subject.marker;
  if (subject.kind === 'add') {
    const p = subject.hit.point;
    $('marker-form-title').textContent = `New marker on ${onObject(subject.hit.id)}, at ${position(p.x, p.y, p.z)} µm`;
    $('marker-name').value = '';
    $('marker-name').placeholder = state.project ? 'marker (and its number)' : `marker ${state.notes.next_marker || ''}`;
    $('marker-type').value = $('marker-type').value || markerTypes()[0] || '';
    $('marker-note').value = '';
  } else {
    $('marker-form-title').textContent = `Marker ${m.id} on ${onObject(m.segment)}`;
    $('marker-name').value = m.name;
    $('marker-type').value = m.type;
    $('marker-note').value = m.note || '';
  }
  f.hidden = false;
  const holder = $('view').getBoundingClientRect();
  const x = event ? event.clientX - holder.left + 14 : holder.width - f.offsetWidth - 12;
  const y = event ? event.clientY - holder.top + 14 : 12;
  f.style.left = `${Math.max(8, Math.min(x, holder.width - f.offsetWidth - 8))}px`;
  f.style.top = `${Math.max(8, Math.min(y, holder.height - f.offsetHeight - 8))}px`;
  drawInView();
  $('marker-name').focus();
}

function closeForm(text) {
  if (!form) return;
  form = null;
  $('marker-form').hidden = true;
  drawInView();
  if (text) say(text);
}

async function saveForm() {
  const subject = form;
  const name = $('marker-name').value.trim(), type = $('marker-type').value.trim(), note = $('marker-note').value.trim();
  try {
    if (subject.kind === 'add') {
      const p = subject.hit.point;
      const marker = { type, note, x: p.x, y: p.y, z: p.z, segment: subject.hit.id };
      if (name) marker.name = name;
      const notes = await change({ op: 'add', marker });
      const id = notes.next_marker - 1;
      state.markerSelected = id;
      form = null;
      $('marker-form').hidden = true;
      applyNotes(notes);
      const m = selectedMarker();
      remember({ what: `placing marker ${describe(m)}`, ops: [{ op: 'delete', id }] });
      say(`Marker ${describe(m)} placed on ${onObject(m.segment)} at ${position(m.x, m.y, m.z)} µm. ` +
        'Click again to place another; Esc to stop.');
    } else {
      const m = subject.marker;
      const notes = await change({ op: 'edit', id: m.id, name: name || m.name, type, note });
      form = null;
      $('marker-form').hidden = true;
      applyNotes(notes);
      remember({ what: `the changes to marker ${describe(m)}`, ops: [{ op: 'edit', id: m.id, name: m.name, type: m.type, note: m.note || '' }] });
      say(`Marker ${m.id} is now ${describe(selectedMarker() || m)}.`);
    }
  } catch (e) {
    say(`Not saved: ${e.message}`, 'error');
  }
}

// ---- changes -----------------------------------------------------------------------------------
async function moveMarker(hit) {
  const m = state.notes.markers.find((x) => x.id === moving);
  if (!m) { stopMode('That marker is gone (deleted elsewhere?).'); return; }
  try {
    const p = hit.point;
    applyNotes(await change({ op: 'move', id: m.id, x: p.x, y: p.y, z: p.z, segment: hit.id }));
    remember({ what: `moving marker ${describe(m)}`, ops: [{ op: 'move', id: m.id, x: m.x, y: m.y, z: m.z, segment: m.segment }] });
    stopMode();
    say(`Marker ${describe(m)} moved to ${onObject(hit.id)}, at ${position(p.x, p.y, p.z)} µm.`);
  } catch (e) {
    say(`Marker ${describe(m)} was not moved: ${e.message}`, 'error');
  }
}

async function deleteMarker() {
  const m = selectedMarker();
  if (!m) return;
  try {
    applyNotes(await change({ op: 'delete', id: m.id }));
    remember({ what: `deleting marker ${describe(m)}`, ops: [{ op: 'restore', marker: m }] });
    say(`Marker ${describe(m)} deleted (Undo brings it back).`);
  } catch (e) {
    say(`Marker ${describe(m)} was not deleted: ${e.message}`, 'error');
  }
}

export function remember(entry) {
  undoStack.push(entry);
  if (undoStack.length > 200) undoStack.shift();
  $('undo').disabled = false;
  $('undo').title = `take back ${entry.what} (Ctrl+Z)`;
}

async function undo() {
  const entry = undoStack.pop();
  $('undo').disabled = undoStack.length === 0;
  $('undo').title = undoStack.length ? `take back ${undoStack[undoStack.length - 1].what} (Ctrl+Z)` : 'nothing to take back';
  if (!entry) { say('Nothing to undo: only your own changes made on this page can be undone.'); return; }
  try {
    let k = 0;
    for (const op of entry.ops) {
      if (entry.ops.length > 5) say(`Undoing ${entry.what}: ${++k} of ${entry.ops.length}...`, 'busy');
      applyNotes(await change(op));
    }
    say(`Undone: ${entry.what}.`);
  } catch (e) {
    say(`Could not undo ${entry.what}: ${e.message}`, 'error');
  }
}

async function importMarkers() {
  const input = $('import');
  const file = input.files[0];
  input.value = '';
  if (!file) return;
  say(`Reading ${file.name}...`, 'busy');
  const first = state.notes.next_marker || 1;
  ++state.changing;
  try {
    const answer = state.project ? await projectImport(await file.text())
      : await api(route('/import'), { path: state.path, csv: await file.text() });
    applyNotes(answer.annotations);
    const ids = answer.annotations.markers.map((m) => m.id).filter((id) => id >= first);
    if (ids.length) remember({ what: `importing ${ids.length} markers from ${file.name}`, ops: ids.map((id) => ({ op: 'delete', id })) });
    say(`Imported ${answer.imported} marker${answer.imported === 1 ? '' : 's'} from ${file.name}.`);
  } catch (e) {
    say(`Nothing imported from ${file.name}: ${e.message}`, 'error');
  } finally {
    --state.changing;
  }
}

// The keys of the markers (after typing in a box, Enter or Esc gives them back): Ctrl+Z undo,
// M place, Esc stop, Delete the selected marker. True when the key was used.
export function keyPressed(e) {
  if ((e.ctrlKey || e.metaKey) && (e.key === 'z' || e.key === 'Z') && !e.shiftKey) { undo(); return true; }
  if (e.ctrlKey || e.metaKey || e.altKey) return false;
  if (e.key === 'm' || e.key === 'M') {
    if (state.mode === 'place') stopMode('You stopped placing markers.'); else startPlacing();
    return true;
  }
  if (e.key === 'Escape' && (state.mode || form)) {
    stopMode(state.mode === 'move' ? 'The marker stays where it was.' : 'You stopped placing markers.');
    return true;
  }
  if ((e.key === 'Delete' || e.key === 'Backspace') && selectedMarker()) { deleteMarker(); return true; }
  return false;
}
