// The 3D annotator on a proofreading project (the page at PREFIX/annotator/, without ?path=):
// the project's segments instead of a mesh folder's objects. Everything goes through the
// proofreader's routes, relative to the page (web/server.h): ../api/info, the segment table a page
// at a time (../api/segments), surfaces made by the server when asked (../api/mesh, described by
// its X-Uniem-Mesh header), the project's markers (../api/markers) and its edits (../api/edit: a
// marker placed, moved, changed or removed, a segment's name or colour; journaled like every
// edit), the live events (../api/events) and the EM sections (../api/image).
// The page is linked to the proofreader of the same project by a BroadcastChannel named after the
// project's address: each says which segment is selected, and the annotator asks the proofreader
// to go to a voxel (answered by 'went').
import { state } from './annotator_common.js';
import { parseSurface } from './annotator_view.js';

const project = {
  info: null,
  version: 0,
  prefix: '',        // the project's address: /projects/ID/ in the workbench, / for uniem serve
  voxel: null,       // {x, y, z} nm
  annotated: [],     // [{id, name, locked_by}] from the last table page: every named segment
  channel: null,
};
export { project };

// The user the proofreader's page goes by in this browser (web/assets/app.js keeps it there too,
// made the same way when neither page was open before).
export function user() {
  if (!localStorage.getItem('uniem-user')) localStorage.setItem('uniem-user', `user-${Math.floor(Math.random() * 9000 + 1000)}`);
  return localStorage.getItem('uniem-user');
}

// True when the page is on a project (its ../api/info says so), after which state.project is set.
export async function openProject() {
  let info;
  try {
    info = await api('../api/info');
  } catch {
    return false;
  }
  if (!info || info.format !== 'uniem-project') return false;
  project.info = info;
  project.version = info.version;
  project.prefix = new URL('..', location.href).pathname;
  const [z, y, x] = info.voxel_size;
  project.voxel = { x, y, z, known: info.voxel_size_known };
  const id = project.prefix.match(/\/projects\/([^/]+)\/$/);
  project.name = id ? decodeURIComponent(id[1]).replaceAll('~', '/') : '';  // uniem serve: no name
  state.project = project;
  return true;
}

export const voxelVolume = () => project.voxel.x * project.voxel.y * project.voxel.z;

// A point in nm (x, y, z) as the voxel (z, y, x) it falls in, clamped into the volume.
export function voxelOf(p) {
  const [nz, ny, nx] = project.info.shape;
  const v = project.voxel;
  const clamp = (t, n) => Math.min(n - 1, Math.max(0, Math.round(t)));
  return { z: clamp(p.z / v.z, nz), y: clamp(p.y / v.y, ny), x: clamp(p.x / v.x, nx) };
}

// A page of the segment table, as the mesh folder's route gives one: {total, objects}. Sorted by
// id, voxels (volume) or name; the server does not know areas before the surfaces are made.
export async function projectPage({ sort, order, offset, limit, q }, rows) {
  const query = { count: limit, offset, sort: sort === 'volume' ? 'voxels' : sort === 'name' ? 'name' : 'id',
    order: order === 'desc' ? 'down' : 'up' };
  if (q) query.search = q;
  const page = await api('../api/segments', undefined, query);
  project.annotated = page.annotated || [];
  const objects = page.items.map((s) => {
    const before = rows.get(s.id);
    const keep = before && before.voxels === s.voxels ? before : {};
    return { id: s.id, voxels: s.voxels, name: s.name, locked_by: s.locked_by, file: 'segment.ply',
      volume_nm3: s.voxels * voxelVolume(), area_nm2: keep.area_nm2, centroid_nm: keep.centroid_nm, mesh: keep.mesh,
      triangles: keep.mesh?.triangles };
  });
  return { total: page.matching, all: page.total, objects };
}

// The surface of segment `id` as the server makes it (decimated for display unless `full`):
// {geometry, info} with the X-Uniem-Mesh header's description.
export async function projectSurface(id, full = false) {
  const query = { segment: id };
  if (full) query.detail = 'full';
  const r = await fetch(url('../api/mesh', query), { cache: 'no-store' });
  if (!r.ok) {
    const e = new Error((await r.json().catch(() => ({}))).error || `the server answered HTTP ${r.status}`);
    e.status = r.status;
    throw e;
  }
  const info = JSON.parse(r.headers.get('X-Uniem-Mesh') || '{}');
  info.full = full;
  return { geometry: parseSurface(await r.arrayBuffer(), 'segment.ply'), info };
}

// The centre of mass of a closed surface (nm; z, y, x as the mesh folders give it): the
// volume-weighted centres of the tetrahedra each triangle makes with the origin.
export function centroidOf(geometry) {
  const p = geometry.attributes.position.array, index = geometry.index ? geometry.index.array : null;
  const n = index ? index.length : p.length / 3;
  let v = 0, cx = 0, cy = 0, cz = 0;
  for (let t = 0; t < n; t += 3) {
    const a = 3 * (index ? index[t] : t), b = 3 * (index ? index[t + 1] : t + 1), c = 3 * (index ? index[t + 2] : t + 2);
    const d = p[a] * (p[b + 1] * p[c + 2] - p[b + 2] * p[c + 1]) - p[a + 1] * (p[b] * p[c + 2] - p[b + 2] * p[c])
      + p[a + 2] * (p[b] * p[c + 1] - p[b + 1] * p[c]);
    v += d;
    cx += d * (p[a] + p[b] + p[c]);
    cy += d * (p[a + 1] + p[b + 1] + p[c + 1]);
    cz += d * (p[a + 2] + p[b + 2] + p[c + 2]);
  }
  if (!v) return null;
  return [cz / (4 * v), cy / (4 * v), cx / (4 * v)];
}

// ---- names, colours and markers: the page's "notes" -----------------------------------------------
// A project marker as the page's markers are: x, y, z in nm (the point placed in 3D, else the
// centre of its voxel), a number (its key's), a name.
function asMarker(m) {
  const id = Number(m.key.slice('marker/'.length));
  const v = project.voxel;
  const [x, y, z] = m.nm || [m.x * v.x, m.y * v.y, m.z * v.z];
  return { id, key: m.key, name: m.name || `marker ${id}`, named: Boolean(m.name), type: m.type || '', note: m.note || '',
    x, y, z, segment: m.segment || 0, voxel: { z: m.z, y: m.y, x: m.x }, user: m.user };
}

export async function projectNotes() {
  const [markers, page] = await Promise.all([api('../api/markers'), api('../api/segments', undefined, { count: 1 })]);
  project.annotated = page.annotated || [];
  const objects = {};
  for (const a of project.annotated) {
    if (a.name || a.colour) objects[a.id] = { ...(a.name ? { name: a.name } : {}), ...(a.colour ? { colour: a.colour } : {}) };
  }
  const list = markers.map(asMarker);
  return { version: project.version, objects, markers: list, next_marker: list.length ? Math.max(...list.map((m) => m.id)) + 1 : 1 };
}

async function edit(op, fields) {
  const result = await api('../api/edit', { op, user: user(), version: project.version, ...fields });
  if (result.version > project.version) project.version = result.version;
  return result;
}

// The fields of a marker edit for marker `m` (the page's form) at point `p` (nm) on `segment`.
function markerFields(m, p, segment) {
  const fields = { ...voxelOf(p), nm: [p.x, p.y, p.z], type: m.type || '', note: m.note || '', segment: segment || 0 };
  if (m.name && (m.named !== false)) fields.name = m.name;
  return fields;
}

// One change of the page (mesh_folder.h's ops: add, edit, move, delete, restore, object) as the
// project's edit; answers the notes as they are after it.
export async function projectChange(op) {
  const find = (id) => {
    const m = state.notes.markers.find((x) => x.id === id);
    if (!m) throw new Error(`there is no marker ${id} (removed elsewhere?)`);
    return m;
  };
  let key = null;
  if (op.op === 'add' || op.op === 'restore') {
    const m = op.marker;
    key = (await edit('marker', markerFields(m, m, m.segment))).key;
  } else if (op.op === 'edit') {
    const m = find(op.id);
    await edit('marker', { key: m.key, ...markerFields({ ...m, name: op.name, named: true, type: op.type, note: op.note }, m, m.segment) });
  } else if (op.op === 'move') {
    const m = find(op.id);
    await edit('marker', { key: m.key, ...markerFields(m, op, op.segment) });
  } else if (op.op === 'delete') {
    await edit('unmark', { key: find(op.id).key });
  } else if (op.op === 'object') {
    if ('name' in op) await edit('name', { id: op.object, name: op.name || '' });
    if ('colour' in op) await edit('colour', { id: op.object, colour: op.colour || '' });
  } else {
    throw new Error(`the page asked for an unknown change '${op.op}'`);
  }
  const notes = await projectNotes();
  if (key) notes.next_marker = Number(key.slice('marker/'.length)) + 1;
  return notes;
}

// ---- markers from CSV ------------------------------------------------------------------------------
// The rows of a CSV text (RFC 4180: fields in double quotes may hold commas, quotes doubled, line breaks).
function csvRows(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; ++i) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; ++i; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') ++i;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

// Markers from a CSV file (the columns name,type,x,y,z,segment[,note], x, y, z in nm; id ignored),
// as mesh folders take them: every line checked first, so that a bad one imports nothing (the
// error names its line), then each placed as a project marker; when the server refuses one, those
// placed before it are removed again. Answers {imported, annotations}.
export async function projectImport(text) {
  const rows = csvRows(text.replace(/^\uFEFF/, '')).map((r, k) => Object.assign(r, { line: k + 1 }))
    .filter((r) => r.some((f) => f.trim() !== ''));
  if (!rows.length) throw new Error('the file is empty (a header line id,name,type,x,y,z,segment comes first)');
  const header = rows[0].map((h) => h.trim().toLowerCase());
  const at = {};
  for (const needed of ['name', 'type', 'x', 'y', 'z', 'segment']) {
    at[needed] = header.indexOf(needed);
    if (at[needed] < 0) throw new Error(`line 1: no column '${needed}' (the header is id,name,type,x,y,z,segment[,note])`);
  }
  at.note = header.indexOf('note');
  const [nz, ny, nx] = project.info.shape, v = project.voxel;
  const limit = { x: (nx - 0.5) * v.x, y: (ny - 0.5) * v.y, z: (nz - 0.5) * v.z };
  const markers = rows.slice(1).map((r) => {
    const line = r.line;
    const get = (name) => (at[name] >= 0 && at[name] < r.length ? r[at[name]].trim() : '');
    const p = {};
    for (const axis of ['x', 'y', 'z']) {
      p[axis] = Number(get(axis));
      if (get(axis) === '' || !Number.isFinite(p[axis])) throw new Error(`line ${line}: ${axis} is not a number (“${get(axis)}”)`);
      if (p[axis] < -0.5 * v[axis] || p[axis] > limit[axis]) {
        throw new Error(`line ${line}: ${axis} = ${p[axis]} nm lies outside the project (0 to ${limit[axis]} nm)`);
      }
    }
    const segment = get('segment') === '' ? 0 : Number(get('segment'));
    if (!Number.isInteger(segment) || segment < 0) throw new Error(`line ${line}: segment is not a segment number (“${get('segment')}”)`);
    const m = { ...p, segment, name: get('name'), type: get('type'), note: get('note'), line };
    if (m.name.length > 200 || m.type.length > 100 || m.note.length > 500) throw new Error(`line ${line}: the name, type or note is too long`);
    return m;
  });
  const placed = [];
  try {
    for (const m of markers) placed.push((await edit('marker', markerFields(m, m, m.segment))).key);
  } catch (e) {
    for (const key of placed.reverse()) await edit('unmark', { key }).catch(() => {});
    throw new Error(`line ${markers[placed.length].line}: ${e.message}`);
  }
  const annotations = await projectNotes();
  return { imported: placed.length, annotations };
}

// ---- live: the project's events ---------------------------------------------------------------
// `changed(events)` is called with each batch of events ({version, user, kind, op, box}), or with
// null when the page should read everything again.
export function follow(changed, connection) {
  const source = new EventSource(url('../api/events', { since: project.version }));
  source.onopen = () => connection(true);
  source.onmessage = (m) => {
    const e = JSON.parse(m.data);
    if (e.version > project.version) project.version = e.version;
    changed(e.reload ? null : e.events);
  };
  source.onerror = () => {
    connection(false);
    source.close();
    setTimeout(async () => {
      try {
        const info = await api('../api/info');
        if (info.version !== project.version) { project.version = info.version; changed(null); }
      } catch {
        // still down: try again
      }
      follow(changed, connection);
    }, 1500);
  };
}

// A segment's box in voxels (z0, y0, x0, z1, y1, x1, ends excluded) from its surface's box in nm,
// a voxel wider on each side.
export function voxelBox(box) {
  const v = project.voxel;
  return [Math.floor(box.min.z / v.z) - 1, Math.floor(box.min.y / v.y) - 1, Math.floor(box.min.x / v.x) - 1,
    Math.ceil(box.max.z / v.z) + 2, Math.ceil(box.max.y / v.y) + 2, Math.ceil(box.max.x / v.x) + 2];
}
export const boxesMeet = (a, b) => a[0] < b[3] && b[0] < a[3] && a[1] < b[4] && b[1] < a[4] && a[2] < b[5] && b[2] < a[5];

// ---- the link to the proofreader -------------------------------------------------------------------
// Messages: {type: 'select', id, from}, {type: 'go', z, y, x, id, from}, {type: 'went', z, from}.
export function link(onMessage) {
  if (!('BroadcastChannel' in window)) return null;
  project.channel = new BroadcastChannel(`uniem-project:${project.prefix}`);
  project.channel.onmessage = (e) => { if (e.data && e.data.from === 'proofreader') onMessage(e.data); };
  return project.channel;
}
export function tell(message) { project.channel?.postMessage({ ...message, from: 'annotator' }); }
