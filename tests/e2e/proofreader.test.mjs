// The proofreader in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven by
// playwright-core. A project is made from `uniem synth`; one page paints a stroke, merges two
// segments, splits one, undoes and redoes, and exports; a second browser context must see each
// edit; the exported stack, read back by uniem, must hold exactly what the server shows.
// Usage: node proofreader.test.mjs UNIEM_BINARY WORK_DIR. Exit 77 (skipped) without Chromium or
// playwright-core; screenshots of both pages are written to WORK_DIR on failure.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { uniem, serve, serveUsers, stop, json, labelVolume, check, launchChromium, finish, pageHelpers } from './server.mjs';

const [binary, work] = process.argv.slice(2);
const browser = await launchChromium();

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
uniem(binary, ['synth', `${work}/synth`, '--shape', '6,160,160', '--seed', '3']);
const server = await serve(binary, ['--images', `${work}/synth/image`, '--labels', `${work}/synth/neurons`, '--project', `${work}/project`]);
const base = server.url;
const pages = [];
let exitCode = 0, error = null;

async function open() {
  const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => { console.error(`page error: ${e.message}`); exitCode = 1; });
  await page.goto(base);
  await page.waitForFunction(() => window.uniem && window.uniem.ready && window.uniem.labels);
  pages.push(page);
  return page;
}
const version = (page) => page.evaluate(() => window.uniem.version);
const waitVersion = (page, v, timeout = 5000) =>
  page.waitForFunction((want) => window.uniem.version >= want, v, { timeout });
const screen = (page, y, x) => page.evaluate(([yy, xx]) => window.uniem.toScreen(yy, xx), [y, x]);
async function drag(page, points, shift = false) {
  if (shift) await page.keyboard.down('Shift');
  const [sx, sy] = await screen(page, ...points[0]);
  await page.mouse.move(sx, sy);
  await page.mouse.down();
  for (const p of points.slice(1)) {
    const [px, py] = await screen(page, ...p);
    await page.mouse.move(px, py, { steps: 4 });
  }
  await page.mouse.up();
  if (shift) await page.keyboard.up('Shift');
}
async function click(page, y, x) {
  const [sx, sy] = await screen(page, y, x);
  await page.mouse.click(sx, sy);
}

try {
  const a = await open();
  const b = await open();
  const z = await a.evaluate(() => window.uniem.z);
  check(z === 3, `the page opens at the middle section (got ${z})`);

  // 1. Paint a stroke with a new id; both pages show it.
  await a.keyboard.press('3');
  check((await a.textContent('#mode')) === 'Paint', 'the mode indicator says Paint');
  await a.fill('#brush', '3');
  await drag(a, [[20, 20], [20, 60]]);
  await waitVersion(a, 1);
  await a.waitForFunction(() => /^[0-9]+$/.test(document.getElementById('brush-id').value), null, { timeout: 3000 });
  const painted = Number(await a.inputValue('#brush-id'));
  check(painted > 0, `the brush took the new id (${painted})`);
  let live = await labelVolume(base);
  check(live.at(z, 20, 40) === painted && live.at(z, 22, 40) === painted && live.at(z, 26, 40) !== painted,
    'the stroke is on the server, 3 voxels wide each side');
  await waitVersion(b, 1, 3000);
  await b.waitForFunction((id) => window.uniem.labels[20 * window.uniem.lw + 40] === id, painted, { timeout: 3000 });

  // 2. Merge two segments by clicking them; Enter merges into the first.
  const ids = [];
  for (const [y, x] of [[80, 80], [80, 130], [130, 80], [130, 130], [40, 120], [120, 30]]) {
    const id = live.at(z, y, x);
    if (id && id !== painted && !ids.some((q) => q.id === id)) ids.push({ id, y, x });
  }
  check(ids.length >= 3, 'the synthetic section has at least three segments to pick');
  await a.keyboard.press('1');
  await click(a, ids[0].y, ids[0].x);
  await click(a, ids[1].y, ids[1].x);
  await a.keyboard.press('Enter');
  await waitVersion(a, 2);
  live = await labelVolume(base);
  check(live.at(z, ids[1].y, ids[1].x) === ids[0].id, `segment ${ids[1].id} joined ${ids[0].id}`);
  check(new RegExp(`^Merged ${ids[1].id} into segment ${ids[0].id} \\([\\d,]+ voxels relabelled\\) - undo with Ctrl\\+Z`).test(await a.textContent('#message')), `the merge is said: ${await a.textContent('#message')}`);
  const gone = await json(`${base}api/segment?id=${ids[1].id}`).then(() => false, (e) => e.status === 404);
  check(gone, `segment ${ids[1].id} no longer exists`);
  await b.waitForFunction(([y, x, id]) => window.uniem.labels[y * window.uniem.lw + x] === id,
    [ids[1].y, ids[1].x, ids[0].id], { timeout: 3000 });

  // 3. Split the third segment: seeds on it (group 1 drag, group 2 shift-drag), Enter.
  const target = ids[2].id;
  const pixels = [];
  for (let y = 0; y < 160; ++y) for (let x = 0; x < 160; ++x) if (live.at(z, y, x) === target) pixels.push([y, x]);
  pixels.sort((p, q) => p[1] - q[1] || p[0] - q[0]);
  const left = pixels[Math.floor(pixels.length * 0.1)], right = pixels[Math.floor(pixels.length * 0.9)];
  await a.keyboard.press('2');
  await click(a, ...left);
  await drag(a, [left, left]);
  await drag(a, [right, right], true);
  const seeds = await a.evaluate(() => window.uniem.seeds.length);
  check(seeds >= 2, `split seeds were drawn (${seeds})`);
  await a.keyboard.press('Enter');
  await waitVersion(a, 3);
  live = await labelVolume(base);
  const part = live.at(z, ...right);
  check(part !== target && part > 0 && live.at(z, ...left) === target, `the split gave the right side a new id (${part})`);
  check(new RegExp(`^Split segment ${target}: the orange part \\([\\d,]+ voxels\\) is now segment ${part}`).test(await a.textContent('#message')), `the split is said: ${await a.textContent('#message')}`);
  await b.waitForFunction(([y, x, id]) => window.uniem.labels[y * window.uniem.lw + x] === id, [...right, part], { timeout: 3000 });

  // 4. Undo (Ctrl+Z) and redo (Ctrl+Y) the split.
  await a.keyboard.press('Control+z');
  await waitVersion(a, 4);
  check((await labelVolume(base)).at(z, ...right) === target, 'undo joined the split again');
  await a.waitForFunction(([y, x, id]) => window.uniem.labels[y * window.uniem.lw + x] === id, [...right, target], { timeout: 3000 });
  await a.keyboard.press('Control+y');
  await waitVersion(a, 5);
  check((await labelVolume(base)).at(z, ...right) === part, 'redo split it again');

  // 5. Another user's lock is respected: B locks a segment, A's paint on it is refused and shown.
  await b.evaluate(() => { document.getElementById('user').value = 'bea'; });
  const lockId = ids[0].id;
  await json(`${base}api/edit`, { op: 'lock', user: 'bea', version: 5, id: lockId });
  await waitVersion(a, 6);
  await a.keyboard.press('3');
  await a.fill('#brush-id', String(painted));
  await drag(a, [[ids[0].y, ids[0].x], [ids[0].y, ids[0].x + 2]]);
  await a.waitForFunction(() => /locked by bea/.test(document.getElementById('message').textContent), null, { timeout: 5000 });
  check(await version(a) === 6, 'the refused stroke changed nothing');
  // A's page offers no button that cannot work: bea's lock is greyed and says who holds it; L says why.
  const lockButton = `#segments tr[data-id="${lockId}"] button`;
  await a.waitForFunction((s) => { const e = document.querySelector(s); return e && e.textContent === 'unlock' && e.disabled; }, lockButton, { timeout: 5000 });
  const lockTitle = await a.getAttribute(lockButton, 'title');
  check(/locked by bea: only bea can unlock/.test(lockTitle), `the greyed unlock says who holds the lock: ${lockTitle}`);
  check(await a.textContent(`#segments tr[data-id="${lockId}"] td:nth-child(4)`) === 'bea', 'the lock column names bea');
  await a.keyboard.press('l');
  check(/locked by bea: only bea can unlock/.test(await a.textContent('#message')), `L over bea's segment says why: ${await a.textContent('#message')}`);
  check(await version(a) === 6, 'L sent nothing');
  await b.waitForFunction((s) => { const e = document.querySelector(s); return e && e.textContent === 'unlock' && !e.disabled; }, lockButton, { timeout: 5000 });
  await pageHelpers(a, work).shot('lock-of-another.png', a);

  // 6. Export from the page; uniem reads the stack back: every voxel as the server has it.
  await a.click('#export');
  await a.waitForFunction(() => /exported version 6/.test(document.getElementById('message').textContent), null, { timeout: 10000 });
  live = await labelVolume(base);
  const reread = await serve(binary, ['--images', `${work}/synth/image`, '--labels', `${work}/project/exports/labels-v6.tif`, '--project', `${work}/reread`]);
  const exported = await labelVolume(reread.url);
  await stop(reread);
  let differ = 0;
  for (let k = 0; k < live.sections.length; ++k) for (let i = 0; i < live.sections[k].length; ++i) differ += live.sections[k][i] !== exported.sections[k][i];
  check(differ === 0, `the exported stack equals the live labels (${differ} voxels differ)`);
  check(exported.at(z, 20, 40) === painted && exported.at(z, ...right) === part, 'the export holds the stroke and the split');
  // Its tables, linked from the message; `uniem export`, while the server runs, writes the same.
  check((await a.$$eval('#message a', (l) => l.map((e) => e.textContent))).join() === 'download,segments.csv,segments.json,markers.csv,markers.json', 'the message links the stack and its tables');
  const table = readFileSync(`${work}/project/exports/labels-v6.segments.csv`, 'utf8'), cli = (uniem(binary, ['export', `${work}/project`, `${work}/cli.tif`]), readFileSync(`${work}/cli.segments.csv`, 'utf8'));
  check(/,bea,/.test(table) && cli === table, `the segments table names the lock holder, from the page and from uniem export:\n${table.slice(0, 200)}`);

  // 7. Contrast: the inputs, the keys and 'auto' ask the server for the image in that window.
  const asked = b.waitForRequest((r) => /api\/image\?.*lo=50&hi=100/.test(r.url()), { timeout: 5000 });
  await b.fill('#window-lo', '50');
  await b.fill('#window-hi', '100');
  await b.press('#window-hi', 'Tab');
  check((await (await asked).response()).status() === 200, 'the image in the window 50..100 was served');
  await b.waitForFunction(() => window.uniem.imageKey.endsWith('/50/100') && window.uniem.image.naturalWidth > 0, null, { timeout: 5000 });
  await b.locator('#view').hover();
  await b.keyboard.press('[');
  const narrowed = await b.evaluate(() => window.uniem.window);
  check(narrowed[1] - narrowed[0] < 50 && narrowed[0] > 50, `[ narrows the window (${narrowed})`);
  await b.click('#window-auto');
  const info = await json(`${base}api/info`);
  check(JSON.stringify(await b.evaluate(() => window.uniem.window)) === JSON.stringify(info.window.map(Math.round)), "'auto' restores the project's window");

  // 8. The segment list, a page at a time, sorted and searched by the server.
  const all = await json(`${base}api/segments`);
  await b.evaluate(() => { window.uniem.segmentPage = 3; });
  await b.click('[data-sort="voxels"]');  // largest first
  await b.waitForFunction((n) => document.querySelectorAll('#segments tbody tr').length === 3 &&
    document.getElementById('segment-range').textContent === `1-3 of ${n}`, all.length, { timeout: 5000 });
  const largest = [...all].sort((p, q) => q.voxels - p.voxels || p.id - q.id).map((q) => q.id);
  const rowIds = () => b.evaluate(() => [...document.querySelectorAll('#segments tbody tr')].map((r) => Number(r.dataset.id)));
  check(JSON.stringify(await rowIds()) === JSON.stringify(largest.slice(0, 3)), 'the first page holds the three largest segments');
  await b.click('#next-segments');
  await b.waitForFunction((n) => document.getElementById('segment-range').textContent === `4-6 of ${n}`, all.length, { timeout: 5000 });
  check(JSON.stringify(await rowIds()) === JSON.stringify(largest.slice(3, 6)), 'the next page holds the next three');
  await b.fill('#search', String(painted));
  await b.waitForFunction(() => /found/.test(document.getElementById('segment-range').textContent), null, { timeout: 5000 });
  const found = await rowIds();
  check(found.length > 0 && found.every((id) => String(id).includes(String(painted))), `searching ${painted} lists only ids that hold it (${found})`);

  // 9. After Enter or Esc in a box the keys drive the viewer again (they went into the box).
  await json(`${base}api/edit`, { op: 'unlock', user: 'bea', version: (await json(`${base}api/info`)).version, id: lockId });
  const c = await open();
  const { shot } = pageHelpers(c, work);
  const cz = () => c.evaluate(() => window.uniem.z);
  const focused = () => c.evaluate(() => document.activeElement.id || document.activeElement.tagName);
  await c.fill('#user', 'cleo');
  await c.press('#user', 'Enter');
  await c.fill('#slice', '1');
  await c.press('#slice', 'Enter');
  await c.waitForFunction(() => window.uniem.z === 1, null, { timeout: 3000 });
  check(await focused() === 'BODY', `Enter left the section box (focus on ${await focused()})`);
  await c.keyboard.press('w');
  await c.waitForFunction(() => window.uniem.z === 2, null, { timeout: 3000 }).catch(() => {});
  check(await cz() === 2, `W after Enter in the section box goes to section 2 (at ${await cz()})`);
  await c.fill('#brush', '6');
  await c.press('#brush', 'Escape');
  check(await focused() === 'BODY', `Esc left the brush box (focus on ${await focused()})`);
  await c.keyboard.press('s');
  await c.waitForFunction(() => window.uniem.z === 1, null, { timeout: 3000 }).catch(() => {});
  check(await cz() === 1 && await c.inputValue('#brush') === '6', `S after Esc in the brush box goes to section 1 (at ${await cz()}), the brush stays 6`);

  // 10. Jumping to a segment absent from the middle section of its box goes where it is.
  let v = (await json(`${base}api/info`)).version;
  const far = await json(`${base}api/edit`, { op: 'paint', user: 'bea', version: v, z: 0, points: [[10, 10]], radius: 3, id: 'new' });
  await json(`${base}api/edit`, { op: 'paint', user: 'bea', version: far.version, z: 5, points: [[150, 150]], radius: 3, id: far.id });
  await waitVersion(c, far.version + 1);  // (the page has heard of both: their news does not cover what the jump says)
  await c.fill('#jump', String(far.id));
  await c.press('#jump', 'Enter');
  await c.waitForFunction((id) => window.uniem.labels && window.uniem.labels.includes(id), far.id, { timeout: 5000 }).catch(() => {});
  const centre = await c.evaluate(() => {
    const s = window.uniem, view = document.getElementById('view');
    return [s.z, Math.round((view.height / 2 - s.oy) / s.scale - 0.5), Math.round((view.width / 2 - s.ox) / s.scale - 0.5)];
  });
  live = await labelVolume(base);
  check(live.at(...centre) === far.id, `the jump to segment ${far.id} (sections 0 and 5) centres on it: z ${centre}, there ${live.at(...centre)}`);
  check(/on sections 0 to 5; shown here on section 0/.test(await c.textContent('#message')), `the page says where: ${await c.textContent('#message')}`);
  await shot('jump-to-segment-off-the-middle.png', c);
  await c.keyboard.press('w');
  await c.waitForFunction((z) => window.uniem.z === z + 1, centre[0], { timeout: 3000 });  // the keys work after the jump
  await c.keyboard.press('s');
  await c.waitForFunction((z) => window.uniem.z === z, centre[0], { timeout: 3000 });

  // 11. Undoing a paint with a new id: the brush goes back to 'new' and the next stroke is saved.
  // (H fits the section to the view again after the jump: the strokes of 11 and 12 lie within it.)
  await c.keyboard.press('h');
  await c.keyboard.press('3');
  await drag(c, [[40, 20], [40, 50]]);
  await c.waitForFunction(() => /^[0-9]+$/.test(document.getElementById('brush-id').value), null, { timeout: 5000 });
  const undone = Number(await c.inputValue('#brush-id'));
  await c.keyboard.press('Control+z');
  await c.waitForFunction(() => document.getElementById('brush-id').value === 'new', null, { timeout: 5000 }).catch(() => {});
  check(await c.inputValue('#brush-id') === 'new', `after undoing the paint of ${undone} the brush is 'new' (${await c.inputValue('#brush-id')})`);
  check(/no longer exists/.test(await c.textContent('#message')), `the page says why: ${await c.textContent('#message')}`);
  await shot('brush-after-undo.png', c);
  v = await version(c);
  await drag(c, [[55, 20], [55, 50]]);
  await waitVersion(c, v + 1);
  await c.waitForFunction(() => /^[0-9]+$/.test(document.getElementById('brush-id').value), null, { timeout: 5000 });
  const again = Number(await c.inputValue('#brush-id'));
  check((await labelVolume(base)).at(centre[0], 55, 35) === again && again > 0, `the next stroke was saved as segment ${again}`);

  // 12. A stroke the server does not answer: not shown as saved, said plainly, redrawn when it answers.
  const down = /\/api\//;
  const refuse = (r) => r.abort('connectionrefused');
  await c.route(down, refuse);
  v = await version(c);
  const before = (await labelVolume(base)).at(centre[0], 70, 35);
  await drag(c, [[70, 20], [70, 50]]);
  await c.waitForFunction(() => /did not answer; this stroke was not saved/.test(document.getElementById('message').textContent), null, { timeout: 5000 }).catch(() => {});
  check(/the server did not answer; this stroke was not saved/.test(await c.textContent('#message')), `the message says the stroke was not saved: ${await c.textContent('#message')}`);
  check(await c.evaluate(() => window.uniem.stroke) === null, 'the stroke is no longer drawn');
  check(await version(c) === v && (await labelVolume(base)).at(centre[0], 70, 35) === before, 'the server has not got it');
  await shot('stroke-not-saved.png', c);
  const other = await json(`${base}api/edit`, { op: 'paint', user: 'bea', version: v, z: centre[0], points: [[85, 85]], radius: 3, id: 'new' });
  await c.unroute(down, refuse);
  await c.waitForFunction((id) => window.uniem.labels[85 * window.uniem.lw + 85] === id &&
    /answers again/.test(document.getElementById('message').textContent), other.id, { timeout: 5000 }).catch(() => {});
  const shown = await c.evaluate(() => [...window.uniem.labels]);
  live = await labelVolume(base);
  check(shown.every((id, i) => id === live.sections[centre[0]][i]), 'once the server answers the section is as the server has it');
  check(/answers again/.test(await c.textContent('#message')), `the page says the server is back: ${await c.textContent('#message')}`);
  await shot('stroke-not-saved-server-back.png', c);
  // 13. Protect others (defect 7): a protected stroke paints only background and its own segment,
  // a protected erase takes only the segment it starts on; a stroke on a place somebody changed
  // after the page's version is refused and said.
  const zc = centre[0];
  const sectionOf = async () => (await labelVolume(base)).sections[zc];
  const changedBetween = (was, now) => { const out = []; for (let i = 0; i < was.length; ++i) if (was[i] !== now[i]) out.push(i); return out; };
  v = (await json(`${base}api/info`)).version;
  await json(`${base}api/edit`, { op: 'erase', user: 'bea', version: v, z: zc, points: [[100, 100]], radius: 7 });
  await waitVersion(c, v + 1);
  await c.keyboard.press('h');
  await c.check('#protect');
  await c.fill('#brush-id', 'new');
  await c.press('#brush-id', 'Enter');
  let was = await sectionOf();
  v = await version(c);
  await drag(c, [[100, 86], [100, 114]]);
  await waitVersion(c, v + 1);
  let now = await sectionOf();
  const protectedId = now[100 * 160 + 100];
  let diff = changedBetween(was, now);
  check(protectedId > 0 && diff.length > 0 && diff.every((i) => was[i] === 0 && now[i] === protectedId),
    `the protected stroke changed only background voxels (${diff.length}, all into ${protectedId})`);
  check(was[100 * 160 + 88] !== 0 && now[100 * 160 + 88] === was[100 * 160 + 88], 'the segment under the stroke outside the hole kept its voxel');
  await c.waitForFunction(() => /^Painted \d+ voxels into segment \d+.*other segments protected - undo with Ctrl\+Z/.test(document.getElementById('message').textContent), null, { timeout: 3000 });
  check((await c.textContent('#message')).includes(`Painted ${diff.length} voxels into segment ${protectedId}`), `the message gives the count: ${await c.textContent('#message')}`);
  await shot('protect-others-paint.png', c);
  await c.keyboard.press('4');
  was = now;
  v = await version(c);
  await drag(c, [[100, 100], [100, 120]]);
  await waitVersion(c, v + 1);
  now = await sectionOf();
  diff = changedBetween(was, now);
  check(diff.length > 0 && diff.every((i) => was[i] === protectedId && now[i] === 0), `the protected erase took only segment ${protectedId} (${diff.length} voxels)`);
  check(/^Erased \d+ voxels of segment \d+ to background/.test(await c.textContent('#message')), `the erase is said: ${await c.textContent('#message')}`);
  // Bea paints at 30, 130; Cleo's page has not heard of it (its version is set back) and paints there.
  v = await version(c);
  await json(`${base}api/edit`, { op: 'paint', user: 'bea', version: v, z: zc, points: [[30, 130]], radius: 4, id: 'new' });
  await waitVersion(c, v + 1);
  await c.evaluate((old) => { window.uniem.version = old; }, v);
  was = await sectionOf();
  await c.keyboard.press('3');
  await c.uncheck('#protect');
  await drag(c, [[30, 124], [30, 136]]);
  await c.waitForFunction(() => /changed by bea/.test(document.getElementById('message').textContent), null, { timeout: 5000 });
  check(changedBetween(was, await sectionOf()).length === 0, 'the stale stroke changed nothing');
  await shot('stale-stroke-refused.png', c);
  await c.evaluate(async () => { window.uniem.version = (await api('api/info')).version; });  // as its events would have it

  // 14. Fill (defect 3): a click shows in yellow what would change and changes nothing; Esc
  // cancels; Enter fills exactly the previewed voxels, background only; a large fill asks first.
  await c.keyboard.press('f');
  await c.fill('#brush-id', String(lockId));
  await c.press('#brush-id', 'Enter');
  v = (await json(`${base}api/info`)).version;
  await waitVersion(c, v);
  was = await sectionOf();
  const hole = await json(`${base}api/fill?z=${zc}&y=100&x=100`);
  await click(c, 100, 100);
  await c.waitForFunction(() => !document.getElementById('fill-prompt').hidden, null, { timeout: 3000 });
  check((await c.textContent('#fill-text')).includes(`${hole.voxels.toLocaleString('en')} voxels of background`), `the preview says the count: ${await c.textContent('#fill-text')}`);
  check(await version(c) === v && changedBetween(was, await sectionOf()).length === 0, 'the preview changed nothing');
  await shot('fill-preview.png', c);
  await c.keyboard.press('Escape');
  check(await c.evaluate(() => window.uniem.fill === null && document.getElementById('fill-prompt').hidden), 'Esc cancelled the fill');
  await click(c, 100, 100);
  await c.waitForFunction(() => window.uniem.fill !== null, null, { timeout: 3000 });
  await c.keyboard.press('Enter');
  await waitVersion(c, v + 1);
  now = await sectionOf();
  diff = changedBetween(was, now);
  check(diff.length === hole.voxels && diff.every((i) => was[i] === 0 && now[i] === lockId), `the fill changed the ${hole.voxels} previewed background voxels (${diff.length})`);
  check(/^Filled \d+ voxels of section \d+ with segment \d+ - undo with Ctrl\+Z/.test(await c.textContent('#message')), `the fill is said: ${await c.textContent('#message')}`);
  // A fill larger than the limit (made small here by the answer) says so and waits.
  const small = (route) => route.fetch().then((r) => r.json()).then((j) => route.fulfill({ json: { ...j, large: true, limit: 1000 } }));
  await c.route(/api\/fill/, small);
  const onOther = [[100, 80], [60, 60], [130, 40], [40, 100]].find(([y, x]) => now[y * 160 + x] !== lockId && now[y * 160 + x] !== 0);
  await click(c, ...onOther);  // a segment other than the brush's
  await c.waitForFunction(() => document.getElementById('fill-prompt').className === 'large', null, { timeout: 3000 });
  check(/more than 1,000: is the outline closed/.test(await c.textContent('#fill-text')), `a large fill asks: ${await c.textContent('#fill-text')}`);
  await shot('fill-large-asks.png', c);
  await c.click('#fill-cancel');
  await c.unroute(/api\/fill/, small);

  // 15. Messages (defect 6): undo and redo say what they did; a message goes after some seconds.
  await c.keyboard.press('Control+z');
  await c.waitForFunction(() => /^Undid your fill of segment \d+ \(\d+ voxels back/.test(document.getElementById('message').textContent), null, { timeout: 3000 });
  await c.keyboard.press('Control+y');
  await c.waitForFunction(() => /^Redid your fill/.test(document.getElementById('message').textContent), null, { timeout: 3000 });
  await c.evaluate(() => { window.uniem.messageSeconds = 0.3; });
  await c.keyboard.press('Control+z');
  await c.waitForFunction(() => /^Undid/.test(document.getElementById('message').textContent), null, { timeout: 3000 });
  await c.waitForFunction(() => document.getElementById('message').textContent === '', null, { timeout: 2000 });
  await c.evaluate(() => { window.uniem.messageSeconds = 6; });

  // 16. The view (defect 5): zoom within fit/4 .. 32 pixels a voxel; H fits; a resize fits again
  // unless the user zoomed; a jump to a segment zooms so that it shows whole.
  const view = () => c.evaluate(() => {
    const s = window.uniem, cv = document.getElementById('view');
    return { scale: s.scale, fit: Math.min(cv.width / s.info.shape[2], cv.height / s.info.shape[1]), zoomed: s.zoomed };
  });
  await c.keyboard.press('0');
  await c.locator('#view').hover();
  await c.keyboard.down('Control');  // Ctrl+wheel zooms; the wheel alone moves through the sections
  for (let k = 0; k < 12; ++k) await c.mouse.wheel(0, 400);
  let w = await view();
  check(Math.abs(w.scale - w.fit / 4) < 1e-9, `zooming out stops at a quarter of the fit (${w.scale} vs ${w.fit})`);
  for (let k = 0; k < 30; ++k) await c.mouse.wheel(0, -400);
  await c.keyboard.up('Control');
  w = await view();
  check(w.scale === 32, `zooming in stops at 32 pixels a voxel (${w.scale})`);
  await c.keyboard.press('Home');
  w = await view();
  check(w.scale === w.fit && !w.zoomed, `Home fits the section (${w.scale} vs ${w.fit})`);
  await c.setViewportSize({ width: 900, height: 600 });
  await c.waitForFunction(() => { const cv = document.getElementById('view'); return cv.width === Math.round(cv.getBoundingClientRect().width); });
  await c.waitForTimeout(100);
  w = await view();
  check(Math.abs(w.scale - w.fit) < 1e-9, `after a resize the section fits the new view (${w.scale} vs ${w.fit})`);
  await c.keyboard.down('Control');
  await c.mouse.wheel(0, -400);
  await c.keyboard.up('Control');
  const zoomedIn = (await view()).scale;
  await c.setViewportSize({ width: 1100, height: 700 });
  await c.waitForTimeout(150);
  check((await view()).scale === zoomedIn, 'after the user zoomed, a resize keeps the zoom');
  await c.click('#fit');
  check((await view()).scale === (await view()).fit, 'the Fit button fits');
  const big = largest[0];
  await c.fill('#jump', String(big));
  await c.press('#jump', 'Enter');
  await c.waitForFunction(() => /shown here on section/.test(document.getElementById('message').textContent), null, { timeout: 5000 });
  await c.waitForTimeout(200);
  const shows = await c.evaluate((id) => {
    const s = window.uniem, cv = document.getElementById('view'), step = 1 << s.level, r = cv.getBoundingClientRect();
    let all = 0, seen = 0;
    for (let y = 0; y < s.lh; ++y) for (let x = 0; x < s.lw; ++x) if (s.labels[y * s.lw + x] === id) {
      ++all;
      const [px, py] = s.toScreen(y * step, x * step);
      if (px >= r.left && px <= r.right && py >= r.top && py <= r.bottom) ++seen;
    }
    return { all, seen, scale: s.scale };
  }, big);
  check(shows.all > 0 && shows.seen === shows.all && shows.scale > (await view()).fit, `the jump to segment ${big} shows all of it, zoomed in (${shows.seen}/${shows.all} at ${shows.scale})`);
  await shot('jump-zooms-to-segment.png', c);
  await c.keyboard.press('h');
  await c.fill('#slice', String(zc));
  await c.press('#slice', 'Enter');
  await c.waitForFunction((z) => window.uniem.labelKey === `${z}/0`, zc, { timeout: 3000 });

  // 17. The brush (defect 9): what the ring and the stroke show is what the server paints.
  await c.keyboard.press('3');
  await c.fill('#brush-id', 'new');
  await c.fill('#brush', '5');
  await c.press('#brush', 'Enter');
  was = await sectionOf();
  v = await version(c);
  let [sx, sy] = await screen(c, 120.3, 30.6);
  await c.mouse.move(sx, sy);
  await c.mouse.down();
  [sx, sy] = await screen(c, 131.2, 58.4);
  await c.mouse.move(sx, sy, { steps: 5 });
  const drawn = await c.evaluate(() => [...window.uniem.stroke.voxels].sort((p, q) => p - q));
  await shot('brush-stroke-drawn.png', c);
  await c.mouse.up();
  await waitVersion(c, v + 1);
  diff = changedBetween(was, await sectionOf());
  check(JSON.stringify(diff) === JSON.stringify(drawn), `the stroke painted exactly the voxels drawn (${diff.length} painted, ${drawn.length} drawn)`);
  v = await version(c);
  const dot = await json(`${base}api/edit`, { op: 'paint', user: 'bea', version: v, z: zc, points: [[40.4, 120.7]], radius: 4.5, id: 'new' });
  const ring = await c.evaluate(() => window.uniem.brushVoxels([[40.4, 120.7]], 4.5));
  const dotVoxels = (await sectionOf()).reduce((a, id, i) => (id === dot.id ? [...a, i] : a), []);
  check(JSON.stringify(ring) === JSON.stringify(dotVoxels), `the ring's voxels are the ones one brush stamp paints (${ring.length} vs ${dotVoxels.length})`);
  // Deleting a segment from its row says how many voxels went (defect 6).
  await waitVersion(c, dot.version);
  c.once('dialog', (dialog) => dialog.accept());
  await c.fill('#search', String(dot.id));
  await c.press('#search', 'Enter');
  await c.waitForFunction((id) => document.querySelector(`#segments tr[data-id="${id}"]`), dot.id, { timeout: 3000 });
  await c.click(`#segments tr[data-id="${dot.id}"] button[title^="delete"]`);
  await waitVersion(c, dot.version + 1);
  check(new RegExp(`^Deleted segment ${dot.id} \\(${dotVoxels.length} voxels now background\\) - undo with Ctrl\\+Z`).test(await c.textContent('#message')), `the delete is said: ${await c.textContent('#message')}`);

  // 18. The panel and the toolbar (defect 11), at 1440 pixels wide.
  const d = await (async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => { console.error(`page error: ${e.message}`); exitCode = 1; });
    const missing = [];
    page.on('response', (r) => { if (r.status() === 404) missing.push(r.url()); });
    await page.goto(base);
    await page.waitForFunction(() => window.uniem && window.uniem.ready && window.uniem.labels);
    pages.push(page);
    page.missing = missing;
    return page;
  })();
  for (const tool of ['3', '2', 'f', '0']) {  // each tool shows its own options
    await d.keyboard.press(tool);
    const rows = await d.evaluate(() => new Set([...document.querySelectorAll('#bar > *')].map((e) => e.getBoundingClientRect())
      .filter((r) => r.width > 0).map((r) => Math.round(r.top + r.height / 2))).size);
    check(rows === 1, `the toolbar is one row at 1440 pixels with tool ${tool} (${rows} rows)`);
  }
  const markerPanel = await d.evaluate(() => { const r = document.getElementById('marker-panel').getBoundingClientRect(); return [r.top, r.bottom, innerHeight]; });
  check(markerPanel[1] <= markerPanel[2] && markerPanel[0] < markerPanel[2] - 50, `the markers panel is in view (${markerPanel})`);
  await d.click('[data-sort="voxels"]');
  await d.waitForFunction(() => /\u25bc/.test(document.querySelector('[data-sort="voxels"]').textContent), null, { timeout: 3000 });
  const rowId = await d.evaluate(() => Number(document.querySelector('#segments tbody tr:nth-child(2)').dataset.id));
  await d.click('#segments tbody tr:nth-child(2) td:nth-child(2)');
  await d.waitForFunction((id) => window.uniem.selected === id && document.querySelector(`#segments tr[data-id="${id}"]`).className === 'selected', rowId, { timeout: 3000 });
  await d.waitForFunction(() => /shown here on section/.test(document.getElementById('message').textContent), null, { timeout: 5000 });
  await shot('panel-at-1440.png', d);
  // W held on slow sections: only the newest is asked for.
  const slow = (route) => setTimeout(() => route.continue().catch(() => {}), 300);
  await d.route(/api\/labels/, slow);
  const askedBefore = await d.evaluate(() => window.uniem.sectionRequests);
  const z0 = await d.evaluate(() => window.uniem.z);
  await d.locator('#view').hover();
  for (let k = 0; k < 5; ++k) await d.keyboard.press('s');
  await d.waitForFunction((z) => window.uniem.z === Math.max(0, z - 5) && window.uniem.labelKey.startsWith(`${window.uniem.z}/`), z0, { timeout: 5000 });
  await d.waitForTimeout(700);
  const requests = await d.evaluate(() => window.uniem.sectionRequests) - askedBefore;
  check(requests <= 2, `five presses of S asked for ${requests} sections (the one loading and the newest)`);
  await d.unroute(/api\/labels/, slow);
  check(d.missing.length === 0, `no request of the page was answered 404 (${d.missing})`);
  check(await d.evaluate(() => !!document.querySelector('link[rel="icon"]')), 'the page has its icon');

  // 20. Side views (xz, yz): the cuts through the point clicked, voxel for voxel the exported
  // stack's, drawn to scale (30 x 6 x 6 nm voxels: a section 5 times as tall as a voxel is wide).
  const { file: sideFile } = await json(`${base}api/export`, { format: 'tif' });
  const sideRead = await serve(binary, ['--images', `${work}/synth/image`, '--labels', `${work}/project/exports/${sideFile}`, '--project', `${work}/reread-side`]);
  const stack = await labelVolume(sideRead.url);
  await stop(sideRead);
  await d.keyboard.press('0');
  await d.locator('#view').hover();
  await d.keyboard.press('v');
  await d.waitForFunction(() => !document.getElementById('planes').hidden && window.uniem.planes.xz.labels && window.uniem.planes.yz.labels, null, { timeout: 5000 });
  await d.keyboard.press('h');  // the whole section in view
  const [y0, x0] = [57, 101];
  await d.evaluate(() => setOpacity(1));
  await click(d, y0, x0);
  await d.waitForFunction(([y, x]) => { const p = window.uniem.planes; return p.xz.at === y && p.yz.at === x && p.xz.key.startsWith(`${y}/`) && p.yz.key.startsWith(`${x}/`); }, [y0, x0], { timeout: 5000 });
  const cuts = await d.evaluate(() => ['xz', 'yz'].map((p) => ({ ...window.uniem.planes[p], labels: [...window.uniem.planes[p].labels], image: null, overlay: null })));
  const [nz, ny, nx] = stack.info.shape;
  check(cuts[0].w === nx && cuts[0].h === nz && cuts[1].w === ny && cuts[1].h === nz, `the cuts are ${nz} sections tall (${cuts[0].w}x${cuts[0].h}, ${cuts[1].w}x${cuts[1].h})`);
  let cutDiffer = 0;
  for (let zz = 0; zz < nz; ++zz) for (let k = 0; k < nx; ++k) cutDiffer += cuts[0].labels[zz * nx + k] !== stack.at(zz, y0, k);
  for (let zz = 0; zz < nz; ++zz) for (let k = 0; k < ny; ++k) cutDiffer += cuts[1].labels[zz * ny + k] !== stack.at(zz, k, x0);
  check(cutDiffer === 0, `the xz and yz views hold the exported stack's voxels (${cutDiffer} differ)`);
  // What is drawn: at opacity 1, each voxel of a column of the xz view in its segment's colour
  // (the section's own row is under the yellow line; background shows the grey image).
  const column = 40;
  const sideDrawn = await d.evaluate((k) => {
    const c = document.getElementById('xz'), g = c.getContext('2d'), L = planeLayout('xz'), out = [];
    for (let zz = 0; zz < window.uniem.planes.xz.h; ++zz)
      out.push([...g.getImageData(Math.floor(L.ox + (k + 0.5) * L.sx), Math.floor(L.oy + (zz + 0.5) * L.sz), 1, 1).data]);
    return { out, sx: L.sx, sz: L.sz, z: window.uniem.z };
  }, column);
  check(Math.abs(sideDrawn.sz / sideDrawn.sx - 5) < 0.01, `a section is drawn 5 times as tall as a voxel is wide (${sideDrawn.sz} / ${sideDrawn.sx})`);
  let wrongColour = 0;
  for (let zz = 0; zz < nz; ++zz) {
    if (zz === sideDrawn.z) continue;
    const id = stack.at(zz, y0, column), [r, g, b] = sideDrawn.out[zz];
    const want = id ? await d.evaluate((i) => colour(i).map((v) => v | 0), id) : null;  // as the overlay packs it
    if (want ? (r !== want[0] || g !== want[1] || b !== want[2]) : (r !== g || g !== b)) ++wrongColour;
  }
  check(wrongColour === 0, `the xz view draws column ${column} in the exported ids' colours (${wrongColour} wrong: ${JSON.stringify(sideDrawn.out)})`);
  await shot('side-views.png', d);
  // A click in the xz view goes to that section and moves the magenta line there.
  const [cx, cy] = await d.evaluate(() => window.uniem.planes.toScreen('xz', 1, 130));
  await d.mouse.click(cx, cy);
  await d.waitForFunction(() => window.uniem.z === 1 && window.uniem.planes.point[1] === 130 && window.uniem.planes.yz.at === 130, null, { timeout: 5000 });
  check(/section 1, x 130/.test(await d.textContent('#message')), `the click is said: ${await d.textContent('#message')}`);
  await shot('side-views-clicked.png', d);

  // 21. What is shown (page only): I isolates the selected segment in the section and the side
  // views, Shift+H shows all again; a hidden segment is drawn without its colour; a colour of
  // one's own is drawn and kept in this browser; a jumped-to segment is outlined until the next key.
  // Values are the canvas's pixels at opacity 1: a segment's colour exactly, or grey image.
  const drawnAt = (y, x) => d.evaluate(([yy, xx]) => {
    const c = document.getElementById('view'), r = c.getBoundingClientRect(), [px, py] = window.uniem.toScreen(yy, xx);
    return [...c.getContext('2d').getImageData(Math.floor((px - r.left) * c.width / r.width), Math.floor((py - r.top) * c.height / r.height), 1, 1).data].slice(0, 3);
  }, [y, x]);
  const colourOf = (id) => d.evaluate((i) => colour(i), id);
  const same = (p, q) => p[0] === q[0] && p[1] === q[1] && p[2] === q[2];
  const grey = (p) => p[0] === p[1] && p[1] === p[2];
  // Two segments of this section nobody else has locked, each with a voxel deep inside it, away
  // from the side views' lines and the markers.
  const inner = await d.evaluate(() => {
    const { labels, lw, lh } = window.uniem, [py, px] = window.uniem.planes.point, found = new Map();
    const marks = window.uniem.markers.filter((m) => m.z === window.uniem.z);  // drawn as rings
    for (let y = 3; y < lh - 3; ++y) for (let x = 3; x < lw - 3; ++x) {
      const id = labels[y * lw + x];
      if (!id || found.has(id) || Math.abs(y - py) < 4 || Math.abs(x - px) < 4 || marks.some((m) => Math.hypot(m.y - y, m.x - x) < 10) ||
          lockHolder(window.uniem.annotated.get(id)?.locked_by)) continue;  // its colour may be chosen
      let deep = true;
      for (let j = -2; j <= 2 && deep; ++j) for (let k = -2; k <= 2; ++k) if (labels[(y + j) * lw + x + k] !== id) { deep = false; break; }
      if (deep) found.set(id, [y, x]);
    }
    return [...found].slice(0, 2);
  });
  check(inner.length === 2, `two segments to show and hide on section 1 (${JSON.stringify(inner)})`);
  const [[idA, pA], [idB, pB]] = inner;
  const [colA, colB] = [await colourOf(idA), await colourOf(idB)];
  check(same(await drawnAt(...pA), colA) && same(await drawnAt(...pB), colB), `segments ${idA} and ${idB} are drawn in their colours`);
  // Neighbouring segments of this section (touching, or across a membrane) differ in colour (the hue steps by the golden ratio).
  const closest = await d.evaluate(() => {
    const { labels, lw, lh } = window.uniem, pairs = new Set();
    for (let y = 0; y < lh; ++y) for (let x = 0; x < lw; ++x) {  // neighbours across a membrane up to 8 voxels wide
      const p = labels[y * lw + x];
      if (!p) continue;
      for (const [dy, dx] of [[0, 1], [1, 0]]) {
        for (let k = 1; k <= 8 && y + k * dy < lh && x + k * dx < lw; ++k) {
          const q = labels[(y + k * dy) * lw + x + k * dx];
          if (q === p) break;
          if (q) { pairs.add(p < q ? `${p},${q}` : `${q},${p}`); break; }
        }
      }
    }
    let near = Infinity, which = '';
    for (const pq of pairs) {
      const [p, q] = pq.split(',').map(Number), [a, b] = [colour(p), colour(q)];
      const dist = Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
      if (dist < near) { near = dist; which = pq; }
    }
    return { pairs: pairs.size, near, which };
  });
  console.log(`neighbouring segments on section 1: ${closest.pairs} pairs, the closest colours ${closest.near.toFixed(0)} apart (${closest.which})`);
  check(closest.pairs > 5 && closest.near >= 60, `neighbouring segments have distinct colours (${JSON.stringify(closest)})`);
  await shot('colours-neighbours.png', d);

  const xzDrawn = () => d.evaluate(() => {  // per voxel of the xz cut: [label, drawn alpha]
    const c = window.uniem.planes.xz, a = c.overlay.getContext('2d').getImageData(0, 0, c.w, c.h).data;
    return [...c.labels].map((id, i) => [id, a[4 * i + 3]]);
  });
  await d.evaluate((id) => select(id), idA);
  await d.keyboard.press('i');
  check(await d.evaluate((id) => window.uniem.display.only && window.uniem.display.only.has(id) && window.uniem.display.only.size === 1, idA), 'I isolates the selected segment');
  const isoA = await drawnAt(...pA), isoB = await drawnAt(...pB);
  check(same(isoA, colA) && grey(isoB) && !same(isoB, colB), `isolated: ${idA} keeps its colour ${isoA}, ${idB} shows the image ${isoB}`);
  const isoXz = await xzDrawn();
  check(isoXz.every(([id, a]) => (a > 0) === (id === idA)), `the xz view draws only segment ${idA} when isolated (${isoXz.filter(([id, a]) => (a > 0) !== (id === idA)).length} voxels wrong)`);
  check((await d.textContent('#display-state')).includes(`only ${idA}`), `the panel says what is shown: ${await d.textContent('#display-state')}`);
  await shot('isolated.png', d);
  await d.keyboard.press('Shift+H');
  check(same(await drawnAt(...pB), colB) && !(await d.evaluate(() => window.uniem.display.only)), 'Shift+H shows every segment again');
  check((await xzDrawn()).every(([id, a]) => (a > 0) === (id > 0)), 'the xz view draws every segment again');
  check(await d.evaluate(() => window.uniem.z) === 1, 'Shift+H did not fit or move the view');

  await d.click(`#segments tr[data-id="${idB}"] >> text=hide`);
  const hidB = await drawnAt(...pB);
  check(grey(hidB) && !same(hidB, colB) && same(await drawnAt(...pA), colA), `hidden: ${idB} drawn without its colour (${hidB}), ${idA} still in its own`);
  check(await d.evaluate((id) => window.uniem.display.hidden.has(id), idB), `segment ${idB} is hidden`);
  await shot('hidden.png', d);
  await d.click(`#segments tr[data-id="${idB}"] >> text=show`);
  check(same(await drawnAt(...pB), colB), `'show' draws ${idB} again`);

  // A colour chosen in the row is the project's (journaled, as the 3D view's): drawn here, kept by
  // the server; the x beside it gives the segment its own colour again.
  const v0 = await version(d);
  await d.locator(`#segments tr[data-id="${idB}"] input.swatch`).fill('#00ff00');
  await d.waitForFunction(([id, v]) => window.uniem.version > v && window.uniem.annotated.get(id)?.colour === '#00ff00', [idB, v0], { timeout: 5000 });
  check(same(await drawnAt(...pB), [0, 255, 0]) && same(await drawnAt(...pA), colA), `the colour chosen for ${idB} is drawn: ${await drawnAt(...pB)}`);
  check((await json(`${base}api/segments?count=500`)).items.find((q) => q.id === idB).colour === '#00ff00', 'the colour is the project\'s');
  check(/drawn in #00ff00 now/.test(await d.textContent('#message')), `the colour is said: ${await d.textContent('#message')}`);
  await shot('own-colour.png', d);
  await d.click(`#segments tr[data-id="${idB}"] button.own-colour`);
  await d.waitForFunction((id) => !window.uniem.annotated.get(id)?.colour, idB, { timeout: 5000 });
  check(same(await drawnAt(...pB), colB), `x: ${idB} in its own colour again`);

  // A jump outlines the segment in white and draws it opaque, until the next key.
  await d.fill('#jump', String(idA));
  await d.press('#jump', 'Enter');
  await d.waitForFunction((id) => window.uniem.display.highlight === id && window.uniem.labels.includes(id), idA, { timeout: 5000 });
  const outline = await d.evaluate((id) => {
    const { labels, lw, lh } = window.uniem, o = window.uniem.overlay.getContext('2d').getImageData(0, 0, lw, lh).data;
    let edges = 0, white = 0;
    for (let y = 1; y < lh - 1; ++y) for (let x = 1; x < lw - 1; ++x) {
      const i = y * lw + x;
      if (labels[i] !== id || (labels[i - 1] === id && labels[i + 1] === id && labels[i - lw] === id && labels[i + lw] === id)) continue;
      ++edges;
      white += o[4 * i] === 255 && o[4 * i + 1] === 255 && o[4 * i + 2] === 255 && o[4 * i + 3] === 255;
    }
    return { edges, white };
  }, idA);
  check(outline.edges > 0 && outline.white === outline.edges, `the jumped-to segment is outlined in white (${JSON.stringify(outline)})`);
  await shot('jump-highlight.png', d);
  await d.keyboard.press('Escape');
  check(await d.evaluate(() => window.uniem.display.highlight) === 0, 'the next key ends the highlight');
  await d.keyboard.press('h');
  await d.keyboard.press('v');
  check(await d.evaluate(() => document.getElementById('planes').hidden), 'V hides the side views');
  // 21. The scale bar: 1, 2 or 5 x 10^n nm of the 6 nm voxels at this zoom; none, with a note, when the voxel size is unknown.
  const bar = await d.evaluate(() => ({ ...window.uniem.scaleBar, scale: window.uniem.scale }));
  check(bar.text === (bar.nm >= 1000 ? `${bar.nm / 1000} µm` : `${bar.nm} nm`) && /^[125]/.test(String(bar.nm)) && Math.abs(bar.pixels - bar.nm / 6 * bar.scale) < 1e-6 && bar.pixels >= 60 && bar.pixels <= 150, `the scale bar: ${JSON.stringify(bar)}`);
  await shot('scale-bar.png', d);
  const unknown = await d.evaluate(() => { window.uniem.info.voxel_size_known = false; draw(); const t = window.uniem.scaleBar; window.uniem.info.voxel_size_known = true; draw(); return t; });
  check(!unknown.pixels && /voxel size not known/.test(unknown.text), `no bar without a voxel size, a note instead: ${JSON.stringify(unknown)}`);

  // 19. People's own addresses (--users): the name comes from the address, and bob's lock and
  // edits stay his even when alice's page sends his name.
  const team = await serveUsers(binary, ['--images', `${work}/synth/image`, '--labels', `${work}/synth/neurons`, '--project', `${work}/project-users`], ['alice', 'bob']);
  try {
    const person = async (name) => {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await context.newPage();
      page.on('pageerror', (e) => { console.error(`page error: ${e.message}`); exitCode = 1; });
      await page.goto(team.urls[name]);
      await page.waitForFunction(() => window.uniem && window.uniem.ready && window.uniem.labels);
      pages.push(page);
      return page;
    };
    const alice = await person('alice'), bob = await person('bob');
    check(await alice.inputValue('#user') === 'alice' && await alice.evaluate(() => document.getElementById('user').readOnly),
      'alice\'s page shows her name, not editable');
    check(/signed in as/.test(await alice.textContent('#who')), `the name says how it was given: ${await alice.textContent('#who')}`);
    await bob.click('#segments tbody tr:first-child button');  // lock
    const held = Number(await bob.getAttribute('#segments tbody tr:first-child', 'data-id'));
    await bob.waitForFunction(() => /^Locked segment/.test(document.getElementById('message').textContent), null, { timeout: 5000 });
    const heldButton = `#segments tr[data-id="${held}"] button`;
    await alice.waitForFunction((s) => { const e = document.querySelector(s); return e && e.textContent === 'unlock' && e.disabled; }, heldButton, { timeout: 5000 });
    check(/locked by bob: only bob can unlock/.test(await alice.getAttribute(heldButton, 'title')), 'alice\'s greyed unlock names bob');
    // A page that sends bob's name anyway is refused: the server knows alice by her address.
    const v = await version(alice);
    await alice.evaluate(async (id) => { document.getElementById('user').value = 'bob'; await edit('unlock', { id }); }, held);
    check(/locked by bob/.test(await alice.textContent('#message')), `the forced unlock is refused: ${await alice.textContent('#message')}`);
    await alice.evaluate(async () => { await edit('undo', {}); });
    check(/nothing to undo/.test(await alice.textContent('#message')), `alice cannot undo bob's lock: ${await alice.textContent('#message')}`);
    check(await version(alice) === v, 'neither changed anything');
    await alice.evaluate(() => { document.getElementById('user').value = 'alice'; renderSegments(); });
    await pageHelpers(alice, work).shot('users-lock-of-bob.png', alice);
    await pageHelpers(bob, work).shot('users-bob-holds-lock.png', bob);
  } finally {
    await stop(team);
  }

  console.log(`ok: paint, merge, split, undo, redo, lock refusal, export, contrast and the segment list in Chromium; the second page saw every edit; keys after typing, jumps, the brush after undo and unsaved strokes; protect others and stale strokes, previewed fills, messages, fit and zoom, the brush's voxels, the panel and the toolbar; locks of others greyed, people's own addresses, side views, isolate, hide, own colours and the jump's outline, the export's tables and the scale bar`);
} catch (e) {
  error = e;
}
process.exit(await finish({ error, exitCode, pages, work, browser, server }));
