// The proofreader's review queue in a real browser (headless Chromium through playwright-core).
// A project is made from `uniem synth`, with small specks painted in, one of them on sections 1
// and 3 only (a gap), and a marker. R walks the queue: every small fragment, found by its size in
// the server's segment list, is shown exactly once; C and a row's tick box mark segments checked,
// the progress says so and a reload still does; Ctrl+Z takes a mark back; the export's segment
// table has the checked column; after the shown fragment is deleted, R goes on to the one after it.
// Usage: node review_queue.test.mjs UNIEM_BINARY WORK_DIR. Exit 77 (skipped) without Chromium or
// playwright-core; screenshots are written to WORK_DIR (review-*.png).
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { uniem, serve, json, check, launchChromium, finish, pageHelpers } from './server.mjs';

const [binary, work] = process.argv.slice(2);
const browser = await launchChromium();

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
uniem(binary, ['synth', `${work}/synth`, '--shape', '6,160,160', '--seed', '3']);
const server = await serve(binary, ['--images', `${work}/synth/image`, '--labels', `${work}/synth/neurons`, '--project', `${work}/project`]);
const base = server.url;
const pages = [];
let exitCode = 0, error = null;

try {
  // Specks painted in: small fragments. The last id is painted on sections 1 and 3: a gap at 2.
  let version = 0;
  const paint = async (z, y, x, id) => {
    const r = await json(`${base}api/edit`, { op: 'paint', user: 'setup', version, z, points: [[y, x]], radius: 1.5, id });
    version = r.version;
    return r.id;
  };
  const specks = [await paint(1, 30, 30, 'new'), await paint(4, 120, 40, 'new')];
  const gapped = await paint(1, 100, 120, 'new');
  await paint(3, 100, 120, gapped);
  version = (await json(`${base}api/edit`, { op: 'marker', user: 'setup', version, z: 2, y: 80, x: 80, note: 'two cells here?' })).version;

  // What the queue must hold, from the server's segment list: the lower median of the sizes, and
  // a small fragment below a tenth of it.
  const segments = await json(`${base}api/segments`);
  const sizes = segments.map((s) => s.voxels).sort((a, b) => a - b), median = sizes[Math.floor((sizes.length - 1) / 2)];
  const smallBelow = Math.max(2, Math.floor(median / 10));
  const small = segments.filter((s) => s.voxels < smallBelow).map((s) => s.id).sort((a, b) => a - b);
  const totalVoxels = segments.reduce((n, s) => n + s.voxels, 0);
  check(specks.every((id) => small.includes(id)) && small.includes(gapped) && small.length >= 4,
    `the specks and the synthetic volume's smallest segment are small fragments: ${small} (below ${smallBelow})`);
  const queue = await json(`${base}api/review`);
  check(queue.median === median && queue.small_below === smallBelow, `the server's median ${queue.median} and threshold ${queue.small_below}`);

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => { console.error(`page error: ${e.message}`); exitCode = 1; });
  await page.goto(base);
  await page.waitForFunction(() => window.uniem && window.uniem.ready && window.uniem.labels && window.uniem.review.data);
  pages.push(page);
  const { shot, text, waitText } = pageHelpers(page, work);
  const me = await page.inputValue('#user');
  check(new RegExp(`^0 of ${segments.length} segments checked; 0 of ${totalVoxels.toLocaleString('en')} voxels \\(0%\\)$`).test(await text('#review-progress')),
    `the progress starts at nothing checked: ${await text('#review-progress')}`);
  const open = await page.evaluate(() => window.uniem.review.items.length);
  check(/^\d+ problems to look at \(1 marker\)$/.test(await text('#review-open')), `the panel counts the problems: ${await text('#review-open')}`);
  await shot('review-1-start.png');
  await page.click('#review-rules summary');
  check(new RegExp(`more than ${queue.large_above.toLocaleString('en')} voxels, 10 times the median segment, ${median.toLocaleString('en')} voxels;`).test(await text('#review-rules')) &&
        new RegExp(`by default a tenth of the median segment, ${median.toLocaleString('en')} voxels`).test(await text('#review-rules')),
    `the rules name their numbers: ${await text('#review-rules')}`);
  await shot('review-1-rules.png');
  await page.click('#review-rules summary');

  // 1. R as many times as there are problems: each shown once, every small fragment among them.
  const visits = [];
  for (let k = 0; k < open; ++k) {
    await page.keyboard.press('r');
    await page.waitForFunction((n) => window.uniem.review.visited.length === n && window.uniem.review.shown === window.uniem.review.at, k + 1, { timeout: 5000 });
    const v = await page.evaluate(() => ({ key: window.uniem.review.at, selected: window.uniem.selected, z: window.uniem.z,
      panel: document.getElementById('review-current').textContent, message: document.getElementById('message').textContent }));
    visits.push(v);
    if (v.key === `segment/${specks[0]}`) await shot('review-2-small-fragment.png');
    if (v.key === `segment/${gapped}`) {
      check(v.z === 1 && /gap: missing in section 2, present in sections 1 and 3/.test(v.panel), `the gap is shown on section 1 and said: ${v.panel}`);
      await shot('review-3-gap.png');
    }
    if (v.key.startsWith('marker/')) {
      check(/two cells here\?/.test(v.panel) && v.z === 2, `the marker is shown with its note: ${v.panel}`);
      await shot('review-4-marker.png');
    }
  }
  const keys = visits.map((v) => v.key);
  check(new Set(keys).size === open, `R showed ${open} different problems: ${keys}`);
  check(keys[0].startsWith('marker/'), 'the marker comes first');
  const shownSmall = keys.filter((k) => k.startsWith('segment/')).map((k) => Number(k.slice(8))).filter((id) => small.includes(id));
  check(JSON.stringify([...shownSmall].sort((a, b) => a - b)) === JSON.stringify(small), `every small fragment once: ${shownSmall} (expected ${small})`);
  for (const v of visits.filter((x) => x.key.startsWith('segment/')))
    check(v.selected === Number(v.key.slice(8)) && /^Problem/.test(v.message), `segment ${v.key} is selected and said: ${v.message}`);
  const smallVisit = visits.find((v) => v.key === `segment/${specks[1]}`);
  check(/small fragment: \d+ voxels, fewer than/.test(smallVisit.panel), `the panel says why: ${smallVisit.panel}`);

  // 2. C marks the segment shown checked: the progress counts it, its row is ticked.
  await page.keyboard.press('r');  // back to the first problem, the marker: its segment is not a small one
  await page.waitForFunction(() => window.uniem.review.shown.startsWith('marker/'), null, { timeout: 5000 });
  await page.keyboard.press('r');
  await page.waitForFunction((k) => window.uniem.review.shown === k, keys[1], { timeout: 5000 });
  check(keys[1].startsWith('segment/') && keys[2].startsWith('segment/'), `segments come after the marker: ${keys}`);
  const first = Number(keys[1].slice(8)), firstVoxels = segments.find((s) => s.id === first).voxels;
  await page.keyboard.press('c');
  await waitText('#review-progress', new RegExp(`^1 of ${segments.length} segments checked; ${firstVoxels.toLocaleString('en')} of`));
  check(new RegExp(`^Segment ${first} marked checked: 1 of ${segments.length} segments checked now; R: the next problem \\(${open - 1} problems left\\) - undo with Ctrl\\+Z$`).test(await text('#message')),
    `C says what it did: ${await text('#message')}`);
  await page.waitForFunction((id) => document.querySelector(`#segments tr[data-id="${id}"] input.checked-box`)?.checked, first, { timeout: 5000 });
  check(/Checked by you/.test(await text('#review-current')), `the panel says it is checked: ${await text('#review-current')}`);
  await shot('review-5-checked.png');

  // R goes on to the next problem still open; the checked one is not shown again.
  await page.keyboard.press('r');
  await page.waitForFunction((k) => window.uniem.review.shown === k, keys[2], { timeout: 5000 });
  check(new RegExp(`^Problem 2 of ${open - 1}:`).test(await text('#review-current')), `one problem fewer: ${await text('#review-current')}`);

  // 3. A row's tick box marks another (a small fragment) checked.
  const second = small.find((id) => id !== first);
  await page.fill('#search', String(second));
  await page.waitForFunction((id) => document.querySelector(`#segments tr[data-id="${id}"] input.checked-box`), second, { timeout: 5000 });
  await page.click(`#segments tr[data-id="${second}"] input.checked-box`);
  await waitText('#review-progress', new RegExp(`^2 of ${segments.length} segments checked`));
  await page.waitForFunction((id) => document.querySelector(`#segments tr[data-id="${id}"] input.checked-box`)?.checked, second, { timeout: 5000 });
  const bothVoxels = firstVoxels + segments.find((s) => s.id === second).voxels;
  check((await text('#review-progress')).includes(`${bothVoxels.toLocaleString('en')} of ${totalVoxels.toLocaleString('en')} voxels`), `the voxels of both: ${await text('#review-progress')}`);
  await shot('review-6-ticked.png');

  // 4. Ctrl+Z takes the last mark back, Ctrl+Y gives it again.
  await page.locator('#view').hover();
  await page.keyboard.press('Control+z');
  await waitText('#review-progress', new RegExp(`^1 of ${segments.length} segments checked`));
  check(new RegExp(`^Undid your check of segment ${second} - redo with Ctrl\\+Y`).test(await text('#message')), `undo is said: ${await text('#message')}`);
  await page.keyboard.press('Control+y');
  await waitText('#review-progress', new RegExp(`^2 of ${segments.length} segments checked`));

  // 5. After a reload the marks are there: the server keeps them.
  await page.reload();
  await page.waitForFunction(() => window.uniem && window.uniem.ready && window.uniem.review.data);
  await waitText('#review-progress', new RegExp(`^2 of ${segments.length} segments checked; ${bothVoxels.toLocaleString('en')} of`));
  check(/^\d+ problems to look at/.test(await text('#review-open')) && Number((await text('#review-open')).split(' ')[0]) === open - 2, `two problems fewer after the reload: ${await text('#review-open')}`);
  const queued = await page.evaluate(() => window.uniem.review.items.filter((i) => i.kind === 'segment' && i.candidate.checked_by).map((i) => [i.id, i.candidate.checked_by]));
  check(JSON.stringify(queued.sort()) === JSON.stringify([[first, me], [second, me]].sort()), `both checked by ${me}: ${JSON.stringify(queued)}`);
  await shot('review-7-after-reload.png');

  // 6. The export's segment table has the checked column.
  await page.click('#export');
  await page.waitForFunction(() => /exported version/.test(document.getElementById('message').textContent), null, { timeout: 10000 });
  const v = await page.evaluate(() => window.uniem.version);
  const csv = readFileSync(`${work}/project/exports/labels-v${v}.segments.csv`, 'utf8').trim().split('\n');
  check(csv[0] === 'id,name,colour,locked_by,voxels,checked,checked_by', `the table's header: ${csv[0]}`);
  const rows = new Map(csv.slice(1).map((line) => { const f = line.split(','); return [Number(f[0]), f]; }));
  check(rows.size === segments.length, `a row per segment (${rows.size})`);
  for (const [id, f] of rows) {
    const checked = id === first || id === second;
    check(f[5] === String(checked) && f[6] === (checked ? me : ''), `segment ${id}: checked ${f[5]} by '${f[6]}'`);
  }
  const table = JSON.parse(readFileSync(`${work}/project/exports/labels-v${v}.segments.json`, 'utf8'));
  check(table.segments.filter((s) => s.checked).map((s) => s.id).sort().join() === [first, second].sort().join(), 'the JSON table says the same');
  await shot('review-8-exported.png');

  // 7. The usual fix of a fragment is to delete it: R then goes on from where it was, not back to the start.
  await page.keyboard.press('r');
  await page.waitForFunction(() => window.uniem.review.shown.startsWith('marker/'), null, { timeout: 5000 });
  await page.keyboard.press('r');
  await page.waitForFunction(() => window.uniem.review.shown.startsWith('segment/'), null, { timeout: 5000 });
  const [shownKey, following] = await page.evaluate(() => {
    const open = window.uniem.review.items.filter((i) => i.kind === 'marker' || !i.candidate.checked_by);
    const k = open.findIndex((i) => i.key === window.uniem.review.shown);
    return [open[k].key, open[k + 1].key];
  });
  const deleted = Number(shownKey.slice(8)), before = await page.evaluate(() => window.uniem.version);
  page.once('dialog', (d) => d.accept());
  await page.click(`#segments tr[data-id="${deleted}"] button[title^="delete"]`);
  await page.waitForFunction((v) => window.uniem.version > v, before, { timeout: 5000 });
  await page.keyboard.press('r');
  await page.waitForFunction((k) => window.uniem.review.shown === k, following, { timeout: 5000 });
  check(!(await page.evaluate(() => window.uniem.review.items.map((i) => i.key))).includes(shownKey), `the deleted segment ${deleted} left the queue`);
  await waitText('#segment-count', new RegExp(`^\\(${segments.length - 1}\\)$`));
  await shot('review-9-after-delete.png');

  console.log(`ok: the review queue showed ${open} problems once each, every one of the ${small.length} small fragments among them; marks by C and by a row's tick box counted, undone, kept after a reload and exported`);
} catch (e) {
  error = e;
}
process.exit(await finish({ error, exitCode, pages, work, browser, server }));
