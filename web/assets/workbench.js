// The uniem workbench page, three views switched by tabs and the address's #: Data (#data, the
// home: what the workspace holds, workbench_data.js, and its stack viewer, workbench_viewer.js),
// Run a command (#run: every command as a form built from its option schema, GET /api/commands,
// workbench_form.js; the job queue, GET /api/jobs every 2 s and on events, and one job followed
// live, workbench_jobs.js) and the Training monitor (#training, workbench_training.js). The server
// checks every job as the command line would; its answer, refusals included, is shown as it gives
// it. This file holds the helpers, the views and the start (the other files are loaded first).
'use strict';

const $ = (id) => document.getElementById(id);

const state = {
  ready: false,            // the commands and the first job list are shown
  connected: false,
  workspace: '',
  commands: [],            // uniem describe of every command a job can run
  command: null,           // the one whose form is shown
  fields: [],              // {arg, element} of the form
  steps: [],               // the filter steps added: {name, value}
  jobs: [],                // the latest GET /api/jobs
  selected: 0,             // the job followed in the details
  source: null,            // its EventSource
  detail: null,            // what its events said: see select()
  view: '',                // the view shown: data, run or training
};
window.workbench = state;  // for people who script the page, and for the browser tests

// ---- the server (url() and api() are in server.js) ---------------------------------------------
function setConnected(ok, text) {
  state.connected = ok;
  const c = $('connection');
  c.textContent = ok ? 'connected' : text;
  c.className = `connection ${ok ? 'up' : 'down'}`;
  c.title = ok ? 'the page talks to the workbench server' : text;
}

// ---- small helpers ------------------------------------------------------------------------------
function say(target, text, kind = 'info') {
  const m = $(target);
  m.textContent = text;
  m.className = `message ${kind}`;
  clearTimeout(m.timer);
  if (kind === 'info' && target === 'jobs-message') m.timer = setTimeout(() => { m.textContent = ''; }, 8000);
}

function duration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  seconds = Math.round(seconds);
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

function localTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : d.toLocaleString([], { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

function number(v) {
  if (typeof v !== 'number') return String(v);
  if (Number.isInteger(v)) return String(v);
  if (v !== 0 && Math.abs(v) < 1e-3) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

function bytes(n) {
  if (!Number.isFinite(n)) return '';
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

// A path shown from the workspace when it lies in it.
function fromWorkspace(path) {
  const w = state.workspace.replace(/\/$/, '');
  return w && path.startsWith(`${w}/`) ? path.slice(w.length + 1) : path;
}

// uniem's hard-wrapped help text as elements: the lines of prose joined into paragraphs, the
// indented ones (a table of outputs, a list of options) kept as they are, in a block of their own.
function helpText(text) {
  const out = [];
  let prose = [], table = [];
  const flush = () => {
    if (prose.length) out.push(el('p', { text: prose.join(' ') }));
    if (table.length) {
      const indent = Math.min(...table.map((l) => l.match(/^ */)[0].length));
      out.push(el('pre', { class: 'table', text: table.map((l) => l.slice(indent)).join('\n') }));
    }
    prose = [];
    table = [];
  };
  for (const line of (text || '').split('\n')) {
    if (!line.trim()) flush();
    else if (/^\s/.test(line)) { if (prose.length) flush(); table.push(line); }
    else { if (table.length) flush(); prose.push(line.trim()); }
  }
  flush();
  return out;
}

const stateWords = {
  queued: 'waits for its turn', running: 'running now', done: 'finished', failed: 'stopped with an error',
  cancelled: 'cancelled', interrupted: 'stopped when the server stopped',
};
function badge(s) {
  return el('span', { class: `badge ${s}`, text: s, title: stateWords[s] || s });
}

// The proofreading projects in the workspace, each a link to its proofreader.
async function loadProjects() {
  try {
    const { projects } = await api('api/projects');
    const line = $('projects');
    line.hidden = projects.length === 0;
    line.replaceChildren('Proofread in the browser: ', ...projects.flatMap((p, i) => [
      i ? ', ' : '',
      el('a', { href: p.url, target: '_blank', text: p.name,
                title: `open the proofreading project ${p.name}${p.shape ? ` (${p.shape.join(' x ')} voxels)` : ''} in a new tab` }),
    ]));
  } catch (e) {
    // the job list says when the server does not answer
  }
}

// ---- the views -----------------------------------------------------------------------------------
// The address's # says the view: #data, #run (or #run/COMMAND, the form of that command; a bare
// #COMMAND, as older links have it, too) and #training (or #training?path=P, with that run ticked).
const views = ['data', 'run', 'training'];
const viewHints = {
  data: 'Your image stacks, segmentations, networks and projects. Press View on a stack to look through it.',
  run: 'Choose a command, fill in its form and press Run. Paths are relative to the workspace.',
  training: 'How a network learns: its loss and scores at each step, drawn while it trains.',
};

function route() {
  const hash = decodeURIComponent(location.hash.slice(1));
  const [head, query = ''] = hash.split('?');
  const [first, ...rest] = head.split('/');
  const params = new URLSearchParams(query);
  if (views.includes(first)) return { view: first, command: rest.join('/'), path: params.get('path') || '' };
  return head ? { view: 'run', command: head, path: '' } : { view: 'data', command: '', path: '' };
}

function showView(view) {
  if (state.view === view) return;
  if (state.view === 'run') state.runScroll = $('run-panel').scrollTop;
  state.view = view;
  for (const v of views) {
    $(`view-${v}`).hidden = v !== view;
    const tab = $(`tab-${v}`);
    tab.classList.toggle('current', v === view);
    if (v === view) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  $('hint').textContent = viewHints[view];
  // #run is also the Run button's id: the browser scrolls the form to it; the form stays where it was.
  if (view === 'run') {
    const keep = () => { $('run-panel').scrollTop = state.runScroll || 0; };
    keep();
    requestAnimationFrame(keep);
  }
  if (view === 'run' && state.commands.length) loadCommands().catch(() => {});  // a tool added meanwhile
  if (view === 'data') dataShown();
  if (view === 'training') trainingShown();
  else trainingHidden();
}

function followRoute() {
  const r = route();
  showView(r.view);
  if (r.view === 'run' && r.command && state.commands.some((c) => c.command === r.command)
      && (!state.command || state.command.command !== r.command)) {
    $('command').value = r.command;
    showCommand(r.command);
  }
  if (r.view === 'training' && r.path) chooseTrainingRun(r.path);
}

// Another view, from a button: the address says it too (Back returns), without a second redraw.
function goTo(hash) {
  if (location.hash !== hash) history.pushState(null, '', hash);
  followRoute();
}

// The form of `command`, with some of its fields filled: {argument: value}.
function formWith(command, values) {
  goTo('#run');
  if (!state.commands.some((c) => c.command === command)) {
    say('run-message', `This workbench has no ${command} command.`, 'error');
    return;
  }
  $('command').value = command;
  showCommand(command);
  const filled = [];
  for (const [name, value] of Object.entries(values)) {
    const f = state.fields.find((x) => x.arg.name === name);
    if (!f) continue;
    f.element.value = value;
    filled.push(`${value} (${name})`);
    if (filled.length === 1) f.box.scrollIntoView({ block: 'center' });
  }
  formChanged({ check: false });  // the other required fields are still empty: no check before an edit
  say('run-message', `The ${command} form now holds ${filled.join(', ')}. Fill in the other fields marked required and press Run.`, 'info');
}

// ---- start --------------------------------------------------------------------------------------
async function start() {
  Object.assign(state, { data, viewer, training });  // what the other views hold, for scripts and tests
  setupData();
  setupViewer();
  setupTraining();
  for (const tab of document.querySelectorAll('#tabs a')) {
    tab.addEventListener('click', (e) => {
      if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;  // a new tab or window: the browser's
      e.preventDefault();
      goTo(tab.getAttribute('href'));
    });
  }
  window.addEventListener('hashchange', followRoute);
  window.addEventListener('popstate', followRoute);
  followRoute();
  $('command').addEventListener('change', (e) => showCommand(e.target.value));
  setupForm();
  $('demo-banner-close').addEventListener('click', hideDemoBanner);
  $('details-copy').addEventListener('click', () => {
    const job = state.detail && (state.detail.job || state.detail.listed);
    if (job) copyToForm(job);
  });
  try {
    await loadCommands();
  } catch (e) {
    say('run-message', `The commands could not be read: ${e.message}. Reload the page (F5) when the server runs.`, 'error');
    setConnected(false, e.message);
  }
  await refreshJobs();
  drawToolProblems();  // with paths from the workspace, now that it is known
  loadProjects();
  setInterval(loadProjects, 10000);
  setInterval(() => { if (state.view === 'run') loadCommands().catch(() => {}); }, 10000);
  // Opened later, the page follows the job that runs, or else the newest one.
  const first = state.jobs.find((j) => j.state === 'running') || state.jobs[0];
  if (first && !state.selected) select(first.id);
  setInterval(refreshJobs, 2000);
  followRoute();  // #run/COMMAND, now that the commands are known
  state.ready = state.commands.length > 0;
}

start();
