// The workbench in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven by
// playwright-core. A workspace holds a stack from `uniem synth`; the Data view lists its stacks by
// kind with their pictures, the stack viewer goes through sections with labels on top, a folder
// from elsewhere is added and removed; in "Run a command" the page lists the commands, checks a
// train2d form as it is typed in (the server's refusal under its field, before Run; Run refuses
// it too, and a refusal at submission is shown the same way), shows the form as a command line,
// saves it as a job file, queues it with the name of who started it, follows it (progress bar,
// metrics), cancels and resumes it to the end (the record's scores shown; its curves in the
// Training monitor, with those of a training "from the command line" whose new log line is drawn
// within 2 s), runs a two-step filter whose output must be in the job's run folder and then in the
// Data view, and puts that job back into the form; the saved file
// is loaded back into the train2d form; the trained network goes into the infer2d form from its
// card; a tool of the lab's own (tools/copy.json, cp -r) appears in the picker and runs as a job;
// another browser sees a job of Ana's, who started it, and no Cancel, which only Ana has.
// Usage: node workbench.test.mjs UNIEM_BINARY WORK_DIR. Exit 77 (skipped) without Chromium or
// playwright-core; screenshots (0-data.png ... 11-other-browser.png, failure.png) are written to WORK_DIR.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { uniem, serve, workbench, stop, json, check, launchChromium, finish, pageHelpers } from './server.mjs';

const [binary, work] = process.argv.slice(2);
const browser = await launchChromium();

const began = Date.now();
rmSync(work, { recursive: true, force: true });
const ws = `${work}/ws`;
mkdirSync(ws, { recursive: true });
uniem(binary, ['synth', `${ws}/s`, '--shape', '6,96,96']);
uniem(binary, ['synth', `${ws}/second`, '--shape', '6,96,96', '--seed', '2']);  // a volume the network never saw
// A folder outside the workspace, added on the page.
const elsewhere = `${work}/elsewhere`;
mkdirSync(elsewhere, { recursive: true });
uniem(binary, ['synth', `${elsewhere}/t`, '--shape', '4,64,80']);
// Two proofreading projects in the workspace (uniem serve makes one, then is stopped).
for (const name of ['cells', 'mito']) {
  const made = await serve(binary, ['--images', `${ws}/s/image`, '--labels', `${ws}/s/${name === 'cells' ? 'neurons' : 'mitochondria'}`,
                                    '--project', `${ws}/${name}`]);
  await stop(made);
}
// Jobs on one core and the CPU, so that 300 steps last long enough to be cancelled on any machine.
const server = await workbench(binary, ws, [], { UNIEM_THREADS: '1' });
const base = server.url;
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await context.newPage();
let exitCode = 0, error = null;
page.on('pageerror', (e) => { console.error(`page error: ${e.message}`); exitCode = 1; });
// The requests the page sends: its checks as the form is typed in, its submissions.
const posts = { checks: 0, jobs: 0 };
page.on('request', (r) => {
  if (r.method() !== 'POST') return;
  const path = new URL(r.url()).pathname;
  if (path === '/api/jobs/check') posts.checks += 1;
  if (path === '/api/jobs') posts.jobs += 1;
});

const { shot, text, waitText } = pageHelpers(page, work);
const waitState = (id, s, timeout = 60000) =>
  page.waitForSelector(`#jobs tr[data-id="${id}"][data-state="${s}"]`, { timeout });
// A field of the form by its argument's name, "More options" opened when it is in there.
async function setField(name, value) {
  const field = page.locator(`[data-field="${name}"]`);
  const more = page.locator(`details.more:has([data-field="${name}"])`);
  if (await more.count() && !(await more.evaluate((d) => d.open))) await more.locator('summary').click();
  const input = field.locator('input, select').first();
  if (await input.evaluate((e) => e.tagName === 'SELECT')) await input.selectOption(String(value));
  else if (await input.getAttribute('type') === 'checkbox') await input.setChecked(Boolean(value));
  else await input.fill(String(value));
}
// Runs the form, returns the body the page posted and the answer it shows.
async function run() {
  const posted = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/jobs');
  await page.click('#run');
  const body = (await posted).postDataJSON();
  await page.waitForFunction(() => /queued|Not run/.test(document.getElementById('run-message').textContent));
  return { body, message: await text('#run-message') };
}

// The loaded pictures among those `selector` finds, each scrolled into sight first (they load lazily).
async function picturesLoaded(selector, timeout = 20000) {
  const pictures = page.locator(selector);
  const n = await pictures.count();
  for (let i = 0; i < n; ++i) await pictures.nth(i).scrollIntoViewIfNeeded();
  await page.waitForFunction((s) => [...document.querySelectorAll(s)].every((i) => i.complete && i.naturalWidth > 0),
    selector, { timeout });
  return n;
}
// The section the viewer shows: its z (from 0) and its address, once its picture is in.
const viewerImage = () => page.evaluate(() => {
  const i = document.getElementById('viewer-image');
  return { z: i.dataset.z === undefined ? -1 : Number(i.dataset.z), src: i.getAttribute('src') || '', width: i.naturalWidth };
});
const waitSection = (z, timeout = 10000) => page.waitForFunction((want) => {
  const i = document.getElementById('viewer-image');
  return i.dataset.z === String(want) && i.complete && i.naturalWidth > 0;
}, z, { timeout });
// The points of the first series of a Training monitor chart ("loss": the loss as logged).
const chartPoints = (name) => page.evaluate((n) => {
  const u = window.workbench.training.charts[n];
  return u ? u.data[1].filter((v) => v !== null && v !== undefined).length : 0;
}, name);

try {
  // 0. The Data view, the page's home: the synth stacks by kind, each with its picture.
  await page.goto(base);
  await page.waitForFunction(() => window.workbench && window.workbench.ready && window.workbench.connected);
  check(await page.locator('#view-data').isVisible() && !(await page.locator('#view-run').isVisible()), 'the page opens on the Data view');
  check(/current/.test(await page.getAttribute('#tab-data', 'class')), 'the Data tab is marked');
  await page.waitForSelector('.data-group[data-kind="images"] .card[data-path="s/image"]', { timeout: 20000 });
  await page.waitForSelector('.data-group[data-kind="labels"] .card[data-path="s/neurons"]');
  check(/Image stacks/.test(await text('.data-group[data-kind="images"] h3')), 'image stacks have their heading');
  check(/Label stacks/.test(await text('.data-group[data-kind="labels"] h3')), 'label stacks have theirs');
  const imageCard = page.locator('.card[data-path="s/image"]');
  const cardText = await imageCard.textContent();
  check(/6 × 96 × 96 voxels/.test(cardText), `the card gives the shape (${cardText})`);
  check(/voxel size (unknown|[\d.]+ ×)/.test(cardText) && /on disk/.test(cardText), `the card gives the voxel size and the size on disk (${cardText})`);
  const projectCards = await page.locator('.data-group[data-kind="project"] .card').count();
  check(projectCards === 2, `the two proofreading projects are listed (${projectCards})`);
  check(await page.locator('.card[data-path="cells"] a', { hasText: 'Proofread' }).count() === 1, 'a project can be proofread from its card');
  const pictures = await picturesLoaded('.card.stack img');
  check(pictures >= 3, `every stack's picture loads (${pictures})`);
  await shot('0-data.png');

  // 0b. The stack viewer: sections by slider, number and keys; contrast; labels on top; zoom.
  await imageCard.locator('button.open-viewer').click();
  await page.waitForSelector('#viewer:not([hidden])');
  await waitSection(2);
  check(/section 3 of 6/.test(await text('#viewer-where')), `the viewer says where it is (${await text('#viewer-where')})`);
  check(/6 × 96 × 96 voxels/.test(await text('#viewer-shape')), 'the viewer gives the shape');
  const middle = await viewerImage();
  check(middle.width === 96 && /[?&]z=2(&|$)/.test(middle.src), `the middle section is shown at full size (${JSON.stringify(middle)})`);
  await page.locator('#viewer-slider').fill('1');
  await waitSection(0);
  const firstSection = await viewerImage();
  check(firstSection.src !== middle.src && /[?&]z=0(&|$)/.test(firstSection.src), `the slider changes the section (${firstSection.src})`);
  await page.keyboard.press('ArrowRight');
  await waitSection(1);
  await page.keyboard.press('PageDown');
  await waitSection(5);
  check(/section 6 of 6/.test(await text('#viewer-where')), 'Page Down goes ten sections on, to the last');
  await page.fill('#viewer-z', '4');
  await page.press('#viewer-z', 'Enter');
  await waitSection(3);
  await page.keyboard.press('ArrowLeft');  // the keys are the viewer's again after Enter
  await waitSection(2);
  await page.locator('#viewer-low').fill('60');
  await page.waitForFunction(() => /[?&]low=60&high=\d+/.test(document.getElementById('viewer-image').getAttribute('src')));
  check(/60 to/.test(await text('#viewer-range')), 'the contrast says its range');
  const labelChoices = await page.locator('#viewer-labels option').allTextContents();
  check(labelChoices.includes('s/neurons'), `the label stacks of the same shape are offered (${labelChoices})`);
  await page.selectOption('#viewer-labels', 's/neurons');
  await page.waitForFunction(() => {
    const o = document.getElementById('viewer-overlay-image');
    return !o.hidden && o.complete && o.naturalWidth === 96 && /as=labels/.test(o.getAttribute('src')) && o.dataset.z === '2';
  });
  const zoomBefore = await page.evaluate(() => window.workbench.viewer.zoom);
  await page.click('#viewer-in');
  const zoomAfter = await page.evaluate(() => window.workbench.viewer.zoom);
  check(zoomAfter > zoomBefore * 1.4, `+ zooms in (${zoomBefore} -> ${zoomAfter})`);
  await page.click('#viewer-fit');
  await shot('0b-viewer.png');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#viewer', { state: 'hidden' });

  // 0c. A folder from elsewhere: refused with the server's reason when it is not there, listed when it is.
  await page.fill('#folder-path', `${work}/no-such-folder`);
  await page.click('#folder-add');
  await waitText('#folder-message', /Not added: .+/);
  check(await page.locator('#folder-message.error').isVisible(), `a missing folder is refused in red (${await text('#folder-message')})`);
  await page.fill('#folder-path', elsewhere);
  await page.click('#folder-add');
  await waitText('#folder-message', /Added/);
  await page.waitForSelector(`.card[data-path="${elsewhere}/t/image"]`, { timeout: 20000 });
  check((await text('#folder-list')).includes(elsewhere), 'the folder is listed as added');
  await picturesLoaded('.card.stack img');  // those of the added folder too
  await page.locator('#data-panel').evaluate((p) => p.scrollTo(0, 0));
  await shot('0c-folder.png');
  await page.locator('#folder-list li', { hasText: elsewhere }).locator('button').click();
  await waitText('#folder-message', /no longer listed/);
  await page.waitForSelector(`.card[data-path="${elsewhere}/t/image"]`, { state: 'detached', timeout: 20000 });

  // 1. The page: the workspace, the commands, a form.
  await page.click('#tab-run');
  await page.waitForSelector('#view-run:not([hidden])');
  check(new URL(page.url()).hash === '#run', `the address says the view (${page.url()})`);
  check((await text('#workspace')) === resolve(ws), `the header names the workspace (${await text('#workspace')})`);
  check(/Choose a command, fill in its form and press Run/.test(await text('header')), 'the header says what to do');
  const commands = await page.locator('#command option').count();
  check(commands >= 16, `the command list holds every command a job can run (${commands})`);
  await page.selectOption('#command', 'train2d');
  await waitText('#command-summary', /Train a 2D network/);
  check((await page.locator('[data-field="images"] .help').textContent()).includes('Read from the workspace'), 'an input says where it is read');
  check((await page.locator('[data-field="model"] .help').textContent()).includes("Written into this job's run folder"), 'an output says where it goes');
  check(!(await page.locator('[data-field="threads"]').count()), 'the options of every command are left out');
  check(!(await page.locator('#more-options').evaluate((d) => d.open)), '"More options" starts closed');
  check(await page.locator('#no-jobs').isVisible(), 'the empty job list says so');
  const groups = await page.locator('#command optgroup').evaluateAll((gs) => gs.map((g) => g.label));
  check(groups.length === 2 && /uniem/.test(groups[0]) && /Your lab's tools \(tools\/ folder\)/.test(groups[1]),
    `uniem's commands and the lab's tools are grouped (${groups})`);
  const noTools = await page.locator('#command optgroup:nth-of-type(2) option').allTextContents();
  check(noTools.length === 1 && /tools\/ folder .*README/.test(noTools[0]), `without tools, the picker says how to add one (${noTools})`);
  check(await page.locator('#tool-problems').isHidden(), 'no tool problems are shown when there are none');
  check(await text('#command-line') === 'uniem train2d --images STACK --labels STACK --model DIR',
    `the command line names what is still needed (${await text('#command-line')})`);
  check(/relative to the workspace folder/.test(await text('#command-line-note')), 'the command line says where paths start');
  await page.waitForTimeout(600);
  check(posts.checks === 0 && !(await page.locator('#field-problem').count()), 'an untouched form is not checked');
  await shot('1-form.png');

  // 2. Checked as it is typed in: the server's words under the field, before Run; fixed, it is gone.
  await page.fill('#user-name', 'Ana');
  await setField('images', 's/image');
  await setField('labels', 's/membranes');
  await setField('model', 'm');
  await setField('steps', 0);
  await waitText('[data-field="steps"] .field-problem', /--steps must be at least 1/);
  check(await page.locator('[data-field="steps"].bad').count() === 1, 'the steps field is marked while typing');
  check(await page.locator('#field-problem').count() === 1, 'one message at a time');
  check(posts.checks > 0 && posts.jobs === 0, `the form was checked, nothing submitted (${JSON.stringify(posts)})`);
  await page.locator('[data-field="steps"]').evaluate((e) => e.scrollIntoView({ block: 'center' }));
  await shot('2-check.png');
  // Run refuses what the check refused, without submitting it.
  await page.click('#run');
  await waitText('#run-message', /Not run: .*--steps must be at least 1/);
  check(posts.jobs === 0, 'a form known to be wrong is not submitted');
  check(await page.locator('#run-message.error').isVisible(), 'the refusal is in red');
  await shot('2-refusal.png');
  await setField('steps', 40);
  await page.waitForSelector('#field-problem', { state: 'detached' });
  check(!(await page.locator('[data-field="steps"].bad').count()) && !(await text('#run-message')), 'a fixed field is clear again');
  // A refusal at submission (here the check is made to pass) is shown the same way.
  let passed = () => {};
  await page.route('**/api/jobs/check*', (route) => {
    route.fulfill({ contentType: 'application/json', body: '{"ok": true, "fields": []}' });
    passed();
  });
  const checkedOk = new Promise((resolve) => { passed = resolve; });
  await setField('steps', 0);
  await checkedOk;
  await page.waitForTimeout(100);
  let r = await run();
  await page.unroute('**/api/jobs/check*');
  check(r.body.job.arguments.steps === 0 && r.body.job.command === 'train2d', `steps went as a number (${JSON.stringify(r.body)})`);
  check(r.message.includes('--steps must be at least 1'), `the refusal is shown (${r.message})`);
  check(await page.locator('#run-message.error').isVisible(), 'the refusal is in red');
  check(await page.locator('[data-field="steps"].bad').count() === 1, 'the steps field is marked');
  check(/--steps must be at least 1/.test(await text('[data-field="steps"] .field-problem')), 'the refusal is under its field too');
  check((await json(`${base}api/jobs`)).jobs.length === 0, 'a refused job is not queued');

  // 3. A small network for 300 steps: queued, then followed while it runs.
  await setField('steps', 300);
  await setField('filters', 8);
  await setField('depth', 3);
  await setField('patch', 64);
  await setField('batch', 4);
  await setField('device', 'cpu');
  const line = 'uniem train2d --images s/image --labels s/membranes --model m --filters 8 --depth 3 --patch 64 --steps 300 --device cpu';
  await waitText('#command-line', new RegExp(`^${line}$`));
  // Save parameters: the form as a job file.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save-parameters')]);
  check(download.suggestedFilename() === 'train2d-parameters.json', `the file is named after the command (${download.suggestedFilename()})`);
  const parameters = `${work}/train2d-parameters.json`;
  await download.saveAs(parameters);
  const saved = JSON.parse(readFileSync(parameters, 'utf8'));
  check(saved.command === 'train2d' && saved.arguments.steps === 300 && saved.arguments.images === 's/image' && !('net' in saved.arguments),
    `the file holds the job as uniem run reads it (${JSON.stringify(saved)})`);
  uniem(binary, ['run', parameters, '--check', '--from', ws]);
  r = await run();
  check(r.body.user === 'Ana', `the job goes with the name of who started it (${JSON.stringify(r.body)})`);
  const sent = r.body.job.arguments;
  const expected = { images: 's/image', labels: 's/membranes', model: 'm', filters: 8, depth: 3, patch: 64, steps: 300, device: 'cpu' };
  check(JSON.stringify(sent) === JSON.stringify(expected),
    `only the fields changed from their defaults are sent, numbers as numbers (${JSON.stringify(sent)})`);
  const queued = r.message.match(/Job (\d+) queued/);
  check(queued, `the page says the job is queued (${r.message})`);
  const train = Number(queued[1]);
  await waitState(train, 'running', 30000);
  await page.waitForSelector('#details-progress:not([hidden])', { timeout: 30000 });
  await waitText('#details-phase', /training/, 30000);
  await waitText('#details-metrics', /loss/, 30000);
  await page.waitForFunction(() => window.workbench.detail.history.size >= 2, null, { timeout: 30000 });
  await waitText('#details-log', /step \d+\/300/);
  const step = Number((await text('#details-count')).match(/step (\d+) of 300/)[1]);
  check(step >= 10 && step < 300, `the details count the steps (${step} of 300)`);
  const width = await page.locator('#details-bar').evaluate((e) => parseFloat(e.style.width));
  check(width > 0 && width < 100, `the bar shows the steps done (${width}%)`);
  check(await page.locator(`#jobs tr[data-id="${train}"] .bar`).isVisible(), 'the job list shows a bar too');
  check(await page.locator(`#jobs tr[data-id="${train}"] button.cancel`).isVisible(), 'a running job can be cancelled');
  check(await page.locator('#details-training').isVisible(), 'a running training leads to its curves');
  check(/started by you/.test(await text(`#jobs tr[data-id="${train}"]`)), 'the job list says who started the job');
  check(/started by you/.test(await text('#details-user')), 'so do the details');
  await shot('3-running.png');


  // 4. Cancel: the job stops and says so; Resume takes it to the end.
  await page.locator(`#jobs tr[data-id="${train}"] button.cancel`).click();
  await waitState(train, 'cancelled', 30000);
  await waitText('#details-state', /cancelled/);
  check(/cancelled/.test(await text(`#jobs tr[data-id="${train}"]`)), 'the row says cancelled');
  check(await page.locator(`#jobs tr[data-id="${train}"] button.resume`).isVisible(), 'a cancelled job can be resumed');
  check(!(await page.locator(`#jobs tr[data-id="${train}"] button.cancel`).count()), 'a cancelled job cannot be cancelled');
  const stopped = await json(`${base}api/jobs/${train}`);
  check(stopped.state === 'cancelled', `the server has it cancelled (${stopped.state})`);
  await page.locator(`#jobs tr[data-id="${train}"] button.resume`).click();
  await waitText('#jobs-message', /queued again/);
  await waitState(train, 'done', 120000);
  await waitText('#details-state', /done/);
  await waitText('#details-final', /Jaccard/, 10000);
  const record = (await json(`${base}api/jobs/${train}`)).record;
  const jaccard = record.metrics.validation.jaccard;
  check(record.exit_status === 0 && jaccard > 0, `the record has the scores (Jaccard ${jaccard})`);
  const shown = await page.locator('#details-final tr', { hasText: 'Jaccard (validation)' }).locator('td').textContent();
  check(Math.abs(Number(shown) - jaccard) < 1e-3, `the details show the record's Jaccard (${shown} vs ${jaccard})`);
  check((await text('#details-outputs')).includes(`runs/job-${train}/m`), 'the details list the model folder');
  check(existsSync(`${ws}/runs/job-${train}/m/best.checkpoint`), 'the model is in the run folder');
  await waitText('#details-log', /validation at step 300/);
  check(/finished in/.test(await text(`#jobs tr[data-id="${train}"]`)), 'the row says how long it took');
  await shot('4-finished.png');

  // 4b. The whole training in the Training monitor: loss, validation scores, its network, its pictures.
  await page.click('#details-training');
  await page.waitForSelector('#view-training:not([hidden])');
  await page.waitForFunction(() => {
    const c = window.workbench.training.charts;
    return c.loss && c.scores && c.rate && /step 300/.test(document.getElementById('training-summary').textContent);
  }, null, { timeout: 20000 });
  const lossPoints = await chartPoints('loss');
  check(lossPoints > 1, `the loss curve has its points (${lossPoints})`);
  check(await page.locator('#chart-loss canvas').count() === 1, 'the loss is drawn');
  check(await chartPoints('scores') >= 1, 'the validation scores are drawn');
  check(/Jaccard/.test(await text('#chart-validation')), 'the scores are named in the legend');
  check(/Network: \S/.test(await text('#training-summary')), `the network is described (${await text('#training-summary')})`);
  await page.waitForFunction(() => /step \d+|No sample pictures yet/.test(document.getElementById('gallery').textContent), null, { timeout: 15000 });
  const samples = await page.locator('#gallery img').count();
  if (samples) await picturesLoaded('#gallery img');
  await page.locator('#training-smoothing').fill('0.95');

  // A training started on the command line: listed, ticked as it is live, drawn over the first, and
  // a new line of its log drawn within 2 s.
  const cliLog = `${ws}/cli-training/training-log.jsonl`;
  mkdirSync(`${ws}/cli-training`);
  const logLine = (step) => `${JSON.stringify({ step, loss: 0.3 / Math.sqrt(step), learning_rate: 1e-3, images_per_second: 100,
    elapsed_seconds: step / 10 })}\n`;
  writeFileSync(cliLog, [10, 20, 30, 40].map(logLine).join('') + `${JSON.stringify({ step: 40, validation: { jaccard: 0.5, dice: 0.6 } })}\n`);
  await page.waitForSelector('#training-runs li[data-path="cli-training"] input:checked', { timeout: 15000 });
  check(/live/.test(await text('#training-runs li[data-path="cli-training"]')), 'the training that writes its log is marked live');
  const cliPoints = () => page.evaluate(() => {
    const u = window.workbench.training.charts.loss;
    const i = u.series.findIndex((s) => s.label === 'cli-training, as logged');
    return i < 0 ? 0 : u.data[i].filter((v) => v !== null).length;
  });
  await page.waitForFunction(() => {
    const u = window.workbench.training.charts.loss;
    const i = u.series.findIndex((s) => s.label === 'cli-training, as logged');
    return i > 0 && u.data[i].filter((v) => v !== null).length === 4;
  }, null, { timeout: 10000 });
  check(await page.evaluate(() => window.workbench.training.charts.loss.series.length) === 5, 'both runs are drawn, each as logged and smoothed');
  appendFileSync(cliLog, logLine(50));
  const written = Date.now();
  await page.waitForFunction((n) => {
    const u = window.workbench.training.charts.loss;
    const i = u.series.findIndex((s) => s.label === 'cli-training, as logged');
    return u.data[i].filter((v) => v !== null).length > n;
  }, 4, { timeout: 5000, polling: 50 });
  const drawnIn = Date.now() - written;
  check(drawnIn < 2500 && await cliPoints() === 5, `a new line of the log is drawn within 2 s (${drawnIn} ms)`);
  await page.locator('#charts-panel').evaluate((p) => p.scrollTo(0, 0));
  await shot('4b-training.png');
  await page.locator('#gallery-block').scrollIntoViewIfNeeded();
  await shot('4c-samples.png');
  await page.click('#tab-run');
  await page.waitForSelector('#view-run:not([hidden])');

  // 5. filter with two steps, in order, on the synthetic image.
  await page.selectOption('#command', 'filter');
  await setField('in', 's/image');
  await setField('out', 'mask.tif');
  await page.selectOption('#step-name', 'gaussian');
  await page.fill('#step-value', '1');
  await page.click('#step-add');
  await page.selectOption('#step-name', 'threshold');
  await page.fill('#step-value', 'otsu');
  await page.click('#step-add');
  const listed = await page.locator('#step-list li').allTextContents();
  check(listed.length === 2 && /gaussian 1/.test(listed[0]) && /threshold otsu/.test(listed[1]), `the steps are listed in order (${listed})`);
  // The live preview follows the steps: the white pixels of the thresholded crop change with the
  // threshold, and come back with it.
  const previewed = async () => {
    await page.waitForFunction(() => /computed in/.test(document.getElementById('preview-message').textContent)
      && document.getElementById('preview-after').complete && document.getElementById('preview-after').naturalWidth > 0);
    return page.locator('#preview-after').evaluate((img) => {
      const c = document.createElement('canvas');
      c.width = img.naturalWidth;
      c.height = img.naturalHeight;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      let white = 0;
      for (let i = 0; i < d.length; i += 4) white += d[i] > 127;
      return { white, src: img.src };
    });
  };
  const otsu = await previewed();
  check(otsu.white > 0, `the preview shows the thresholded crop (${otsu.white} white pixels)`);
  await shot('5a-preview.png');
  const replaceThreshold = async (value) => {
    await page.locator('#step-list li', { hasText: 'threshold' }).locator('button', { hasText: 'Remove' }).click();
    await page.selectOption('#step-name', 'threshold');
    await page.fill('#step-value', value);
    await page.click('#step-add');
  };
  await replaceThreshold('250');
  await page.waitForFunction((src) => document.getElementById('preview-after').src !== src, otsu.src);
  const high = await previewed();
  check(high.white < otsu.white, `a higher threshold leaves fewer white pixels in the preview (${high.white} < ${otsu.white})`);
  await replaceThreshold('otsu');
  await page.waitForFunction((src) => document.getElementById('preview-after').src !== src, high.src);
  check((await previewed()).white === otsu.white, 'the same steps preview the same');
  await page.fill('#job-name', 'membrane mask');
  check(await text('#command-line') === 'uniem filter s/image mask.tif --gaussian 1 --threshold otsu',
    `the steps are on the command line in order (${await text('#command-line')})`);
  r = await run();
  check(JSON.stringify(r.body) === JSON.stringify({ job: { command: 'filter', arguments: { in: 's/image', out: 'mask.tif',
    steps: [{ gaussian: '1' }, { threshold: 'otsu' }] } }, name: 'membrane mask', user: 'Ana' }), `the filter job as sent (${JSON.stringify(r.body)})`);
  const filter = Number(r.message.match(/Job (\d+) queued/)[1]);
  await waitState(filter, 'done', 60000);
  await waitText('#details-outputs', /mask\.tif/);
  check(existsSync(`${ws}/runs/job-${filter}/mask.tif`), `the mask is in runs/job-${filter}/`);
  check(/--gaussian=1 --threshold=otsu/.test(await text('#details-command')), 'the details show the command line that ran');
  check(/membrane mask/.test(await text(`#jobs tr[data-id="${filter}"]`)), 'the job has its name');
  await waitText('#details-log', /=== done/);
  check(await page.locator('#jobs tbody tr').count() === 2, 'two jobs are listed');
  await shot('5-filter.png');

  // 6. The proofreading projects of the workspace, each in its own proofreader, both open at once.
  await waitText('#projects', /cells, mito/);
  const projects = [];
  for (const name of ['cells', 'mito']) {
    const p = await context.newPage();
    p.on('pageerror', (e) => { console.error(`proofreader page error: ${e.message}`); exitCode = 1; });
    await p.goto(`${base.replace(/\/?(\?.*)?$/, '')}/projects/${name}/`);
    await p.waitForFunction(() => window.uniem && window.uniem.ready && window.uniem.labels, null, { timeout: 20000 });
    projects.push(p);
  }
  const infos = await Promise.all(projects.map((p) => p.evaluate(async () => (await fetch('api/info')).json())));
  check(infos[0].segments > infos[1].segments && infos[1].segments > 0, `each page shows its own project (${infos.map((i) => i.segments)} segments)`);
  await projects[0].screenshot({ path: `${work}/6-proofreader.png` });
  console.log(`screenshot: ${work}/6-proofreader.png`);
  for (const p of projects) await p.close();

  // 7. "Edit and run again" puts the job back into the form, steps included.
  await page.click('#details-copy');
  await waitText('#run-message', new RegExp(`settings of job ${filter}`));
  check(await page.inputValue('#field-in') === 's/image' && await page.inputValue('#field-out') === 'mask.tif', 'the paths are back in the form');
  const again = await page.locator('#step-list li').allTextContents();
  check(again.length === 2 && /gaussian 1/.test(again[0]) && /threshold otsu/.test(again[1]), `the steps are back in order (${again})`);

  // 7b. Load parameters: the file saved in 3 fills the train2d form again; a file that is no job is refused.
  const load = async (files) => {
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click('#load-parameters')]);
    await chooser.setFiles(files);
  };
  await load(parameters);
  await waitText('#run-message', /Loaded train2d-parameters\.json/);
  check(await page.inputValue('#command') === 'train2d' && await page.inputValue('#field-images') === 's/image'
    && await page.inputValue('#field-steps') === '300' && await page.inputValue('#field-device') === 'cpu', 'the form holds the file\'s values');
  check(await text('#command-line') === line, `the loaded form is the saved one (${await text('#command-line')})`);
  await shot('7-loaded.png');
  await load({ name: 'notes.json', mimeType: 'application/json', buffer: Buffer.from('{"title": "my notes"}') });
  await waitText('#run-message', /Not loaded: notes\.json: this file is not a uniem job/);
  check(await page.inputValue('#command') === 'train2d', 'a refused file leaves the form as it was');

  // A tool of the lab's own and a manifest with a mistake, put into tools/ while the page is open.
  mkdirSync(`${ws}/tools`);
  writeFileSync(`${ws}/tools/copy.json`, JSON.stringify({
    summary: 'copy a folder (cp -r)', description: 'Copies a stack, as an example of a tool of your own.', executable: ['cp', '-r'],
    arguments: [{ name: 'in', kind: 'positional', type: 'path', role: 'input', help: 'the folder to copy' },
      { name: 'out', kind: 'positional', type: 'path', role: 'output', help: 'the copy' }] }));
  writeFileSync(`${ws}/tools/broken.json`, '{"summary": "no program"}');
  writeFileSync(`${ws}/tools/wait.json`, JSON.stringify({ summary: 'wait a minute', executable: ['sh', '-c', 'exec sleep 60'], arguments: [] }));

  // 8. The Data view again: the jobs' outputs are there; the network goes into the infer2d form.
  await page.click('#tab-data');
  await page.waitForSelector(`.card[data-path="runs/job-${filter}/mask.tif"]`, { timeout: 20000 });
  const model = page.locator(`.data-group[data-kind="model2d"] .card[data-path="runs/job-${train}/m"]`);
  await model.waitFor({ timeout: 20000 });
  check(await model.locator('button', { hasText: 'Training curves' }).count() === 1, 'the network has its training curves');
  check(/U-Net, 3 levels, 8 filters/.test(await model.textContent()), `the network is described (${await model.textContent()})`);
  check(await page.locator(`.card[data-path="runs/job-${train}"] button`, { hasText: `Job ${train}` }).count() === 1,
    'a finished run leads to its job');
  await picturesLoaded('.card.stack img');
  await shot('8-data-after.png');
  await model.locator('button', { hasText: 'Use for inference' }).click();
  await page.waitForSelector('#view-run:not([hidden])');
  check(await page.inputValue('#command') === 'infer2d' && await page.inputValue('#field-model') === `runs/job-${train}/m`,
    'the infer2d form holds the network');
  await waitText('#run-message', /infer2d form now holds/);
  await shot('9-inference.png');

  // 10. The tool: in its group of the picker (the broken manifest named above it), a form like any
  // command's, run as a job whose output is in its run folder.
  await page.waitForSelector('#command optgroup:nth-of-type(2) option[value="tool:copy"]', { state: 'attached', timeout: 15000 });
  await waitText('#tool-problems', /tools\/broken\.json: /);
  check(!/\/tools\/broken/.test(await text('#tool-problems')), `the problem names the manifest from the workspace (${await text('#tool-problems')})`);
  await page.selectOption('#command', 'tool:copy');
  await waitText('#command-summary', /Copy a folder/);
  await setField('in', 's/image');
  await setField('out', 'copy');
  check(await text('#command-line') === 'uniem run copy-parameters.json', `a tool's command line is its job file (${await text('#command-line')})`);
  r = await run();
  const tool = Number(r.message.match(/Job (\d+) queued/)[1]);
  await waitState(tool, 'done', 30000);
  await waitText('#details-outputs', /copy/);
  check(existsSync(`${ws}/runs/job-${tool}/copy/0000.png`), `the tool's output is in runs/job-${tool}/`);
  check(/cp -r \S+\/s\/image \S+\/copy/.test(await text('#details-command')), `the details show what ran (${await text('#details-command')})`);
  await page.locator('#run-panel').evaluate((p) => p.scrollTo(0, 0));
  await shot('10-tool.png');

  // 11. Who may cancel: Ana's job that waits, seen from another browser (another cookie): who
  // started it, no Cancel but a note; the server refuses that browser's cancel. Ana cancels it.
  await page.selectOption('#command', 'tool:wait');
  r = await run();
  const wait = Number(r.message.match(/Job (\d+) queued/)[1]);
  await waitState(wait, 'running', 30000);
  const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const otherPage = await other.newPage();
  otherPage.on('pageerror', (e) => { console.error(`second page error: ${e.message}`); exitCode = 1; });
  await otherPage.goto(`${base}#run`);
  const otherRow = otherPage.locator(`#jobs tr[data-id="${wait}"][data-state="running"]`);
  await otherRow.waitFor();
  check(/started by Ana/.test(await otherRow.textContent()), `another browser sees who started it (${await otherRow.textContent()})`);
  check(!(await otherRow.locator('button.cancel').count()), 'another browser gets no Cancel');
  check(/only Ana can cancel it/.test(await otherRow.locator('.cancel-note').textContent()), 'it says who can cancel it');
  check(/started by Ana/.test(await otherPage.locator(`#jobs tr[data-id="${train}"]`).textContent()), 'so are her other jobs');
  await otherPage.evaluate((id) => cancel(id), wait);  // as a script in that page would ask: the server says no
  await otherPage.waitForFunction(() => /was started by Ana in another browser/.test(document.getElementById('jobs-message').textContent));
  await otherPage.locator(`#jobs tr[data-id="${wait}"]`).click();
  await otherPage.waitForFunction(() => /started by Ana/.test(document.getElementById('details-user').textContent));
  await otherPage.screenshot({ path: `${work}/11-other-browser.png` });
  console.log(`screenshot: ${work}/11-other-browser.png`);
  await other.close();
  check((await json(`${base}api/jobs/${wait}`)).state === 'running', 'the job still runs');
  await page.locator(`#jobs tr[data-id="${wait}"] button.cancel`).click();
  await waitState(wait, 'cancelled', 30000);
  // 12. Inference with the trained network on the volume, then a mask made into a proofreading
  // project from its card (a job of its own) and opened in the proofreader.
  await page.click('#tab-run');
  await page.selectOption('#command', 'infer2d');
  await setField('model', `runs/job-${train}/m`);
  await setField('images', 'second/image');
  await setField('out', 'predicted');
  await page.locator('#more-options').evaluate((d) => { d.open = true; });
  await setField('threshold', '0.5');
  r = await run();
  const infer = Number(r.message.match(/Job (\d+) queued/)[1]);
  await waitState(infer, 'done', 60000);
  await waitText('#details-outputs', /predicted/);
  await page.click('#tab-data');
  const mask = page.locator(`.card[data-path="runs/job-${filter}/mask.tif"]`);
  await mask.waitFor({ timeout: 20000 });
  check(await mask.getAttribute('data-kind') === 'labels', 'the mask is listed as a segmentation');
  await mask.locator('button', { hasText: 'Proofread' }).click();
  await waitText('#data-message', /Making a proofreading project of/);
  const ready = page.locator('#data-message a', { hasText: 'open it in the proofreader' });
  await ready.waitFor({ timeout: 60000 });
  const proofreaderAddress = await ready.getAttribute('href');
  check(/^projects\/runs~job-\d+~proofreading\//.test(proofreaderAddress), `the project's address (${proofreaderAddress})`);
  await shot('12-proofread-ready.png');
  const proofreader = await context.newPage();
  await proofreader.goto(new URL(proofreaderAddress, base).href);
  await proofreader.waitForFunction(() => document.title.includes('proofreader'), null, { timeout: 20000 });
  const projectInfo = await json(new URL(proofreaderAddress.replace(/\?.*$/, '') + 'api/info', base).href);
  check(JSON.stringify(projectInfo.shape) === JSON.stringify([6, 96, 96]), `the project has the mask's shape (${JSON.stringify(projectInfo.shape)})`);
  await proofreader.waitForTimeout(1500);
  await proofreader.screenshot({ path: `${work}/12-proofreader.png` });
  console.log(`screenshot: ${work}/12-proofreader.png`);
  await proofreader.close();

  // 13. mesh and eval from their forms: what they write is what the same commands write on the
  // command line.
  await page.click('#tab-run');
  await page.selectOption('#command', 'mesh');
  await setField('labels', 's/neurons');
  await setField('outdir', 'meshes');
  r = await run();
  const meshJob = Number(r.message.match(/Job (\d+) queued/)[1]);
  await waitState(meshJob, 'done', 60000);
  uniem(binary, ['mesh', `${ws}/s/neurons`, `${work}/cli-meshes`, '--quiet']);
  check(readFileSync(`${ws}/runs/job-${meshJob}/meshes/measurements.csv`, 'utf8') === readFileSync(`${work}/cli-meshes/measurements.csv`, 'utf8'),
    'the meshes job measured what uniem mesh measures');
  check(readFileSync(`${ws}/runs/job-${meshJob}/meshes/label_1.ply`).equals(readFileSync(`${work}/cli-meshes/label_1.ply`)),
    'and its surfaces are the same, byte for byte');
  await page.selectOption('#command', 'eval');
  await setField('seg', `runs/job-${infer}/predicted/mask`);
  await setField('gt', 'second/membranes');
  await page.selectOption('#field-mode', 'semantic');
  r = await run();
  const evalJob = Number(r.message.match(/Job (\d+) queued/)[1]);
  await waitState(evalJob, 'done', 60000);
  await waitText('#details-final', /Jaccard/);
  const scored = JSON.parse(uniem(binary, ['eval', `${ws}/runs/job-${infer}/predicted/mask`, `${ws}/second/membranes`, '--mode', 'semantic', '--progress', 'off']));
  const recorded = (await json(`${base}api/jobs/${evalJob}`)).record.metrics;
  check(Math.abs(recorded.mean_jaccard - scored.mean_jaccard) < 1e-12 && scored.mean_jaccard > 0.5,
    `the eval job's Jaccard is the command line's (${recorded.mean_jaccard} and ${scored.mean_jaccard})`);
  await shot('13-eval.png');

  console.log(`ok: the workbench in Chromium: the Data view (${pictures} stack pictures), the stack viewer, a folder added and removed, ` +
    `${commands} commands, checks as typed (${posts.checks}), a refusal, train2d saved, queued, followed, seen from another ` +
    `browser, cancelled, resumed to the end (Jaccard ${jaccard.toFixed(3)}, ${lossPoints} loss points drawn, a new log line ` +
    `drawn in ${drawnIn} ms), a two-step filter, parameters loaded, a lab tool run, inference, a mask proofread, mesh and eval as on the command line; ` +
    `${((Date.now() - began) / 1000).toFixed(1)} s`);
} catch (e) {
  error = e;
}
process.exit(await finish({ error, exitCode, pages: [page], work, browser, server }));
