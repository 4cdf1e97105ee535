// The workbench's Training monitor (workbench.js has the helpers): every training run of the
// workspace (GET api/training: folders with a training-log.jsonl, whoever started them), the ones
// ticked drawn over each other, one colour per run, with uPlot: the loss (as logged, thin, and its
// moving average, thick, as TensorBoard smooths it), the scores (validation; an FFN's precision,
// recall and F1 on its training examples), the learning rate and the speed. While the view is
// shown, the log of each ticked run is read every second from where the last read stopped (GET
// api/training/log?since=), so a new line is drawn within about a second; the list every 5 s.
// Below the curves, the trainer's sample pictures (GET api/training/samples).
'use strict';

const runColours = ['#8ab4f8', '#f28b82', '#81c995', '#fdd663', '#c58af9', '#78d9ec', '#fcad70', '#ff8bcb'];
const scoreDashes = [[], [8, 4], [2, 3], [12, 3, 3, 3], [1, 6]];
const scoreCounts = new Set(['pixels', 'voxels', 'examples', 'objects', 'count', 'elapsed_seconds', 'seconds', 'step']);
const mainScores = new Set(['jaccard', 'dice', 'v_rand', 'f1']);

const training = {
  runs: [],              // the latest GET api/training, live ones first, then the newest
  listed: false,
  seen: new Set(),       // runs listed before: a new live one is ticked when it appears
  checked: new Set(),    // the runs drawn
  colours: new Map(),    // run -> its colour
  logs: new Map(),       // run -> {next, model, points: [{step, loss, ...}], validation: [{step, scores}], busy}
  samples: new Map(),    // run -> [{step, url}], oldest first
  charts: {},            // loss, scores, rate, speed: the uPlot charts (their .data is what is drawn)
  signatures: {},        // chart -> its series, to know when it must be made again
  smoothing: 0.6,
  wanted: '',            // a run asked for (#training?path=P) that the list does not have yet
  galleryRun: '',        // whose pictures are shown
  galleryStep: null,     // the picture shown large (null: the newest)
  visible: false,
  listTimer: 0,
  pollTimer: 0,
  drawQueued: false,
  listing: null,
};

// ---- the runs ------------------------------------------------------------------------------------
function trainingShown() {
  training.visible = true;
  refreshRuns();
  if (!training.listTimer) training.listTimer = setInterval(refreshRuns, 5000);
  if (!training.pollTimer) training.pollTimer = setInterval(pollLogs, 1000);
  queueDraw();
  requestAnimationFrame(resizeCharts);  // the window may have changed while the view was hidden
}

function trainingHidden() {
  training.visible = false;
  clearInterval(training.listTimer);
  clearInterval(training.pollTimer);
  training.listTimer = training.pollTimer = 0;
}

function trainingJobsEnded() {
  if (training.visible) refreshRuns();
}

// A run asked for by a button or the address: ticked, and its pictures shown (once the list has it).
function chooseTrainingRun(path) {
  training.wanted = path;
  if (training.listed) applyWanted(false);
}

// `fresh`: the list was just read, so a run not in it has no log yet.
function applyWanted(fresh) {
  const path = training.wanted;
  if (!training.runs.some((r) => r.path === path)) {
    if (fresh) say('training-message', `${path} has no training log yet: it is drawn here as soon as its training writes its first line.`, 'busy');
    return;
  }
  training.wanted = '';
  tick(path, true);
  training.galleryRun = path;
  training.galleryStep = null;
  say('training-message', '');
  drawRuns();
  queueDraw();
  pollLogs();
}

function tick(path, on) {
  if (!on) { training.checked.delete(path); return; }
  training.checked.add(path);
  if (!training.colours.has(path)) {
    const used = new Set([...training.checked].map((p) => training.colours.get(p)));
    const free = runColours.find((c) => !used.has(c)) || runColours[training.colours.size % runColours.length];
    training.colours.set(path, free);
  }
}

async function refreshRuns() {
  if (training.listing) return training.listing;
  training.listing = (async () => {
    try {
      const { runs } = await api('api/training');
      runs.sort((a, b) => Number(Boolean(b.live)) - Number(Boolean(a.live)) || String(b.modified).localeCompare(String(a.modified)));
      const first = !training.listed;
      training.runs = runs;
      training.listed = true;
      const paths = new Set(runs.map((r) => r.path));
      if (first) {
        const start = training.wanted && paths.has(training.wanted) ? [training.wanted]
          : runs.some((r) => r.live) ? runs.filter((r) => r.live).map((r) => r.path) : runs.slice(0, 1).map((r) => r.path);
        for (const p of start) tick(p, true);
      } else {
        for (const r of runs) if (r.live && !training.seen.has(r.path)) tick(r.path, true);  // a training just started
      }
      for (const r of runs) training.seen.add(r.path);
      for (const p of training.checked) if (!paths.has(p)) training.checked.delete(p);
      if (training.wanted) applyWanted(true);
      // The pictures again when the trainer has written one more.
      for (const r of runs) {
        const known = training.samples.get(r.path);
        if (known && r.samples !== undefined && known.length !== r.samples) loadSamples(r.path);
      }
      if (training.failed) say('training-message', 'The server answers again.', 'info');
      training.failed = false;
      drawRuns();
      queueDraw();
      pollLogs();
    } catch (e) {
      say('training-message', `The training runs could not be read: ${e.message}`, 'error');
      training.failed = true;
    }
  })();
  await training.listing;
  training.listing = null;
}

const runRows = new Map();  // run -> {li, box, swatch, info}
function drawRuns() {
  const list = $('training-runs');
  $('training-count').textContent = training.runs.length ? `(${training.runs.length})` : '';
  $('training-empty').hidden = training.runs.length > 0;
  const seen = new Set();
  training.runs.forEach((run, i) => {
    seen.add(run.path);
    let row = runRows.get(run.path);
    if (!row) {
      const box = el('input', { type: 'checkbox', title: 'draw this run' });
      box.addEventListener('change', () => {
        tick(run.path, box.checked);
        if (box.checked) { training.galleryRun = run.path; training.galleryStep = null; }
        say('training-message', box.checked ? `${run.path} is drawn.` : `${run.path} is no longer drawn.`, 'info');
        drawRuns();
        queueDraw();
        pollLogs();
      });
      const swatch = el('span', { class: 'swatch' });
      const info = el('div', { class: 'run-info muted' });
      const li = el('li', { 'data-path': run.path },
        el('label', { title: run.path }, box, swatch, el('span', { class: 'run-name', text: run.path })), info);
      row = { li, box, swatch, info };
      runRows.set(run.path, row);
    }
    const on = training.checked.has(run.path);
    row.box.checked = on;
    row.li.classList.toggle('checked', on);
    row.swatch.style.background = on ? training.colours.get(run.path) : 'transparent';
    const what = run.kind === 'ffn' ? 'flood-filling network' : '2D network';
    const s = runStatus(run);
    row.info.replaceChildren(`${what}, ${s.step >= 0 ? `step ${s.step}${s.total ? ` of ${s.total}` : ''}` : 'no step yet'}, `,
      ...statusParts(run, s), run.samples ? `, ${run.samples} picture${run.samples === 1 ? '' : 's'}` : '');
    if (list.children[i] !== row.li) list.insertBefore(row.li, list.children[i] || null);
  });
  for (const [p, row] of runRows) if (!seen.has(p)) { row.li.remove(); runRows.delete(p); }
}

// Where a run stands. The server calls a run live when its log was written in the last minute,
// which a training that has just finished is too; so the job that trains into it says more (its
// job is running, or has ended), and else the log itself: its last step logged, and scored when
// the training validates, is model.json's --steps. A log with no model.json beside it (a trainer
// of another program) tells nothing more: it stays live for its minute.
// {step, total, live, ended: '' or how it ended, job}
function runStatus(run) {
  const log = training.logs.get(run.path);
  const model = (log && log.model) || {};
  const total = model.training && typeof model.training.steps === 'number' ? model.training.steps : undefined;
  const logged = log && log.points.length ? log.points[log.points.length - 1].step : undefined;
  const step = Math.max(run.steps ?? -1, logged ?? -1);
  const jobs = state.jobs.filter((j) => j.state !== 'queued' && trainingFolderOf(j) === run.path);
  const job = jobs.find((j) => j.state === 'running') || jobs[0];
  if (job) {
    const ended = job.state === 'running' ? '' : job.state === 'done' ? 'finished' : `stopped (job ${job.id} ${job.state})`;
    return { step, total, live: run.live && !ended, ended, job };
  }
  const validations = log ? log.validation : [];
  const scored = !validations.length || validations[validations.length - 1].step >= step;
  const ended = total !== undefined && step === total && scored ? 'finished' : '';
  return { step, total, live: run.live && !ended, ended };
}

// The words that say it, after the run's step: "live", "finished 14:02:31", "last written ...".
function statusParts(run, s) {
  const ago = (Date.now() - Date.parse(run.modified)) / 1000;
  const when = Number.isFinite(ago) && ago >= 0 && ago < 3600 ? `${duration(ago)} ago` : localTime(run.modified);
  if (s.live) {
    return [el('span', { class: 'live-mark', text: 'live', title: `its log was written ${when}: it is most likely still training` })];
  }
  if (s.ended) {
    return [el('span', { class: s.ended === 'finished' ? 'done-mark' : 'stopped-mark', text: s.ended,
      title: s.ended === 'finished' ? 'it has logged its last step: its training is over' : 'its job stopped before the last step; Resume it in the job list' }),
    ` ${localTime(run.modified)}`];
  }
  return [`last written ${localTime(run.modified)}`];
}

// ---- the logs ------------------------------------------------------------------------------------
// The ticked runs' logs, and the live ones' (whether they have finished is in their log).
function pollLogs() {
  if (!training.visible) return;
  for (const path of new Set([...training.checked, ...training.runs.filter((r) => r.live).map((r) => r.path)])) pollLog(path);
}

async function pollLog(path) {
  let log = training.logs.get(path);
  if (!log) {
    log = { next: 0, model: null, points: [], validation: [], busy: false, speedKey: '' };
    training.logs.set(path, log);
  }
  if (log.busy) return;
  log.busy = true;
  try {
    const since = log.next;
    const r = await api('api/training/log', undefined, { path, since });
    // reset: the log was written anew (a resumed training drops the lines past its checkpoint), and
    // these lines are from its start.
    if (r.reset) Object.assign(log, { points: [], validation: [] });
    if (r.model) log.model = r.model;
    if (r.lines && r.lines.length) addLines(log, r.lines);
    log.next = r.next;
    if (since === 0 || r.reset || (r.lines && r.lines.length)) queueDraw();
    if (log.error) { log.error = ''; say('training-message', ''); }
  } catch (e) {
    if (!log.error) say('training-message', `The log of ${path} could not be read: ${e.message}`, 'error');
    log.error = e.message;
  } finally {
    log.busy = false;
  }
}

// Drops the points from `step` on: a resumed training logs those steps again.
function trimFrom(points, step) {
  while (points.length && points[points.length - 1].step >= step) points.pop();
}

function addLines(log, lines) {
  for (const line of lines) {
    if (!line || typeof line.step !== 'number') continue;
    if (line.validation && typeof line.validation === 'object') {
      const scores = {};
      const walk = (o, prefix) => {
        for (const [k, v] of Object.entries(o)) {
          if (scoreCounts.has(k)) continue;
          const name = prefix ? `${prefix} ${k}` : k;
          if (typeof v === 'number' && Number.isFinite(v)) scores[name] = v;
          else if (v && typeof v === 'object' && !Array.isArray(v)) walk(v, name);
        }
      };
      walk(line.validation, '');
      trimFrom(log.validation, line.step);
      log.validation.push({ step: line.step, scores });
      continue;
    }
    const speedKey = Object.keys(line).find((k) => k.endsWith('_per_second'));
    if (speedKey) log.speedKey = speedKey;
    trimFrom(log.points, line.step);
    log.points.push({
      step: line.step, loss: line.loss, learning_rate: line.learning_rate, speed: speedKey ? line[speedKey] : undefined,
      elapsed: line.elapsed_seconds, precision: line.precision, recall: line.recall, f1: line.f1,
    });
  }
}

// TensorBoard's smoothing: an exponential moving average, corrected for its start at zero.
function smoothed(values, weight) {
  let last = 0, n = 0;
  return values.map((v) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return null;
    last = last * weight + (1 - weight) * v;
    n += 1;
    return weight >= 1 ? last : last / (1 - Math.pow(weight, n));
  });
}

// ---- drawing -------------------------------------------------------------------------------------
function queueDraw() {
  if (training.drawQueued || !training.visible) return;
  training.drawQueued = true;
  requestAnimationFrame(() => {
    training.drawQueued = false;
    if (training.visible) drawTraining();
  });
}

function runLabel(path) {
  return path.length > 40 ? `...${path.slice(-37)}` : path;
}

function drawTraining() {
  const runs = training.runs.filter((r) => training.checked.has(r.path));
  $('training-none').hidden = runs.length > 0;
  $('training-none').textContent = training.runs.length ? 'Tick a training run on the left to see its curves.'
    : 'The curves of a training appear here once one runs.';
  $('training-charts').hidden = runs.length === 0;
  $('gallery-block').hidden = runs.length === 0;
  $('training-smoothing-value').textContent = training.smoothing.toFixed(2);
  drawSummaries(runs);
  drawRuns();
  if (!runs.length) return;
  const logOf = (r) => training.logs.get(r.path) || { points: [], validation: [] };
  const colour = (r) => training.colours.get(r.path);

  const loss = [];
  for (const r of runs) {
    const points = logOf(r).points.filter((p) => typeof p.loss === 'number');
    const values = points.map((p) => p.loss);
    const smooth = smoothed(values, training.smoothing);
    loss.push({ label: `${runLabel(r.path)}, as logged`, stroke: `${colour(r)}66`, width: 1, points: points.map((p) => [p.step, p.loss]) });
    loss.push({ label: `${runLabel(r.path)}, smoothed`, stroke: colour(r), width: 2, points: points.map((p, i) => [p.step, smooth[i]]) });
  }
  drawChart('loss', 'chart-loss', loss, 'loss', 'No loss logged yet: the trainer writes a line every few steps.');

  // One run: a colour per score. Several: a colour per run, a dash per score. The main scores are
  // shown; the others are in the legend, to be clicked on.
  const scores = [];
  const order = (name) => (metricOrder.indexOf(name) + 1) || 99;
  for (const r of runs) {
    const log = logOf(r);
    const names = [...new Set(log.validation.flatMap((v) => Object.keys(v.scores)))].sort((a, b) => order(a) - order(b));
    const main = names.some((n) => mainScores.has(n)) ? (n) => mainScores.has(n) : () => true;
    const paint = (i) => (runs.length === 1 ? { stroke: runColours[i % runColours.length], dash: [] }
      : { stroke: colour(r), dash: scoreDashes[i % scoreDashes.length] });
    names.forEach((name, i) => scores.push({ label: `${runLabel(r.path)}: ${scoreName(name)}`, width: 2, dots: true, show: main(name),
      ...paint(i), points: log.validation.filter((v) => typeof v.scores[name] === 'number').map((v) => [v.step, v.scores[name]]) }));
    // An FFN's scores on its training examples, between validations.
    ['f1', 'precision', 'recall'].forEach((k, i) => {
      const points = log.points.filter((p) => typeof p[k] === 'number');
      if (points.length) {
        const { stroke, dash } = paint(names.length + i);
        scores.push({ label: `${runLabel(r.path)}: ${scoreName(k)} on training examples`, stroke: `${stroke}aa`, width: 1,
          dash: dash.length ? dash : [4, 3], show: k === 'f1' || names.length === 0, points: points.map((p) => [p.step, p[k]]) });
      }
    });
  }
  drawChart('scores', 'chart-validation', scores, 'score',
    'No scores yet: the trainer scores the network on the sections it holds out every so many steps, and at its last step.');

  const rate = runs.map((r) => ({ label: runLabel(r.path), stroke: colour(r), width: 2,
    points: logOf(r).points.filter((p) => typeof p.learning_rate === 'number').map((p) => [p.step, p.learning_rate]) }));
  drawChart('rate', 'chart-rate', rate, 'learning rate', 'No learning rate logged yet.');

  const speed = runs.map((r) => {
    const log = logOf(r);
    const unit = log.speedKey ? log.speedKey.replace(/_/g, ' ') : 'per second';
    return { label: `${runLabel(r.path)} (${unit})`, stroke: colour(r), width: 2,
      points: log.points.filter((p) => typeof p.speed === 'number').map((p) => [p.step, p.speed]) };
  });
  const units = [...new Set(runs.map((r) => logOf(r).speedKey).filter(Boolean))];
  drawChart('speed', 'chart-speed', speed, units.length === 1 ? units[0].replace(/_/g, ' ') : 'per second', 'No speed logged yet.');

  drawGalleryChoice(runs);
}

function scoreName(key) {
  return metricNames[key] || words(key);
}

// Series [{label, stroke, width, dash, dots, points: [[step, value]]}] on one step axis: uPlot's
// columns, with null where a series has no value at a step (the line goes on across it).
function aligned(series) {
  const steps = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const at = new Map(steps.map((s, i) => [s, i]));
  return [steps, ...series.map((s) => {
    const column = new Array(steps.length).fill(null);
    for (const [x, y] of s.points) column[at.get(x)] = typeof y === 'number' && Number.isFinite(y) ? y : null;
    return column;
  })];
}

function drawChart(name, areaId, series, yLabel, emptyText) {
  const area = $(areaId);
  const has = series.some((s) => s.points.length > 0);
  let u = training.charts[name];
  if (!has) {
    if (u) { u.destroy(); delete training.charts[name]; delete training.signatures[name]; }
    if (area.dataset.empty !== emptyText) { area.replaceChildren(el('p', { class: 'empty chart-empty', text: emptyText })); area.dataset.empty = emptyText; }
    return;
  }
  delete area.dataset.empty;
  const columns = aligned(series);
  const signature = JSON.stringify(series.map((s) => [s.label, s.stroke, s.width, s.dash, s.dots, s.show]));
  if (u && training.signatures[name] === signature) {
    u.setData(columns, !u.zoomedByUser);
    return;
  }
  if (u) u.destroy();
  area.replaceChildren();
  const value = (self, v) => (v === null || v === undefined ? '-' : number(v));
  const axis = (label) => ({
    label, stroke: '#aaa', font: '11px system-ui, sans-serif', labelFont: '12px system-ui, sans-serif',
    grid: { stroke: '#34363c', width: 1 }, ticks: { stroke: '#3a3d44', width: 1 },
  });
  const options = {
    width: Math.max(240, area.clientWidth), height: 200,
    scales: { x: { time: false } },
    cursor: { drag: { x: true, y: false } },
    legend: { live: true },
    series: [{ label: 'step', value: (self, v) => (v === null || v === undefined ? '-' : String(v)) },
      ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: s.width, dash: s.dash, spanGaps: true, value, show: s.show !== false,
        points: s.dots ? { show: true, size: 6, fill: s.stroke } : { show: false } }))],
    axes: [axis('step'), { ...axis(yLabel), size: 64, values: (self, ticks) => ticks.map((t) => String(Number(t.toPrecision(4)))) }],
    hooks: { setSelect: [(self) => { if (self.select.width > 0) self.zoomedByUser = true; }] },
  };
  u = new uPlot(options, columns, area);
  u.over.addEventListener('dblclick', () => { u.zoomedByUser = false; });
  u.over.title = 'drag across to zoom in on some steps; double-click for all of them again';
  training.charts[name] = u;
  training.signatures[name] = signature;
}

function resizeCharts() {
  for (const u of Object.values(training.charts)) {
    const area = u.root.parentElement;
    if (area && area.clientWidth && Math.abs(area.clientWidth - u.width) > 1) u.setSize({ width: Math.max(240, area.clientWidth), height: 200 });
  }
}

// What each run is, and where it stands: its network, its last step and loss, its last scores.
function drawSummaries(runs) {
  const holder = $('training-summary');
  holder.replaceChildren(...runs.map((r) => {
    const log = training.logs.get(r.path) || { points: [], validation: [] };
    const last = log.points[log.points.length - 1];
    const validation = log.validation[log.validation.length - 1];
    const model = log.model || {};
    const status = runStatus(r);
    const total = status.total;
    const parts = [];
    if (last) {
      parts.push(`step ${last.step}${total ? ` of ${total}` : ''}`);
      if (typeof last.loss === 'number') parts.push(`loss ${number(last.loss)}`);
      if (typeof last.elapsed === 'number') parts.push(`${duration(last.elapsed)} of training`);
    } else parts.push('no step logged yet');
    const order = (name) => (metricOrder.indexOf(name) + 1) || 99;
    const scores = validation ? Object.entries(validation.scores).sort((a, b) => order(a[0]) - order(b[0])).slice(0, 4)
      .map(([k, v]) => `${scoreName(k)} ${number(v)}`) : [];
    return el('div', { class: 'run-summary', style: `border-left-color: ${training.colours.get(r.path)}` },
      el('div', {}, el('b', { text: r.path }), ' ', el('span', { class: 'muted' }, ...statusParts(r, status))),
      el('div', { class: 'network' }, el('span', { class: 'muted', text: 'Network: ' }), networkText(model, r)),
      el('div', { text: parts.join(', ') }),
      scores.length ? el('div', { text: `Last validation (step ${validation.step}): ${scores.join(', ')}` }) : null);
  }));
}

function networkText(model, run) {
  return networkWords(model.network) || (run.kind === 'ffn' ? 'a flood-filling network' : 'not described yet (no model.json)');
}

// ---- the sample pictures -------------------------------------------------------------------------
function drawGalleryChoice(runs) {
  const pick = $('gallery-run');
  if (!runs.some((r) => r.path === training.galleryRun)) { training.galleryRun = runs[0].path; training.galleryStep = null; }
  const key = runs.map((r) => r.path).join('\n');
  if (pick.dataset.key !== key) {
    pick.replaceChildren(...runs.map((r) => el('option', { value: r.path, text: r.path })));
    pick.dataset.key = key;
  }
  pick.value = training.galleryRun;
  if (!training.samples.has(training.galleryRun)) loadSamples(training.galleryRun);
  drawGallery();
}

async function loadSamples(path) {
  try {
    const r = await api('api/training/samples', undefined, { path });
    training.samples.set(path, [...(r.samples || [])].sort((a, b) => a.step - b.step));
  } catch (e) {
    training.samples.set(path, []);
    say('training-message', `The sample pictures of ${path} could not be read: ${e.message}`, 'error');
  }
  if (path === training.galleryRun) drawGallery();
}

function drawGallery() {
  const box = $('gallery');
  const samples = training.samples.get(training.galleryRun);
  const key = JSON.stringify([training.galleryRun, samples, training.galleryStep]);
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  if (!samples) { box.replaceChildren(el('p', { class: 'muted', text: 'Reading the pictures...' })); return; }
  if (!samples.length) {
    box.replaceChildren(el('p', { class: 'empty', text: 'No sample pictures yet: the trainer writes one at each validation.' }));
    return;
  }
  const newest = samples[samples.length - 1];
  const big = samples.find((s) => s.step === training.galleryStep) || newest;
  // replaceChildren, unlike el(), writes a null as the text "null": the parts left out are dropped first.
  box.replaceChildren(...[
    el('figure', { class: 'sample-big' },
      el('img', { src: withToken(big.url), alt: `input, output and target at step ${big.step}` }),
      el('div', { class: 'sample-parts' }, el('span', { text: 'input section' }), el('span', { text: "the network's output" }),
        el('span', { text: 'target (what it should make)' })),
      el('figcaption', { text: `Step ${big.step}${big === newest ? ' (the newest)' : ''}` })),
    samples.length > 1 ? el('div', { class: 'help', text: 'All the pictures, the newest first: click one to see it large.' }) : null,
    samples.length > 1 ? el('div', { class: 'sample-strip' }, ...[...samples].reverse().map((s) =>
      el('button', { type: 'button', class: `sample-thumb${s === big ? ' current' : ''}`, title: `show step ${s.step} large`,
        onclick: () => { training.galleryStep = s === newest ? null : s.step; drawGallery(); } },
      el('img', { src: withToken(s.url), loading: 'lazy', alt: `step ${s.step}` }),
      el('span', { text: `step ${s.step}` })))) : null].filter(Boolean));
}

function setupTraining() {
  $('training-smoothing').addEventListener('input', (e) => {
    training.smoothing = Number(e.target.value);
    queueDraw();
  });
  $('gallery-run').addEventListener('change', (e) => {
    training.galleryRun = e.target.value;
    training.galleryStep = null;
    loadSamples(training.galleryRun);
    drawGallery();
  });
  window.addEventListener('resize', () => { if (training.visible) resizeCharts(); });
}
