// `make run`'s end in a real browser: `uniem demo` runs its steps as jobs of the workspace's queue,
// then serves the workbench on its output and prints the address of the job list. There the four
// jobs are finished, started by "uniem demo", each with its run record: the classic segmentation
// with its scores (V_rand as the record has it), the command lines that ran and what it made; the
// U-Net's job leads to its curves in the Training monitor; the Data page holds the demo's stacks
// and its proofreading project.
// Usage: node demo.test.mjs UNIEM_BINARY WORK_DIR. Exit 77 (skipped) without Chromium or
// playwright-core; screenshots (0-jobs.png ... 3-data.png, failure.png) are written to WORK_DIR.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { demo, json, check, launchChromium, finish, pageHelpers } from './server.mjs';

const [binary, work] = process.argv.slice(2);
const browser = await launchChromium();

const began = Date.now();
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const output = `${work}/demo`;
const server = await demo(binary, ['--output', output, '--shape', '8,96,96', '--device', 'cpu']);
const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
let exitCode = 0, error = null;
page.on('pageerror', (e) => { console.error(`page error: ${e.message}`); exitCode = 1; });
const { shot, text, waitText } = pageHelpers(page, work);

try {
  // 0. The address the demo prints opens the job list: its four jobs, finished, by "uniem demo".
  check(/\/#run$/.test(server.url), `the demo prints the job list's address (${server.url})`);
  await page.goto(server.url);
  await page.waitForFunction(() => window.workbench && window.workbench.ready);
  check(await page.locator('#view-run').isVisible(), 'the page opens on the job list');
  const { jobs } = await json(`${server.url.replace(/#.*/, '')}api/jobs`);
  check(jobs.length === 4 && jobs.every((j) => j.state === 'done' && j.user === 'uniem demo'),
    `the demo's four jobs are done (${jobs.map((j) => `${j.id} ${j.state} ${j.user}`).join(', ')})`);
  for (const j of jobs) await page.waitForSelector(`#jobs tr[data-id="${j.id}"][data-state="done"]`);
  for (const name of ['synthetic EM volume', 'classic segmentation', '2D CNN', 'proofreading project'])
    check((await text('#jobs')).includes(name), `the job list names "${name}"`);
  await shot('0-jobs.png');

  // 1. The classic segmentation's record: its scores, the command lines that ran, what it made.
  const classic = jobs.find((j) => /^classic/.test(j.name));
  const record = (await json(`${server.url.replace(/#.*/, '')}api/jobs/${classic.id}`)).record;
  const vRand = record.metrics.v_rand;
  check(record.exit_status === 0 && vRand > 0.5 && vRand <= 1, `the record has the segmentation's V_rand (${vRand})`);
  await page.locator(`#jobs tr[data-id="${classic.id}"]`).click();
  await waitText('#details-state', /done/);
  await waitText('#details-final', /V_rand|Rand/);
  const command = await text('#details-command');
  for (const c of ['uniem filter', 'uniem watershed', 'uniem eval', 'uniem mesh'])
    check(command.includes(c), `"What ran" shows ${c}`);
  const outputs = await text('#details-outputs');
  check(outputs.includes('classic/segmentation.tif') && outputs.includes('classic/meshes'), `the outputs are listed (${outputs.slice(0, 200)})`);
  const summary = JSON.parse(readFileSync(`${output}/uniem-demo.json`, 'utf8'));
  check(summary.complete && Math.abs(summary.segmentation.v_rand - vRand) < 1e-12, 'uniem-demo.json has the record\'s score');
  await shot('1-classic-record.png');

  // 2. The U-Net's job leads to its curves in the Training monitor.
  const cnn = jobs.find((j) => /2D CNN/.test(j.name));
  await page.locator(`#jobs tr[data-id="${cnn.id}"]`).click();
  await waitText('#details-state', /done/);
  await page.waitForSelector('#details-training:not([hidden])');
  await page.click('#details-training');
  await page.waitForSelector('#view-training:not([hidden])');
  await page.waitForFunction(() => {
    const c = window.workbench.training.charts;
    return c.loss && c.loss.data[1].filter((v) => v !== null && v !== undefined).length >= 15
      && /step 150/.test(document.getElementById('training-summary').textContent);
  }, null, { timeout: 15000 });
  check(await page.locator('#training-runs li[data-path="cnn/model"] input:checked').count() === 1, 'the monitor shows cnn/model');
  await shot('2-training.png');

  // 3. The Data page: the demo's stacks and its proofreading project.
  await page.click('#tab-data');
  await page.waitForSelector('article[data-path="volume/png/image"]');
  await page.waitForSelector('article[data-kind="project"][data-path="proofreading/neurons"]');
  await shot('3-data.png');
  console.log(`ok: uniem demo's four jobs finished in its workbench, with their records (V_rand ${vRand.toFixed(4)}), ` +
    `the U-Net's curves and its project; ${((Date.now() - began) / 1000).toFixed(1)} s`);
} catch (e) {
  error = e;
}
process.exit(await finish({ error, exitCode, pages: [page], work, browser, server }));
