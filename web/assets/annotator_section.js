// The 3D annotator's EM section: an image stack of the workspace (or, on a project, the project's
// own images) laid in the scene as a textured plane at the section chosen, in nm, optionally
// cutting the surfaces there so that it can be seen. The page gives its view and its clipping
// plane through setupSection's hooks.
import { $, el, say, state, micrometres } from './annotator_common.js';
import { project } from './annotator_project.js';

let hooks = { view: () => null, setClip: () => {}, updateClipRange: () => {} };
export function setupSection(given) { hooks = given; }

export const section = { item: null, request: 0 };
const SECTION_SIZE = 1024;  // pixels on the longer side of the section's picture
export const sectionOf = (z) => (section.item ? ` (section ${Math.round(z / section.item.voxel_size.z)})` : '');

export async function listStacks() {
  if (state.project) return projectSection();
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

// On a project: its own EM, at the level of its pyramid that is at most SECTION_SIZE across.
async function projectSection() {
  const info = project.info, [nz, ny, nx] = info.shape;
  let level = 0;
  while (level + 1 < info.levels && Math.max(ny, nx) / 2 ** level > SECTION_SIZE) ++level;
  const item = { path: 'the project', project: true, level, shape: info.shape,
    voxel_size: { ...project.voxel } };
  const select = $('image');
  select.replaceChildren(el('option', { value: '', text: 'none' }),
    el('option', { value: 'project', text: `the project's (${nz} × ${ny} × ${nx} voxels)` }));
  select.onchange = () => setStack(select.value ? item : null);
  select.value = state.image ? 'project' : '';
  if (state.image) await setStack(item);
}

async function setStack(item) {
  section.item = item;
  const slider = $('section-z');
  slider.disabled = $('section-cut').disabled = !item;
  $('section-controls').hidden = !item;
  if (!item) {
    hooks.view()?.setSection(null);
    if ($('section-cut').checked && $('clip-on').checked) { $('clip-on').checked = false; hooks.setClip(); }
    $('section-text').textContent = '';
    say('No EM section is shown.');
    return;
  }
  slider.max = item.shape[0] - 1;
  slider.value = Math.floor(item.shape[0] / 2);
  await showSection(true);
}

export async function showSection(first = false) {
  const item = section.item;
  const view = hooks.view();
  if (!item || !view) return;
  const z = Number($('section-z').value), mine = ++section.request;
  const v = item.voxel_size;
  $('section-text').textContent = `section ${z} of ${item.shape[0]}, z ${micrometres(z * v.z)} µm`;
  const image = new Image();
  image.src = item.project ? url('../api/image', { z, level: item.level })
    : url('../api/data/section', { path: item.path, z, size: SECTION_SIZE });
  try {
    await image.decode();
  } catch {
    if (mine === section.request) say(`Section ${z} of ${item.path} could not be read.`, 'error');
    return;
  }
  if (mine !== section.request) return;
  // The server takes every f-th voxel (web/workspace/section_picture.h): each pixel stands for f voxels.
  const f = item.project ? 2 ** item.level : Math.max(1, Math.ceil(Math.max(item.shape[1], item.shape[2]) / SECTION_SIZE));
  view.setSection(image, { voxels: f, vx: v.x, vy: v.y, z: z * v.z });
  cutAtSection();
  if (!first) return;
  const box = view.bounds(new Set(view.shown()));
  const far = !box.isEmpty() && (box.max.x > item.shape[2] * v.x * 1.1 || box.max.y > item.shape[1] * v.y * 1.1 ||
    box.max.z > item.shape[0] * v.z * 1.1);
  const many = view.shown().length > 3 && $('section-cut').checked;
  say(`EM section ${z} of ${item.path} is shown${item.project ? ' (the proofreader shows the same sections)' : ''}; move the slider to go through the sections.` +
    (many ? ' The surfaces in front of it hide much of it: Show only the selected to see it next to a few objects.' : '') +
    (v.known ? '' : ' Its voxel size is not known, so it may not line up with the surfaces.') +
    (far ? ' The surfaces reach beyond this stack: is it the same volume?' : ''), far || !v.known ? 'error' : 'info');
}

// With "cut the surfaces here", the surfaces end at the section shown, so that it can be seen.
export function cutAtSection() {
  if (!section.item || !$('section-cut').checked) return;
  hooks.updateClipRange();
  $('clip-on').checked = true;
  $('clip-z').value = Number($('section-z').value) * section.item.voxel_size.z;
  hooks.setClip();
}
