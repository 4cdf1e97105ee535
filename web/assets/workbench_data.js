// The workbench's Data view, its home (workbench.js has the helpers): what the workspace and the
// folders added to it hold (GET api/data), by kind, each stack a card with its picture, and the
// folders added (POST api/data/folders, api/data/folders/remove). The list is read every 10 s
// while it is shown and when a job ends; a card is built once and redrawn only when its item
// changes, its picture loaded when it scrolls into sight, so 200 stacks stay quick.
'use strict';

const dataKinds = [
  { kind: 'images', title: 'Image stacks',
    about: 'Electron microscopy sections: folders of PNG or TIFF files, or multi-page TIFF files.' },
  { kind: 'labels', title: 'Label stacks / segmentations',
    about: 'Each object (a cell, a mitochondrion...) painted with its own number: ground truth you painted, or what a command found.' },
  { kind: 'model2d', title: '2D networks',
    about: 'Networks trained with train2d. Use one for inference to find the same things in new sections (infer2d).' },
  { kind: 'ffn_model', title: 'FFN networks',
    about: 'Flood-filling networks (ffn train, or imported with ffn import-tf): ffn segment traces neurons through the stack with one.' },
  { kind: 'project', title: 'Proofreading projects',
    about: 'Segmentations being corrected in the proofreader, every edit kept. Proofread opens one in a new tab.' },
  { kind: 'meshes', title: 'Meshes',
    about: 'Surfaces of objects (made with mesh), with their areas and volumes. View in 3D shows them, with a table of the objects, ' +
      'and lets you put markers on them; Blender, MeshLab or Neuroglancer open them too.' },
  { kind: 'run', title: 'Finished runs',
    about: 'The folders of finished jobs (runs/job-N, or the folder a job was given, as uniem demo gives its jobs): ' +
      'what each job wrote, its log and its record.' },
];

const data = {
  list: null,              // the latest GET api/data
  trainingPaths: new Set(),// folders with a training log (GET api/training)
  groups: new Map(),       // kind -> {section, cards (the element holding them), count}
  cards: new Map(),        // path -> {card, key}
  loading: null,
  again: false,
  readAt: 0,               // when the list was last read (ms)
  triedAt: 0,              // when it was last asked for, read or not
  stale: false,            // a job ended since: read again when shown
  ended: null,             // ids of the jobs that had ended at the last job list
  failed: false,           // the last read failed (said once)
  timer: 0,
};

// A URL the server gave (a picture, a section), with the page's access token when it has one.
function withToken(address) {
  if (!pageToken || !address) return address;
  return `${address}${address.includes('?') ? '&' : '?'}token=${encodeURIComponent(pageToken)}`;
}

const isStack = (item) => item.kind === 'images' || item.kind === 'labels';

// ---- reading the list ----------------------------------------------------------------------------
async function refreshData() {
  if (data.loading) { data.again = true; return data.loading; }
  data.triedAt = Date.now();
  data.loading = (async () => {
    try {
      const [list, training] = await Promise.all([api('api/data'),
        api('api/training').catch(() => ({ runs: [] }))]);  // without it, no "Training curves" buttons
      data.list = list;
      updateWorkspacePaths(list.items || []);
      data.trainingPaths = new Set((training.runs || []).map((r) => r.path));
      data.readAt = Date.now();
      data.stale = false;
      if (data.failed) say('data-message', 'The list is read again.', 'info');
      data.failed = false;
      drawData();
      if (!$('viewer').hidden) drawOverlayChoices();  // a segmentation just made
      if (state.detail) drawDetails();  // its outputs' buttons (outputActions)
    } catch (e) {
      if (!data.failed) say('data-message', `What the workspace holds could not be read: ${e.message}`, 'error');
      data.failed = true;
    }
  })();
  await data.loading;
  data.loading = null;
  if (data.again) { data.again = false; await refreshData(); }
}

function dataShown() {
  if (!data.list || data.stale || Date.now() - data.readAt > 2000) refreshData();
  if (!data.timer) {
    data.timer = setInterval(() => {
      if (state.view === 'data' || !$('viewer').hidden) refreshData();
    }, 10000);
  }
}

// Called with each job list (workbench_jobs.js): a job that has just ended may have written
// something; the list is read again (now if it is shown, else when it is).
function jobsListed() {
  const ended = new Set(state.jobs.filter((j) => ['done', 'failed', 'cancelled', 'interrupted'].includes(j.state)).map((j) => j.id));
  const fresh = data.ended && [...ended].some((id) => !data.ended.has(id));
  data.ended = ended;
  if (!fresh) return;
  data.stale = true;
  if (state.view === 'data') refreshData();
  trainingJobsEnded();
}

// ---- drawing -------------------------------------------------------------------------------------
function drawData() {
  const list = data.list;
  // The workspace's own first, then the added folders', each by path.
  const outside = (item) => Number(item.path.startsWith('/'));
  const items = [...list.items].sort((a, b) => outside(a) - outside(b) || a.path.localeCompare(b.path, undefined, { numeric: true }));
  $('data-count').textContent = items.length ? `(${items.length} item${items.length === 1 ? '' : 's'})` : '';
  $('data-empty').hidden = items.length > 0;
  drawProblems(list.problems || []);
  drawFolders(list.folders || []);

  const byKind = new Map();
  for (const item of items) {
    const known = dataKinds.some((k) => k.kind === item.kind);
    const kind = known ? item.kind : 'other';
    if (!byKind.has(kind)) byKind.set(kind, []);
    byKind.get(kind).push(item);
  }
  const holder = $('data-groups');
  const order = [...dataKinds, { kind: 'other', title: 'Other things', about: 'Folders uniem recognises but has no heading for.' }];
  const seen = new Set();
  let at = 0;
  for (const k of order) {
    const group = groupOf(k);
    const members = byKind.get(k.kind) || [];
    group.section.hidden = members.length === 0;
    group.count.textContent = `(${members.length})`;
    if (holder.children[at] !== group.section) holder.insertBefore(group.section, holder.children[at] || null);
    ++at;
    members.forEach((item, i) => {
      seen.add(item.path);
      const card = cardOf(item);
      if (group.cards.children[i] !== card) group.cards.insertBefore(card, group.cards.children[i] || null);
    });
  }
  for (const [path, c] of data.cards) if (!seen.has(path)) { c.card.remove(); data.cards.delete(path); }
}

function groupOf(k) {
  let g = data.groups.get(k.kind);
  if (g) return g;
  const count = el('span', { class: 'count' });
  const cards = el('div', { class: `cards ${k.kind === 'images' || k.kind === 'labels' ? 'stacks' : 'things'}` });
  const section = el('section', { class: 'data-group', 'data-kind': k.kind },
    el('h3', {}, `${k.title} `, count),
    el('p', { class: 'help', text: k.about }),
    cards);
  g = { section, cards, count };
  data.groups.set(k.kind, g);
  return g;
}

function cardOf(item) {
  const key = JSON.stringify([item, data.trainingPaths.has(item.path), Boolean(jobOfRun(item))]);
  const known = data.cards.get(item.path);
  if (known && known.key === key) return known.card;
  const card = isStack(item) ? stackCard(item) : thingCard(item);
  if (known) known.card.replaceWith(card);
  data.cards.set(item.path, { card, key });
  return card;
}

function stackCard(item) {
  const [nz, ny, nx] = item.shape || [];
  const view = () => openViewer(item);
  const picture = el('button', { type: 'button', class: 'thumb', title: `look through ${item.name}, section by section`, onclick: view },
    item.thumbnail ? el('img', { src: withToken(item.thumbnail), loading: 'lazy', decoding: 'async',
      alt: `a section of ${item.name}`, width: 128, height: 128 }) : el('span', { class: 'muted', text: 'no picture' }));
  return el('article', { class: `card stack ${item.kind}`, 'data-path': item.path, 'data-kind': item.kind },
    picture,
    el('div', { class: 'card-body' },
      el('div', { class: 'card-name', title: item.path, text: item.name }),
      item.path !== item.name ? el('div', { class: 'card-path muted', title: item.path, text: item.path }) : null,
      el('div', { class: 'card-shape', title: `${nz} sections, each ${nx} pixels wide and ${ny} high` },
        `${nz} × ${ny} × ${nx} voxels`, el('span', { class: 'muted', text: ' (z × y × x)' })),
      el('div', { text: typeText(item) }),
      el('div', { class: item.voxel_size && item.voxel_size.known ? '' : 'muted', text: voxelText(item.voxel_size) }),
      el('div', { class: 'muted', text: [`${bytes(item.bytes)} on disk`, formatText(item.format), item.modified ? `changed ${localTime(item.modified)}` : '']
        .filter(Boolean).join(', ') }),
      el('div', { class: 'card-actions' },
        el('button', { type: 'button', class: 'open-viewer', text: 'View', title: 'look through the stack section by section, with zoom and contrast', onclick: view }),
        ...commonActions(item))));
}

function thingCard(item) {
  return el('article', { class: `card thing ${item.kind}`, 'data-path': item.path, 'data-kind': item.kind },
    el('div', { class: 'card-body' },
      el('div', { class: 'card-name', title: item.path, text: item.name }),
      item.path !== item.name ? el('div', { class: 'card-path muted', title: item.path, text: item.path }) : null,
      ...detailLines(item),
      el('div', { class: 'muted', text: [`${bytes(item.bytes)} on disk`, item.modified ? `changed ${localTime(item.modified)}` : '']
        .filter(Boolean).join(', ') }),
      el('div', { class: 'card-actions' }, ...commonActions(item))));
}

function commonActions(item) {
  const out = [];
  if (item.kind === 'project' && item.open) {
    out.push(el('a', { class: 'button primary-link', href: withToken(item.open), target: '_blank', rel: 'noopener', text: 'Proofread',
      title: 'open this project in the proofreader, in a new tab' }));
    out.push(el('a', { class: 'button', href: withToken(`${item.open.replace(/\/?$/, '/')}annotator/`), target: '_blank', rel: 'noopener',
      text: 'View in 3D', title: "this project's segments as surfaces in 3D, with a table of them and markers, in a new tab (linked to its proofreader)" }));
  }
  if (item.kind === 'labels') {
    out.push(el('button', { type: 'button', text: 'Proofread',
      title: 'make a proofreading project of this segmentation over its image stack (a job), then open it in the proofreader',
      onclick: () => proofread(item) }));
  }
  if (item.kind === 'model2d') {
    out.push(el('button', { type: 'button', text: 'Use for inference', title: 'the infer2d form, with this network in it: apply it to new sections',
      onclick: () => formWith('infer2d', { model: item.path }) }));
  }
  if (item.kind === 'ffn_model') {
    out.push(el('button', { type: 'button', text: 'Use for inference', title: 'the ffn segment form, with this network in it: trace neurons with it',
      onclick: () => formWith('ffn segment', { model: item.path }) }));
  }
  if (data.trainingPaths.has(item.path)) {
    out.push(el('button', { type: 'button', text: 'Training curves', title: "this training's loss and scores over its steps",
      onclick: () => goTo(`#training?path=${encodeURIComponent(item.path)}`) }));
  }
  const job = jobOfRun(item);
  if (job) {
    out.push(el('button', { type: 'button', text: `Job ${job.id}`, title: 'this job in the job list: its log, its outputs, its scores',
      onclick: () => { goTo('#run'); select(job.id); } }));
  }
  if (item.kind === 'meshes') {
    out.push(el('a', { class: 'button primary-link', href: withToken(`annotator/?path=${encodeURIComponent(item.path)}`), target: '_blank',
      rel: 'noopener', text: 'View in 3D', title: 'the surfaces in 3D with a table of the objects, in a new tab: put markers on them, save pictures' }));
  }
  if (item.open && item.kind !== 'project') {
    out.push(el('a', { class: 'button', href: withToken(item.open), target: '_blank', rel: 'noopener', text: 'Open', title: 'open it in a new tab' }));
  }
  return out;
}

// A label stack to correct: a proofreading project is made of it over an image stack of the same
// shape (the one in the same folder first) by a job (uniem project), then opened in a new tab.
async function proofread(labels) {
  const same = (data.list.items || []).filter((i) => i.kind === 'images' && JSON.stringify(i.shape) === JSON.stringify(labels.shape));
  const folder = (p) => p.split('/').slice(0, -1).join('/');
  const image = same.find((i) => folder(i.path) === folder(labels.path)) || same[0];
  if (!image) {
    say('data-message', `${labels.name} cannot be proofread here: no image stack in the workspace has its shape (${labels.shape.join(' × ')}).`, 'error');
    return;
  }
  let submitted;
  try {
    submitted = await api('api/jobs', { job: { command: 'project', arguments: { images: image.path, labels: labels.path, project: 'proofreading' } },
      name: `proofreading of ${labels.name}`, user: storedUser() });
  } catch (e) {
    say('data-message', `No proofreading project made: ${e.message}`, 'error');
    return;
  }
  say('data-message', `Making a proofreading project of ${labels.path} over ${image.path} (job ${submitted.id}); a link to it appears here when it is ready.`, 'info');
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    let job;
    try {
      job = await api(`api/jobs/${submitted.id}`);
    } catch (e) {
      continue;  // the server will answer again
    }
    if (job.state === 'queued' || job.state === 'running') continue;
    const m = $('data-message');
    if (job.state !== 'done') {
      say('data-message', `The proofreading project was not made (job ${submitted.id} ${job.state}): ${job.message || 'see its log'}`, 'error');
      return;
    }
    const folderOfJob = fromWorkspace(job.run_folder).replace(/\/$/, '');
    const address = `projects/${`${folderOfJob}/proofreading`.split('/').join('~')}/`;
    m.replaceChildren(`The proofreading project of ${labels.name} is ready: `,
      el('a', { href: withToken(address), target: '_blank', rel: 'noopener', text: 'open it in the proofreader' }),
      ` (it is in ${folderOfJob}/proofreading).`);
    m.className = 'message info';
    refreshData();
    return;
  }
}

function storedUser() {
  try { return localStorage.getItem('uniem-workbench-user') || undefined; } catch { return undefined; }
}

// What can be done with a job's output, when the Data page lists it: View, Proofread, View in 3D...
// The job list may be shown before the Data view ever was, or just after a job wrote the output: then
// the list is read now, and the job's details drawn again with the buttons (refreshData).
function outputActions(path) {
  const at = fromWorkspace(path).replace(/\/$/, '');
  const item = ((data.list && data.list.items) || []).find((i) => i.path === at);
  if (!item) {
    if ((!data.list || data.stale) && !data.loading && Date.now() - data.triedAt > 5000) refreshData();
    return [];
  }
  const view = isStack(item) ? [el('button', { type: 'button', text: 'View', title: 'look through it section by section', onclick: () => openViewer(item) })] : [];
  return [...view, ...commonActions(item).filter((a) => a.textContent !== `Job ${(jobOfRun(item) || {}).id}`)];
}

// The job whose run folder an item is (a finished run), if the queue still has it.
function jobOfRun(item) {
  if (item.kind !== 'run') return null;
  return state.jobs.find((j) => j.run_folder && fromWorkspace(j.run_folder).replace(/\/$/, '') === item.path) || null;
}

const dtypeWords = {
  uint8: '8-bit', uint16: '16-bit', uint32: '32-bit', uint64: '64-bit', int8: '8-bit signed', int16: '16-bit signed',
  int32: '32-bit signed', float32: '32-bit decimal', float64: '64-bit decimal',
};
function typeText(item) {
  const bits = dtypeWords[item.dtype] || item.dtype || 'unknown type';
  if (item.kind === 'labels') return `${bits} object numbers`;
  const channels = item.channels > 1 ? `${item.channels} channels` : 'grey';
  return `${bits} ${channels}`;
}

function voxelText(v) {
  if (!v || !v.known) return 'voxel size unknown';
  return `voxel size ${number(v.z)} × ${number(v.y)} × ${number(v.x)} nm`;
}

const formatWords = {
  png_folder: 'a folder of PNG files', tiff_folder: 'a folder of TIFF files', png: 'a folder of PNG files', tiff: 'a folder of TIFF files',
  multipage_tiff: 'a multi-page TIFF file', bigtiff: 'a BigTIFF file',
};
function formatText(format) {
  return format ? formatWords[format] || String(format).replace(/_/g, ' ') : '';
}

// A network's, project's, mesh folder's or run's details, as lines: what a biologist asks of each
// kind (the rest, a project's chunk sizes say, is left out); other kinds' details as they come.
function detailLines(item) {
  const d = item.details;
  if (!d || typeof d !== 'object') return [];
  const line = (what, text) => (text ? el('div', { class: 'detail' }, el('span', { class: 'muted', text: `${what}: ` }), text) : null);
  const has = (k) => d[k] !== undefined && d[k] !== null;
  if (item.kind === 'model2d' || item.kind === 'ffn_model') {
    return [line('Network', networkWords(d.network)),
      has('steps') ? line('Trained', `${d.steps} step${d.steps === 1 ? '' : 's'}`) : null].filter(Boolean);
  }
  if (item.kind === 'project') {
    return [has('shape') ? line('Shape', `${d.shape.map(number).join(' × ')} voxels (z × y × x)`) : null,
      has('voxel_size') ? line('Voxel size', d.voxel_size_known === false ? 'unknown' : `${d.voxel_size.map(number).join(' × ')} nm`) : null,
      has('image_type') ? line('Images', dtypeWords[d.image_type] || d.image_type) : null].filter(Boolean);
  }
  if (item.kind === 'run') {
    const ended = has('exit_status') ? (d.exit_status === 0 ? 'finished' : `stopped with an error (exit status ${d.exit_status})`)
      : 'did not finish';
    return [has('commands') ? line('Ran', [].concat(d.commands).join(', then ')) : null,
      line('Result', `${ended}${has('seconds') ? ` in ${duration(d.seconds) || 'under a second'}` : ''}`),
      has('ended') ? line('Ended', localTime(d.ended)) : has('started') ? line('Started', localTime(d.started)) : null].filter(Boolean);
  }
  const value = (v) => {
    if (v === null || v === undefined) return '';
    if (Array.isArray(v)) return v.every((x) => typeof x === 'number') ? v.map(number).join(' × ') : v.map(value).join(', ');
    if (typeof v === 'object') return Object.entries(v).map(([k, x]) => `${words(k)} ${value(x)}`).join(', ');
    return typeof v === 'number' ? number(v) : String(v);
  };
  return Object.entries(d).filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => el('div', { class: 'detail' }, el('span', { class: 'muted', text: `${words(k)}: ` }), value(v)));
}

// A network as its trainer describes it: "U-Net, 3 levels, 8 filters; grey sections in, 1 map out".
const familyNames = { unet: 'U-Net', resnet: 'ResNet', highway: 'HighwayNet', densenet: 'DenseNet' };
function networkWords(n) {
  if (!n || typeof n !== 'object') return '';
  if (n.family) {
    const size = { unet: `${n.depth} levels`, densenet: `${n.blocks} dense blocks of ${n.layers} layers`, highway: `${n.blocks} units` }[n.family]
      || `${n.blocks} blocks`;
    return `${familyNames[n.family] || n.family}, ${size}, ${n.filters} filters; ${n.in_channels === 3 ? 'colour' : 'grey'} sections in, ` +
      `${n.out_channels} map${n.out_channels === 1 ? '' : 's'} out`;
  }
  if (n.fov_zyx) {
    return `flood-filling network, depth ${n.depth}, ${n.filters} filters, field of view ${n.fov_zyx.map(number).join(' × ')} voxels (z × y × x)`;
  }
  return Object.entries(n).filter(([, v]) => v !== null && typeof v !== 'object').map(([k, v]) => `${words(k)} ${v}`).join(', ');
}

function words(key) {
  return String(key).replace(/_/g, ' ');
}

function drawProblems(problems) {
  const box = $('data-problems');
  const key = JSON.stringify(problems);
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.hidden = problems.length === 0;
  box.replaceChildren(
    el('p', { text: `${problems.length === 1 ? 'One thing' : `${problems.length} things`} in the workspace could not be read; ` +
      'the rest is listed below. Fix or move the files named, and they are listed within 10 seconds.' }),
    el('ul', {}, ...problems.map((p) => el('li', {}, el('code', { text: p.path }), `: ${p.message}`))));
}

// ---- the folders added ---------------------------------------------------------------------------
function drawFolders(folders) {
  const list = $('folder-list');
  const paths = folders.map((f) => (typeof f === 'string' ? f : f.path));
  const key = JSON.stringify(paths);
  if (list.dataset.key === key) return;
  list.dataset.key = key;
  if (!paths.length) {
    list.replaceChildren(el('li', { class: 'empty', text: 'None: only the workspace is listed.' }));
    return;
  }
  list.replaceChildren(...paths.map((p) => el('li', {},
    el('code', { text: p }),
    el('button', { type: 'button', class: 'small', text: 'Remove', title: 'stop listing this folder (nothing in it is deleted)',
      onclick: () => removeFolder(p) }))));
}

async function addFolder(event) {
  event.preventDefault();
  const input = $('folder-path');
  const path = input.value.trim();
  if (!path) {
    say('folder-message', 'Type or paste the full path of a folder first, for example /data/lab/em-stacks.', 'error');
    input.focus();
    return;
  }
  const button = $('folder-add');
  button.disabled = true;
  say('folder-message', `Adding ${path}...`, 'busy');
  try {
    await api('api/data/folders', { path });
    input.value = '';
    input.classList.remove('bad');
    say('folder-message', `Added ${path}: what it holds is listed with the rest.`, 'info');
    await refreshData();
  } catch (e) {
    input.classList.add('bad');
    say('folder-message', `Not added: ${e.message}`, 'error');
  } finally {
    button.disabled = false;
  }
}

async function removeFolder(path) {
  say('folder-message', `Removing ${path} from the list...`, 'busy');
  try {
    await api('api/data/folders/remove', { path });
    say('folder-message', `${path} is no longer listed; nothing in it was touched.`, 'info');
    await refreshData();
  } catch (e) {
    say('folder-message', `${path} is still listed: ${e.message}`, 'error');
  }
}

function setupData() {
  $('folder-form').addEventListener('submit', addFolder);
  $('folder-path').addEventListener('input', () => $('folder-path').classList.remove('bad'));
}
