// The workbench in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven by
// playwright-core. A workspace holds a stack from `uniem synth`; the page lists the commands,
// shows the server's refusal of a bad train2d form, queues a good one, follows it (progress bar,
// metrics), cancels and resumes it to the end (the record's scores shown), runs a two-step
// filter whose output must be in the job's run folder, and puts that job back into the form.
// Usage: node workbench.test.mjs UNIEM_BINARY WORK_DIR. Exit 77 (skipped) without Chromium or
// playwright-core; screenshots (1-form.png ... 6-proofreader.png, failure.png) are written to WORK_DIR.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { uniem, serve, workbench, stop, json, check, launchChromium } from './server.mjs';

const [binary, work] = process.argv.slice(2);
const browser = await launchChromium();

const began = Date.now();
rmSync(work, { recursive: true, force: true });
const ws = `${work}/ws`;
mkdirSync(ws, { recursive: true });
uniem(binary, ['synth', `${ws}/s`, '--shape', '6,96,96']);
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
let exitCode = 0;
page.on('pageerror', (e) => { console.error(`page error: ${e.message}`); exitCode = 1; });

const shot = async (name) => { await page.screenshot({ path: `${work}/${name}` }); console.log(`screenshot: ${work}/${name}`); };
const text = (selector) => page.textContent(selector);
const waitText = (selector, pattern, timeout = 10000) => page.waitForFunction(([s, p]) => {
  const e = document.querySelector(s);
  return e && new RegExp(p).test(e.textContent);
}, [selector, pattern.source], { timeout });
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

try {
  // 1. The page: the workspace, the commands, a form.
  await page.goto(base);
  await page.waitForFunction(() => window.workbench && window.workbench.ready && window.workbench.connected);
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
  await shot('1-form.png');

  // 2. A refusal: the server's own words, in red, the field marked; no job made.
  await setField('images', 's/image');
  await setField('labels', 's/membranes');
  await setField('model', 'm');
  await setField('steps', 0);
  let r = await run();
  check(r.body.job.arguments.steps === 0 && r.body.job.command === 'train2d', `steps went as a number (${JSON.stringify(r.body)})`);
  check(r.message.includes('--steps must be at least 1'), `the refusal is shown (${r.message})`);
  check(await page.locator('#run-message.error').isVisible(), 'the refusal is in red');
  check(await page.locator('[data-field="steps"].bad').count() === 1, 'the steps field is marked');
  check((await json(`${base}api/jobs`)).jobs.length === 0, 'a refused job is not queued');
  await shot('2-refusal.png');

  // 3. A small network for 300 steps: queued, then followed while it runs.
  await setField('steps', 300);
  await setField('filters', 8);
  await setField('depth', 3);
  await setField('patch', 64);
  await setField('batch', 4);
  await setField('device', 'cpu');
  r = await run();
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
  await page.fill('#job-name', 'membrane mask');
  r = await run();
  check(JSON.stringify(r.body) === JSON.stringify({ job: { command: 'filter', arguments: { in: 's/image', out: 'mask.tif',
    steps: [{ gaussian: '1' }, { threshold: 'otsu' }] } }, name: 'membrane mask' }), `the filter job as sent (${JSON.stringify(r.body)})`);
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
  console.log(`ok: the workbench in Chromium: ${commands} commands, a refusal, train2d queued, followed, cancelled, ` +
    `resumed to the end (Jaccard ${jaccard.toFixed(3)}), a two-step filter; ${((Date.now() - began) / 1000).toFixed(1)} s`);
} catch (e) {
  exitCode = 1;
  console.error(e.stack || e.message);
  await page.screenshot({ path: `${work}/failure.png` }).catch(() => {});
  console.error(`screenshot: ${work}/failure.png`);
  console.error(server.output());
} finally {
  await browser.close();
  await stop(server);
}
process.exit(exitCode);
