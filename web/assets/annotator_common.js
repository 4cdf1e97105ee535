// What the 3D annotator's modules share (annotator.js starts the page): its state, the small
// helpers that build elements and say what happened, numbers in micrometres, and the colours of
// objects (by id, as every uniem page draws labels; or by a measurement, on a colour ramp).
// url(), api() and pageToken come from server.js, loaded before the modules. The page works on a
// mesh folder (?path=) or, opened at a proofreading project's /annotator/, on the project
// (annotator_project.js; state.project is set).
import { projectChange } from './annotator_project.js';

export const $ = (id) => document.getElementById(id);

const query = new URLSearchParams(location.search);

export const state = {
  path: query.get('path') || '',   // the mesh folder, as the workbench's Data page lists it
  project: null,         // or the project the page is on (annotator_project.js)
  image: query.get('image') || '', // an image stack of the same volume, for the EM section
  rows: new Map(),       // id -> the object's row, from every table page read (the server's units: nm)
  page: [],              // the ids of the table page shown, in order
  total: 0,              // objects in the folder
  matching: 0,           // objects the search finds
  sort: 'id', order: 'asc', search: '', offset: 0,
  selected: new Set(),   // selected objects
  hidden: new Set(),     // objects unticked in "visible"
  only: null,            // "Show only the selected": those ids, else null
  full: new Set(),       // on a project: segments whose surface is asked for with every triangle
  colourBy: 'id',        // id | volume | area
  range: { volume: null, area: null },  // [min, max] of each measurement over the folder (nm units)
  notes: { version: -1, objects: {}, markers: [] },  // GET ../api/meshes/annotations
  markerSelected: 0,     // the marker selected in the list (its id), 0 when none
  mode: '',              // '' | 'place' | 'move': what the next click on a surface does
  view: null,            // the 3D view (annotator_view.js)
  changing: 0,           // changes sent and not yet answered
  ready: false,          // the first page, its surfaces and the markers are shown
  webgl: true,
};
export const PAGE_SIZE = 100;
export const MAX_SHOWN = 200;             // surfaces drawn at once
export const MAX_TRIANGLES = 8_000_000;   // and triangles: beyond, turning the view stutters

export const el = window.el;  // server.js's, loaded before the modules

// The page's one message line, under the header: every action says there what happened.
export function say(text, kind = 'info') {
  const m = $('message');
  m.textContent = text;
  m.className = `message ${kind}`;
}

// The mesh routes are at the server's root; the page is at /annotator/.
export const route = (name) => `../api/meshes${name}`;
// One change (mesh_folder.h); while it is under way the annotations are not polled, so that ours
// is not taken for someone else's.
export async function change(op) {
  ++state.changing;
  try {
    if (state.project) return await projectChange(op);
    return await api(route('/change'), { path: state.path, ...op });
  } finally {
    --state.changing;
  }
}

// ---- numbers -------------------------------------------------------------------------------------
// A value with about 3 significant digits, without exponents for the sizes cells have.
export function figure(v) {
  if (!Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 1e-6) return String(Number(v.toPrecision(3)));
  return v.toExponential(2);
}
export const micrometres = (nm) => figure(nm / 1e3);
export const cubicMicrometres = (nm3) => figure(nm3 / 1e9);
export const squareMicrometres = (nm2) => figure(nm2 / 1e6);
// A point in nm (x, y, z) as "x, y, z" in µm.
export const position = (x, y, z) => `${micrometres(x)}, ${micrometres(y)}, ${micrometres(z)}`;

// ---- colours -------------------------------------------------------------------------------------
const MASK64 = (1n << 64n) - 1n;
// The colour of label `id` on every uniem page: web/workspace/section_picture.cpp's label_colour
// (SplitMix64's finaliser; each channel 64..255, bright enough to see on black), as "#rrggbb".
export function labelColour(id) {
  if (!id) return '#000000';
  if (state.project) return proofreaderColour(id);
  let h = (BigInt(id) * 0x9E3779B97F4A7C15n) & MASK64;
  h = ((h ^ (h >> 30n)) * 0xBF58476D1CE4E5B9n) & MASK64;
  h = ((h ^ (h >> 27n)) * 0x94D049BB133111EBn) & MASK64;
  h ^= h >> 31n;
  const channel = (shift) => 64 + Math.floor(Number((h >> BigInt(shift)) & 0xffn) * 191 / 255);
  return `#${[channel(0), channel(8), channel(16)].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

// On a project, the colour its proofreader draws segment `id` in (web/assets/app.js colour(): the
// hue stepping by the golden ratio of a turn, lightness and saturation from a hash of the id), so
// that a segment looks the same on both pages.
function proofreaderColour(id) {
  let h = Math.imul(id ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  const hue = ((id * 0.6180339887498949) % 1) * 6;
  const light = [0.55, 0.72, 0.4][h % 3], sat = [0.95, 0.7][(h >>> 8) & 1];
  const c = (1 - Math.abs(2 * light - 1)) * sat, x = c * (1 - Math.abs((hue % 2) - 1)), m = light - c / 2;
  const [r, g, b] = hue < 1 ? [c, x, 0] : hue < 2 ? [x, c, 0] : hue < 3 ? [0, c, x] : hue < 4 ? [0, x, c] : hue < 5 ? [x, 0, c] : [c, 0, x];
  return `#${[r, g, b].map((v) => Math.round((v + m) * 255).toString(16).padStart(2, '0')).join('')}`;
}

// Viridis, in 9 steps, for measurements: dark blue (small) to yellow (large).
const RAMP = ['#440154', '#472d7b', '#3b528b', '#2c728e', '#21918c', '#28ae80', '#5ec962', '#addc30', '#fde725'];
export const rampGradient = `linear-gradient(to right, ${RAMP.join(', ')})`;
function rampAt(t) {
  const x = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const a = parseInt(RAMP[i].slice(1), 16), b = parseInt(RAMP[i + 1].slice(1), 16), f = x - i;
  const mix = (s) => Math.round(((a >> s) & 255) * (1 - f) + ((b >> s) & 255) * f);
  return `#${[16, 8, 0].map((s) => mix(s).toString(16).padStart(2, '0')).join('')}`;
}
// Where a measurement falls in its range: logarithmic when the range spans more than 100 times.
export function rampScale(range) {
  if (!range) return null;
  const [low, high] = range;
  const log = low > 0 && high / low > 100;
  const f = log ? Math.log : (v) => v;
  const a = f(low), b = f(high);
  return { log, at: (v) => (b > a ? (f(Math.max(low, Math.min(high, v))) - a) / (b - a) : 0.5), low, high };
}

export const ownColour = (id) => {
  const o = state.notes.objects[String(id)];
  return o && o.colour ? o.colour : '';
};
export const objectName = (id) => {
  const o = state.notes.objects[String(id)];
  return o && o.name ? o.name : '';
};

// The colour object `id` is drawn in: its own (set in the table) when colouring by id, else by id;
// by a measurement on the ramp.
export function colourOf(id) {
  if (state.colourBy === 'id') return ownColour(id) || labelColour(id);
  const row = state.rows.get(id);
  const scale = rampScale(state.range[state.colourBy]);
  if (!row || !scale) return '#888888';
  return rampAt(scale.at(state.colourBy === 'volume' ? row.volume_nm3 : row.area_nm2));
}

export function markerTypes() {
  return [...new Set(state.notes.markers.map((m) => m.type).filter(Boolean))].sort();
}
// A marker type's colour, one of a few, the same for the same word on every page and day (white
// for none).
const TYPE_COLOURS = ['#ff5252', '#40c4ff', '#ffd740', '#e040fb', '#69f0ae', '#ff9100', '#b388ff', '#18ffff'];
export function markerColour(type) {
  if (!type) return '#ffffff';
  let h = 2166136261;  // FNV-1a
  for (const c of type.toLowerCase()) h = Math.imul(h ^ c.codePointAt(0), 16777619) >>> 0;
  return TYPE_COLOURS[h % TYPE_COLOURS.length];
}
