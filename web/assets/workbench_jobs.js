// The workbench's jobs (workbench.js has the helpers): their progress, the job list with Cancel
// and Resume, and one job followed live (server-sent events, its log, its run record).

// ---- progress -----------------------------------------------------------------------------------
// The arguments of the command `name` in a job (the job itself, or its pipeline step).
function jobArguments(job, name) {
  const j = job && job.job;
  if (!j) return {};
  if (j.command) return j.command === name || !name ? j.arguments || {} : {};
  const step = (j.pipeline || []).find((s) => s.command === name);
  return (step && step.arguments) || {};
}

function defaultOf(command, argument) {
  const c = state.commands.find((x) => x.command === command);
  const a = c && c.arguments.find((x) => x.name === argument);
  return a && a.default !== undefined ? Number(a.default) : undefined;
}

// Steps per second of a training, from its metrics events (their step and elapsed seconds).
const rates = new Map();  // job -> [{step, elapsed}]
function trainingRate(id, m) {
  let samples = rates.get(id) || [];
  if (typeof m.elapsed_seconds !== 'number') return 0;
  const last = samples[samples.length - 1];
  if (last && (m.elapsed_seconds < last.elapsed || m.step < last.step)) samples = [];  // a new run
  if (!last || m.step !== last.step) samples.push({ step: m.step, elapsed: m.elapsed_seconds });
  samples = samples.slice(-20);
  rates.set(id, samples);
  if (samples.length < 2) return 0;
  const a = samples[0], b = samples[samples.length - 1];
  return b.elapsed > a.elapsed ? (b.step - a.step) / (b.elapsed - a.elapsed) : 0;
}

// What a running job is doing: {phase, done, total, eta} from its latest progress event, or from
// its training's metrics (a step of --steps) once no phase with a progress bar is under way.
function progressOf(job, progress, metrics) {
  if (progress && !progress.end) {
    return { phase: progress.phase, done: progress.done, total: progress.total, eta: progress.eta_seconds };
  }
  if (metrics && typeof metrics.step === 'number') {
    const command = metrics.phase || (job.job && job.job.command);
    const total = Number(jobArguments(job, command).steps ?? defaultOf(command, 'steps'));
    const rate = trainingRate(job.id, metrics);
    const eta = rate > 0 && total ? (total - metrics.step) / rate : undefined;
    return { phase: `training (${command})`, done: metrics.step, total, eta, unit: 'step' };
  }
  if (progress) return { phase: `${progress.phase}: done`, done: progress.total, total: progress.total };
  return null;
}

function progressView(p, big = false) {
  const fraction = p.total > 0 ? Math.max(0, Math.min(1, p.done / p.total)) : 0;
  const count = p.total > 0 ? `${p.unit ? `${p.unit} ` : ''}${p.done} of ${p.total}` : `${p.done}`;
  const eta = Number.isFinite(p.eta) && p.eta > 0 ? `about ${duration(p.eta)} left` : '';
  return el('div', { class: 'progress' },
    el('div', { class: 'phase', text: p.phase }),
    el('div', { class: `bar${big ? ' big' : ''}`, title: `${Math.round(fraction * 100)}%` },
      el('div', { style: `width: ${(fraction * 100).toFixed(1)}%` })),
    el('div', { class: 'muted', text: [count, eta].filter(Boolean).join(', ') }));
}

// ---- the job list -------------------------------------------------------------------------------
// Who started a job: "you" in the browser that did, else the name given with it.
function startedBy(job) {
  if (job.mine) return 'you';
  return job.user || '';
}

// Why a job shows no Cancel: only the browser that started it may stop it.
function cancelNote(job) {
  const who = !job.user || job.user === 'someone in a browser' ? 'the browser that started it' : job.user;
  return `only ${who} can cancel it`;
}

let listing = null, listAgain = false;
async function refreshJobs() {
  if (listing) { listAgain = true; return listing; }
  listing = (async () => {
    try {
      const r = await api('api/jobs');
      if (state.lost) say('jobs-message', 'The server answers again.', 'info');
      state.lost = false;
      setConnected(true);
      state.workspace = r.workspace;
      $('workspace').textContent = r.workspace;
      state.jobs = r.jobs;
      drawJobs();
      jobsListed();  // the Data view reads the workspace again when a job has ended
    } catch (e) {
      if (!state.lost) say('jobs-message', `The job list could not be read: ${e.message}`, 'error');
      state.lost = true;
      setConnected(false, e.message);
    }
  })();
  await listing;
  listing = null;
  if (listAgain) { listAgain = false; await refreshJobs(); }
}

let soonTimer = 0;
function refreshSoon() {
  clearTimeout(soonTimer);
  soonTimer = setTimeout(refreshJobs, 150);
}

const rows = new Map();  // job id -> {tr, keys}
function drawJobs() {
  const tbody = $('jobs').tBodies[0];
  const running = state.jobs.find((j) => j.state === 'running');
  $('jobs-count').textContent = state.jobs.length ? `(${state.jobs.length})` : '';
  $('no-jobs').hidden = state.jobs.length > 0;
  const seen = new Set();
  state.jobs.forEach((job, index) => {
    seen.add(job.id);
    let row = rows.get(job.id);
    if (!row) {
      const tr = el('tr', { 'data-id': job.id });
      for (let i = 0; i < 5; ++i) tr.append(el('td'));
      tr.addEventListener('click', (e) => { if (!e.target.closest('button')) select(job.id); });
      row = { tr, keys: [] };
      rows.set(job.id, row);
    }
    const command = job.job && (job.job.command || 'pipeline');
    const live = job.id === state.selected && state.detail && (state.detail.progress || state.detail.metrics) ? state.detail : null;
    const p = job.state !== 'running' ? null
      : live ? progressOf(job, live.progress, live.lastTraining || live.metrics) : progressOf(job, job.progress, job.metrics);
    const cells = [
      [`${job.id}|${job.name}|${command}|${startedBy(job)}`, () => [el('b', { text: `#${job.id} ` }), el('span', { class: 'name', text: job.name }),
        job.name !== command ? el('div', { class: 'muted', text: command }) : null,
        startedBy(job) ? el('div', { class: 'muted started-by', text: `started by ${startedBy(job)}` }) : null]],
      [`${job.state}|${job.message}`, () => [badge(job.state),
        job.message ? el('div', { class: `job-message${job.state === 'failed' ? ' error-text' : ''}`, text: job.message }) : null]],
      [JSON.stringify([p, job.state, running && running.id]), () => {
        if (p) return [progressView(p)];
        if (job.state === 'queued') return [el('span', { class: 'muted', text: running ? `waits for job ${running.id}` : 'starting...' })];
        return [el('span', { class: 'muted', text: '-' })];
      }],
      [`${job.submitted}|${job.started}|${job.ended}`, () => [
        el('div', { title: job.submitted, text: `submitted ${localTime(job.submitted)}` }),
        job.started ? el('div', { title: job.started, text: `started ${localTime(job.started)}` }) : null,
        job.ended ? el('div', { title: job.ended, text: `ended ${localTime(job.ended)}` }) : null]],
      [`${job.state}|${job.may_cancel}|${job.user}`, () => [
        (job.state === 'queued' || job.state === 'running') && job.may_cancel !== false
          ? el('button', { type: 'button', class: 'cancel', text: 'Cancel', title: job.state === 'running'
            ? 'stop it now (a training keeps its checkpoint; Resume goes on from there)' : 'take it out of the queue',
          onclick: () => cancel(job.id) }) : null,
        ['cancelled', 'failed', 'interrupted'].includes(job.state)
          ? el('button', { type: 'button', class: 'resume', text: 'Resume', title: 'queue it again: it goes on where it stopped',
            onclick: () => resume(job.id) }) : null,
        el('button', { type: 'button', class: 'details', text: 'Details', title: 'follow this job below', onclick: () => select(job.id) }),
        (job.state === 'queued' || job.state === 'running') && job.may_cancel === false
          ? el('div', { class: 'muted cancel-note', text: cancelNote(job),
            title: 'a job can be cancelled only from the browser that started it (or by stopping the workbench)' }) : null]],
    ];
    row.tr.dataset.state = job.state;
    cells.forEach(([key, make], i) => {
      if (row.keys[i] === key) return;
      row.keys[i] = key;
      row.tr.cells[i].replaceChildren(...make().filter(Boolean));
    });
    row.tr.classList.toggle('selected', job.id === state.selected);
    if (tbody.children[index] !== row.tr) tbody.insertBefore(row.tr, tbody.children[index] || null);
  });
  for (const [id, row] of rows) if (!seen.has(id)) { row.tr.remove(); rows.delete(id); }
  drawDemoBanner();
  if (state.detail) {
    const job = state.jobs.find((j) => j.id === state.selected);
    if (job) { state.detail.listed = job; drawDetails(); }
  }
}

// Where to look next, on the page `uniem demo` opens: while the workspace holds only the demo's
// jobs, all ended. Hide keeps it hidden for this workspace in this browser.
function drawDemoBanner() {
  const demo = state.jobs.length > 0 && state.jobs.every((j) => j.user === 'uniem demo')
    && !state.jobs.some((j) => j.state === 'running' || j.state === 'queued');
  let hidden = false;
  try { hidden = localStorage.getItem('uniem-workbench-demo-note-hidden') === state.workspace; } catch { /* private mode */ }
  $('demo-banner').hidden = !demo || hidden;
}

function hideDemoBanner() {
  try { localStorage.setItem('uniem-workbench-demo-note-hidden', state.workspace); } catch { /* private mode */ }
  $('demo-banner').hidden = true;
}

async function cancel(id) {
  say('jobs-message', `Cancelling job ${id}...`, 'busy');
  try {
    const r = await api('api/jobs/cancel', { id });
    say('jobs-message', r.state === 'cancelling' ? `Job ${id} is being stopped; it shows "cancelled" in a moment.`
      : `Job ${id} cancelled before it started.`, 'info');
  } catch (e) {
    say('jobs-message', `Job ${id} not cancelled: ${e.message}`, 'error');
  }
  refreshSoon();
}

async function resume(id) {
  say('jobs-message', `Resuming job ${id}...`, 'busy');
  try {
    await api('api/jobs/resume', { id });
    say('jobs-message', `Job ${id} queued again: it goes on where it stopped.`, 'info');
    if (state.selected !== id) select(id);
  } catch (e) {
    say('jobs-message', `Job ${id} not resumed: ${e.message}`, 'error');
  }
  refreshSoon();
}

// ---- one job, followed live ---------------------------------------------------------------------
function select(id) {
  if (state.selected === id && state.source) return;
  if (state.source) state.source.close();
  state.source = null;
  state.selected = id;
  state.detail = { id, job: null, listed: state.jobs.find((j) => j.id === id) || null, state: '', message: '',
    progress: null, metrics: null, lastTraining: null, history: new Map(), next: 0, log: '', logAt: 0, logTimer: 0, live: '' };
  for (const [rid, row] of rows) row.tr.classList.toggle('selected', rid === id);
  $('details-empty').hidden = true;
  $('details').hidden = false;
  $('details-log').textContent = '';
  listen(id, 0);
  loadJob(id);
  loadLog(id);
  drawDetails();
}

function listen(id, since) {
  const source = new EventSource(url(`api/jobs/${id}/events`, { since }));
  state.source = source;
  source.onopen = () => { if (state.source === source) { state.detail.live = 'live'; drawLive(); } };
  source.onmessage = (m) => {
    if (state.source !== source) return;
    const d = JSON.parse(m.data);
    const detail = state.detail;
    detail.next = d.next;
    let ended = false;
    for (const e of d.events) {
      if (e.event === 'state') {
        if (e.state !== 'running' || detail.state !== 'running') refreshSoon();
        detail.state = e.state;
        if (e.message !== undefined) detail.message = e.message;
        else if (e.state === 'queued' || e.state === 'running') detail.message = '';
        ended = ['done', 'failed', 'cancelled', 'interrupted'].includes(e.state);
        if (e.state === 'queued') detail.progress = null;
      } else if (e.event === 'progress') {
        detail.progress = e;
      } else if (e.event === 'metrics') {
        detail.metrics = { ...(detail.metrics || {}), ...e };
        if (typeof e.step === 'number') {
          const h = detail.history.get(e.step) || { step: e.step };
          if (typeof e.loss === 'number') h.loss = e.loss;
          if (e.validation) Object.assign(h, e.validation);
          detail.history.set(e.step, h);
          if (typeof e.loss === 'number') detail.lastTraining = e;
        }
      }
    }
    if (ended) { loadJob(id); loadLog(id); }  // its last lines at once
    else scheduleLog(id);
    drawJobs();  // the job's row follows its events too; it draws the details
  };
  source.onerror = () => {
    if (state.source !== source) return;
    source.close();
    state.detail.live = 'live updates interrupted; trying again...';
    drawLive();
    // Again from the start: a server started again numbers its events anew.
    setTimeout(() => {
      if (state.selected !== id || state.source !== source) return;
      Object.assign(state.detail, { state: '', progress: null, metrics: null, lastTraining: null, history: new Map() });
      listen(id, 0);
    }, 2000);
  };
}

async function loadJob(id) {
  try {
    const j = await api(`api/jobs/${id}`);
    if (state.selected !== id) return;
    state.detail.job = j;
    state.detail.listed = j;
    drawDetails();
  } catch (e) {
    if (state.selected === id) say('jobs-message', `Job ${id}: ${e.message}`, 'error');
  }
}

// The log: on each batch of events, at most once a second.
function scheduleLog(id) {
  const d = state.detail;
  if (d.logTimer) return;
  const wait = Math.max(0, 1000 - (Date.now() - d.logAt));
  d.logTimer = setTimeout(() => { d.logTimer = 0; if (state.selected === id) loadLog(id); }, wait);
}

async function loadLog(id) {
  const d = state.detail;
  d.logAt = Date.now();
  try {
    const r = await api(`api/jobs/${id}/log`, undefined, { lines: 200 });
    if (state.selected !== id) return;
    const pre = $('details-log');
    const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 20;
    pre.textContent = r.log || '(nothing yet: the job has not started)';
    pre.classList.remove('error-text');
    if (atEnd) pre.scrollTop = pre.scrollHeight;
  } catch (e) {
    if (state.selected === id) { $('details-log').textContent = `The log could not be read: ${e.message}`; $('details-log').classList.add('error-text'); }
  }
}

const metricNames = {
  loss: 'loss', jaccard: 'Jaccard', dice: 'Dice', v_rand: 'V_rand', v_rand_thinned: 'V_rand, thinned',
  precision: 'precision', recall: 'recall', f1: 'F1', learning_rate: 'learning rate', images_per_second: 'images per second',
  voxels_per_second: 'voxels per second', elapsed_seconds: 'seconds of training', step: 'step', pixels: 'pixels scored',
  examples: 'examples seen', voxels: 'voxels scored',
  // uniem eval
  mean_jaccard: 'Jaccard (mean over the classes)', mean_dice: 'Dice (mean over the classes)', mode: 'scored as',
  binary: 'two masks compared', true_positives: 'true positives', false_positives: 'false positives',
  false_negatives: 'false negatives', v_rand_split: 'V_rand, split part', v_rand_merge: 'V_rand, merge part', v_info: 'V_info',
  v_info_split: 'V_info, split part', v_info_merge: 'V_info, merge part', vi_bits: 'variation of information (bits)',
  vi_split_bits: 'VI, split part (bits)', vi_merge_bits: 'VI, merge part (bits)', adapted_rand_error: 'adapted Rand error',
  adapted_rand_precision: 'adapted Rand precision', adapted_rand_recall: 'adapted Rand recall',
  snemi3d_adapted_rand_error: 'adapted Rand error (SNEMI3D)', segments: 'segments', ground_truth_objects: 'objects in the ground truth',
  voxels_scored: 'voxels scored', objects: 'objects', triangles: 'triangles in the meshes', vertices: 'vertices in the meshes',
};
const metricOrder = ['step', 'loss', 'mean_jaccard', 'mean_dice', 'jaccard', 'dice', 'v_rand', 'v_rand_split', 'v_rand_merge',
  'v_rand_thinned', 'vi_bits', 'vi_split_bits', 'vi_merge_bits', 'v_info', 'v_info_split', 'v_info_merge', 'adapted_rand_error',
  'adapted_rand_precision', 'adapted_rand_recall', 'snemi3d_adapted_rand_error', 'precision', 'recall', 'f1', 'true_positives',
  'false_positives', 'false_negatives', 'segments', 'ground_truth_objects', 'objects', 'voxels_scored', 'pixels', 'voxels'];

// The scores a biologist looks at first, each with what its value means; the rest of a record's
// metrics are folded away (drawFinal). Only the job's own and its validation's: a class's are in the rest.
const headlineScores = {
  v_rand: { meaning: 'how well the objects match the ground truth; 1 is perfect' },
  vi_bits: { name: 'variation of information', unit: ' bits', meaning: 'how much the objects differ from the ground truth; 0 is perfect' },
  mean_jaccard: { name: 'Jaccard', meaning: 'overlap with the ground truth, mean over the classes; 1 is perfect' },
  jaccard: { meaning: 'overlap with the ground truth; 1 is perfect' },
  f1: { meaning: 'objects traced right, missed or wrong, in one number; 1 is perfect' },
  loss: { meaning: 'how wrong the network still is on its training examples; lower is better' },
};

// Sums of many small numbers leave noise like -4e-16 where the answer is 0.
function metricValue(v) {
  if (typeof v === 'number' && Math.abs(v) < 1e-9) return '0';
  return Array.isArray(v) ? v.map(metricValue).join(', ') : typeof v === 'boolean' ? (v ? 'yes' : 'no') : number(v);
}

// Every metric of a record or event, in metricOrder, nested ones named after their group:
// [{key, prefix, name, value}].
function metricList(metrics) {
  const out = [];
  const walk = (o, prefix) => {
    const keys = Object.keys(o).filter((k) => k !== 'event' && k !== 'phase' && k !== 'time');  // time: when it was said
    keys.sort((a, b) => (metricOrder.indexOf(a) + 1 || 99) - (metricOrder.indexOf(b) + 1 || 99));
    for (const k of keys) {
      const v = o[k];
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v, prefix ? `${prefix} ${k}` : k);
      else if (Array.isArray(v) && v.length && v.every((x) => x && typeof x === 'object')) {
        // a table, as eval's classes: each row under its name
        v.forEach((row, i) => {
          const { class: name, ...rest } = row;
          walk(rest, `${name !== undefined ? name : `${k} ${i + 1}`}`);
        });
      } else out.push({ key: k, prefix, name: prefix ? `${metricNames[k] || k} (${prefix})` : metricNames[k] || k, value: metricValue(v), raw: v });
    }
  };
  walk(metrics, '');
  return out;
}

const metricRow = (m) => el('tr', {}, el('th', { text: m.name }), el('td', { text: m.value }));

function metricRows(metrics) {
  return metricList(metrics).map(metricRow);
}

// A record's scores: the headline ones with what they mean, "All scores" folded below. The value
// stays alone in its cell (the browser tests read it); the meaning goes under the name.
function drawFinal(metrics) {
  const all = metricList(metrics);
  const order = Object.keys(headlineScores);
  const headline = all.filter((m) => headlineScores[m.key] && (m.prefix === '' || m.prefix === 'validation') && typeof m.raw === 'number')
    .sort((a, b) => order.indexOf(a.key) - order.indexOf(b.key));
  const rest = all.filter((m) => !headline.includes(m));
  const more = $('details-final-more');
  if (!headline.length) {  // no score to put first (a mesh job's counts, say): all of them, unfolded
    $('details-final').replaceChildren(...all.map(metricRow));
    more.hidden = true;
    return;
  }
  $('details-final').replaceChildren(...headline.map((m) => {
    const h = headlineScores[m.key];
    const name = h.name ? m.name.replace(metricNames[m.key] || m.key, h.name) : m.name;
    return el('tr', {}, el('th', {}, name, el('div', { class: 'meaning', text: h.meaning })),
      el('td', { text: `${m.value}${h.unit || ''}` }));
  }));
  more.hidden = rest.length === 0;
  $('details-final-more-title').textContent = `All scores (${rest.length} more)`;
  $('details-final-all').replaceChildren(...rest.map(metricRow));
}

function drawLive() {
  const d = state.detail;
  const live = $('details-live');
  const s = d.state || (d.listed && d.listed.state);
  const following = s === 'running' || s === 'queued';
  live.textContent = d.live === 'live' ? (following ? 'live: updates as it runs' : '') : d.live;
  live.className = `live ${d.live === 'live' ? 'up' : 'down'}`;
}

function drawDetails() {
  const d = state.detail;
  if (!d) return;
  const job = d.job || d.listed;
  // The job's own events are the newest word on its state; without any (a server started again
  // keeps none), the list's.
  const shown = d.state || (job && job.state) || '';
  const command = job && job.job ? job.job.command || 'pipeline' : '';
  $('details-title').textContent = job ? `Job ${d.id}: ${job.name}${job.name !== command ? ` (${command})` : ''}` : `Job ${d.id}`;
  const b = $('details-state');
  b.textContent = shown;
  b.className = `badge ${shown}`;
  const message = d.message || (job && job.message) || '';
  $('details-message').textContent = shown === 'queued' ? 'waits for its turn in the queue' : shown === 'running' && !message ? 'running now' : message;
  $('details-message').className = `details-message${shown === 'failed' ? ' error-text' : ''}`;
  const by = job ? startedBy(job) : '';
  $('details-user').textContent = by ? `started by ${by}` : '';
  $('details-user').title = job && !job.may_cancel && ['queued', 'running'].includes(shown) ? `${cancelNote(job)}, from the job list` : '';
  $('details-copy').hidden = !(job && job.job && job.job.command);
  const curves = shown !== 'queued' ? trainingFolderOf(job) : '';
  $('details-training').hidden = !curves;
  if (curves) {
    $('details-training').href = `#training?path=${encodeURIComponent(curves)}`;
    $('details-training').title = `the loss and scores of ${curves}, step by step, in the Training monitor`;
  }
  drawLive();

  // Progress, while it runs.
  const p = shown === 'running' && job ? progressOf(job, d.progress, d.lastTraining || d.metrics) : null;
  $('details-progress').hidden = !p;
  if (p) {
    $('details-phase').textContent = p.phase;
    $('details-count').textContent = p.total > 0 ? `${p.unit ? `${p.unit} ` : ''}${p.done} of ${p.total}` : '';
    $('details-eta').textContent = Number.isFinite(p.eta) && p.eta > 0 ? `, about ${duration(p.eta)} left` : '';
    $('details-bar').style.width = `${p.total > 0 ? Math.min(100, (100 * p.done) / p.total).toFixed(1) : 0}%`;
  }

  // The latest metrics, and a training's last values.
  const record = d.job && d.job.record;
  const final = record && record.metrics && Object.keys(record.metrics).length ? record.metrics : null;
  $('details-metrics-block').hidden = !d.metrics;
  if (d.metrics) {
    const latest = !(final && shown !== 'running');  // the record's scores say the same, once
    $('details-metrics-title').hidden = !latest;
    $('details-metrics').hidden = !latest;
    $('details-metrics-title').textContent = shown === 'running' ? 'Latest scores' : 'Last scores reported';
    if (latest) $('details-metrics').replaceChildren(...metricRows(d.metrics));
    const history = [...d.history.values()].sort((x, y) => x.step - y.step);
    $('details-history-block').hidden = history.length < 2;
    if (history.length >= 2) {
      drawCurve(history);
      const last = history.slice(-8).reverse();
      const cols = ['step', 'loss', 'jaccard', 'dice'].filter((c) => history.some((h) => h[c] !== undefined));
      $('details-history').replaceChildren(
        el('tr', {}, ...cols.map((c) => el('th', { text: metricNames[c] || c }))),
        ...last.map((h) => el('tr', {}, ...cols.map((c) => el('td', { text: h[c] === undefined ? '' : number(h[c]) })))));
    }
  }

  // The record, once there is one.
  $('details-record').hidden = !record;
  if (record) {
    const outputs = [];
    const errors = [];
    for (const step of record.steps || []) {
      for (const o of step.outputs || []) {
        const size = o.kind === 'folder' ? `folder, ${o.files} files, ${bytes(o.bytes)}` : bytes(o.bytes);
        outputs.push(el('li', {}, el('code', { text: fromWorkspace(o.path) }), el('span', { class: 'muted', text: ` ${o.field}; ${size}` }),
          el('span', { class: 'output-actions' }, ...outputActions(o.path))));
      }
      if (step.error && !(message && (message.includes(step.error) || step.error.includes(message)))) errors.push(`${step.command}: ${step.error}`);
    }
    if (!outputs.length) {
      outputs.push(el('li', { class: 'muted',
        text: record.exit_status === 0 ? 'none (this command writes no files)' : 'none: the job did not finish' }));
    }
    $('details-outputs').replaceChildren(...outputs);
    $('details-final-block').hidden = !final;
    $('details-final-title').textContent = record.exit_status === 0 ? 'Final scores' : 'Scores when it stopped';
    if (final) drawFinal(final);
    $('details-errors').textContent = errors.join('\n');
    $('details-errors').className = shown === 'failed' ? 'error-text' : 'muted';  // a cancelled job's last words are no error
  }

  // What ran: the command lines of the record, or the job as submitted.
  $('details-folder').textContent = job && job.run_folder ? `Run folder: ${fromWorkspace(job.run_folder)}/` : 'No run folder yet: the job has not started.';
  const lines = record ? (record.steps || []).map((s) => s.command_line)
    : job && job.job ? [jobText(job.job)] : [];
  $('details-command-title').textContent = record ? 'What ran' : 'The job as submitted';
  $('details-command').textContent = lines.join('\n');
}

// The model folder a training job (train2d, ffn train) writes, as the Training monitor names it
// (from the workspace): from its record once there is one, else its --model in its run folder.
function trainingFolderOf(job) {
  const j = job && job.job;
  if (!j) return '';
  const step = (j.command ? [j] : j.pipeline || []).find((s) => s.command === 'train2d' || s.command === 'ffn train');
  if (!step) return '';
  for (const s of (job.record && job.record.steps) || []) {
    if (s.command !== step.command) continue;
    const out = (s.outputs || []).find((o) => o.field === 'model');
    if (out) return fromWorkspace(out.path);
  }
  const model = step.arguments && step.arguments.model;
  if (!model || !job.run_folder) return '';
  return fromWorkspace(model.startsWith('/') ? model : `${job.run_folder.replace(/\/$/, '')}/${model}`);
}

// The form filled with a job's settings, to change them and run it again as a new job.
function copyToForm(job) {
  const j = job.job || {};
  if (!j.command) {
    say('jobs-message', `Job ${job.id} is a pipeline of several commands; the form holds one command.`, 'error');
    return;
  }
  if (!state.commands.some((c) => c.command === j.command)) {
    say('jobs-message', `Job ${job.id} ran ${commandTitle(j.command)}, which this workbench no longer has (is its file gone from tools/?).`, 'error');
    return;
  }
  const { ignored } = fillForm({ ...j, name: job.name });
  $('run-panel').scrollTop = 0;
  say('run-message', `The form holds the settings of job ${job.id}${ignored.length ? `, except ${ignored.join('; ')}` : ''}: ` +
    'change what you need and press Run (it runs as a new job).', 'info');
}

// A job as its command line, paths as written (from the workspace); a tool's as its program.
function jobText(j) {
  const quote = shellWord;
  const one = (s) => {
    const c = state.commands.find((x) => x.command === s.command);
    const positional = new Set(c ? c.arguments.filter((a) => a.kind === 'positional').map((a) => a.name) : []);
    const words = [...positional].filter((name) => name in (s.arguments || {})).map((name) => quote(String(s.arguments[name])));
    for (const [k, v] of Object.entries(s.arguments || {})) {
      if (positional.has(k)) continue;
      if (k === 'steps' && Array.isArray(v)) {
        for (const step of v) for (const [n, x] of Object.entries(step)) words.push(x === true ? `--${n}` : `--${n}=${quote(String(x))}`);
      } else words.push(v === true ? `--${k}` : `--${k}=${quote(Array.isArray(v) ? v.join(',') : String(v))}`);
    }
    const head = c && c.tool ? (c.program || [s.command]).map(shellWord).join(' ') : `uniem ${s.command}`;
    return `${head} ${words.join(' ')}`;
  };
  return j.command ? one(j) : (j.pipeline || []).map(one).join('\n');
}

function drawCurve(history) {
  const svg = $('details-curve');
  const points = history.filter((h) => typeof h.loss === 'number');
  if (points.length < 2) { svg.replaceChildren(); return; }
  const w = 280, h = 60, pad = 4;
  const x0 = points[0].step, x1 = points[points.length - 1].step;
  const ys = points.map((p) => p.loss), lo = Math.min(...ys), hi = Math.max(...ys);
  const px = (s) => pad + ((s - x0) / Math.max(1, x1 - x0)) * (w - 2 * pad);
  const py = (v) => h - pad - ((v - lo) / Math.max(1e-12, hi - lo)) * (h - 2 * pad);
  const ns = 'http://www.w3.org/2000/svg';
  const line = document.createElementNS(ns, 'polyline');
  line.setAttribute('points', points.map((p) => `${px(p.step).toFixed(1)},${py(p.loss).toFixed(1)}`).join(' '));
  line.setAttribute('class', 'curve');
  const title = document.createElementNS(ns, 'title');
  title.textContent = `loss from ${number(points[0].loss)} (step ${x0}) to ${number(points[points.length - 1].loss)} (step ${x1})`;
  const label = document.createElementNS(ns, 'text');
  label.setAttribute('x', w - pad);
  label.setAttribute('y', 12);
  label.setAttribute('text-anchor', 'end');
  label.textContent = `loss, steps ${x0} to ${x1}`;
  svg.replaceChildren(title, line, label);
}
