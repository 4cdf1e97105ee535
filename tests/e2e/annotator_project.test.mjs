// The 3D annotator on a proofreading project, linked to its proofreader, in a real browser
// (headless Chromium, WebGL through SwiftShader). A project is made from `uniem synth` with
// `uniem project --labels` and served by `uniem serve --project`; its annotator (at /annotator/)
// lists the project's segments; the surface the server makes of one has the vertex and triangle
// counts of `uniem mesh`'s PLY for that label, and its area (X-Uniem-Mesh) is within 0.1% of
// measurements.csv's; a marker placed by a click on the surface is a project marker (../api/markers)
// and is listed after a reload; an edit through the proofreader's API makes the 3D surface change
// within seconds without a reload; with the proofreader open in a second page of the same browser,
// selecting a segment in 3D selects it there (and the reverse), a double-click on a surface takes it
// to that voxel, and its 3D button opens the annotator. Last, the workbench serves the same page at
// /projects/ID/annotator/. A second marker is undone, markers are imported from CSV (a bad line
// imports nothing) and a segment is named from the 3D page.
// Usage: node annotator_project.test.mjs UNIEM_BINARY WORK_DIR. Exit 77 (skipped) without Chromium
// or playwright-core; screenshots (p0-table.png ... p8-workbench.png, failure.png) go to WORK_DIR.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { uniem, serve, workbench, stop, json, check, launchChromium, finish, pageHelpers } from './server.mjs';

const [binary, work] = process.argv.slice(2);
const browser = await launchChromium(['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist']);

const began = Date.now();
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
uniem(binary, ['synth', `${work}/s`, '--shape', '12,96,96', '--quiet']);
uniem(binary, ['project', `${work}/s/image`, `${work}/project`, '--labels', `${work}/s/neurons`, '--quiet']);
const server = await serve(binary, ['--project', `${work}/project`]);
const base = server.url;

const context = await browser.newContext({ viewport: { width: 1400, height: 860 }, acceptDownloads: true });
let page = await context.newPage();
let proofreader = null;
let exitCode = 0, error = null;
const watch = (p) => p.on('pageerror', (e) => { console.error(`page error: ${e.message}`); exitCode = 1; });
watch(page);
const shoot = pageHelpers(page, work).shot;
const shot = (name, p = page) => shoot(name, p);  // `page` changes when the workbench opens its tab
const message = () => page.textContent('#message');
const waitMessage = (pattern, timeout = 20000) => page.waitForFunction((p) => new RegExp(p).test(document.getElementById('message').textContent),
  pattern.source, { timeout }).catch(async () => { throw new Error(`the message never matched ${pattern}: “${await message()}”`); });
const ready = () => page.waitForFunction(() => window.annotator && window.annotator.state.ready, null, { timeout: 60000 });
const tableIds = () => page.$$eval('#objects tbody tr', (rows) => rows.map((r) => Number(r.dataset.id)));
const markerNames = () => page.$$eval('#markers tbody tr td:first-child', (cells) => cells.map((c) => c.textContent));
const row = (id) => page.evaluate((i) => window.annotator.row(i), id);
async function surfacePoint(id) {
  await page.waitForFunction(() => window.annotator.still());
  const at = await page.evaluate((i) => window.annotator.pointOnSurface(i), id);
  check(at, `segment ${id} can be seen in the view`);
  return at;
}
function plyHeader(file) {
  const text = readFileSync(file).subarray(0, 4096).toString('latin1');
  const head = text.slice(0, text.indexOf('end_header'));
  return { vertices: Number(head.match(/element vertex (\d+)/)[1]), triangles: Number(head.match(/element face (\d+)/)[1]) };
}

try {
  const info = await json(`${base}api/info`);
  const segments = await json(`${base}api/segments`);
  const largest = segments.reduce((a, b) => (b.voxels > a.voxels ? b : a));
  const id = largest.id;
  const other = segments.find((s) => s.id !== id).id;
  uniem(binary, ['mesh', `${work}/s/neurons`, `${work}/meshes`, '--labels', String(id), '--quiet']);

  // 1. The page on the project: its segments in the table, their surfaces in 3D.
  await page.goto(`${base}annotator/`);
  await ready();
  const listed = await tableIds();
  check(JSON.stringify(listed) === JSON.stringify(segments.map((s) => s.id).sort((a, b) => a - b)),
    `the table lists the project's ${segments.length} segments (got ${listed.join(', ')})`);
  check(/12 × 96 × 96 voxels/.test(await page.textContent('#folder')), 'the header says what the project is');
  await page.waitForFunction((i) => window.annotator.row(i)?.mesh, id, { timeout: 20000 });
  await shot('p0-table.png');

  // 2. The server's surface of the largest segment is uniem mesh's for the same label.
  const mesh = (await row(id)).mesh;
  const ply = plyHeader(`${work}/meshes/label_${id}.ply`);
  const counts = await page.evaluate((i) => window.annotator.counts(i), id);
  check(!mesh.decimated && mesh.level === 1, `segment ${id} is meshed whole (${JSON.stringify(mesh)})`);
  check(counts.vertices === ply.vertices && counts.triangles === ply.triangles,
    `the page's surface of segment ${id} has uniem mesh's counts: ${JSON.stringify(counts)} vs ${JSON.stringify(ply)}`);
  const lines = readFileSync(`${work}/meshes/measurements.csv`, 'utf8').trim().split('\n');
  const columns = lines[0].split(',');
  const measured = Object.fromEntries(lines[1].split(',').map((v, i) => [columns[i], Number(v)]));
  check(Math.abs(mesh.area_nm2 - measured.surface_area_nm2) <= 1e-3 * measured.surface_area_nm2,
    `the area of segment ${id}: ${mesh.area_nm2} nm² served, ${measured.surface_area_nm2} in measurements.csv`);
  const volumeCell = await page.textContent(`#objects tr[data-id="${id}"] td:nth-child(5)`);
  const areaCell = await page.textContent(`#objects tr[data-id="${id}"] td:nth-child(6)`);
  const [vz, vy, vx] = info.voxel_size;
  check(Number(volumeCell.replace(/,/g, '')) > 0 && areaCell !== '—', `the row shows a volume and an area (${volumeCell}, ${areaCell})`);
  console.log(`segment ${id}: ${counts.vertices} vertices, ${counts.triangles} triangles, area ${mesh.area_nm2.toFixed(0)} nm² ` +
    `(uniem mesh: ${measured.surface_area_nm2.toFixed(0)})`);

  // 3. Only that segment, then a marker placed by a click on its surface: a project marker.
  await page.click(`#objects tr[data-id="${id}"] td:first-child`);
  await page.click('#show-selected');
  await page.waitForFunction((i) => JSON.stringify(window.annotator.shown()) === JSON.stringify([i]), id);
  await page.click('#place');
  const at = await surfacePoint(id);
  await page.mouse.click(at.x, at.y);
  await page.waitForSelector('#marker-form:not([hidden])');
  await page.fill('#marker-name', 'spine 1');
  await page.fill('#marker-type', 'synapse');
  await page.fill('#marker-note', 'check in 3D');
  await shot('p1-marker-form.png');
  await page.click('#marker-form button[type=submit]');
  await waitMessage(/placed on segment/);
  await page.keyboard.press('Escape');
  const markers = await json(`${base}api/markers`);
  const placed = markers.find((m) => m.name === 'spine 1');
  check(placed && placed.type === 'synapse' && placed.segment === id && placed.nm && placed.note === 'check in 3D',
    `../api/markers has the marker with its name, type, segment and point (${JSON.stringify(markers)})`);
  check(Math.abs(placed.z - placed.nm[2] / vz) <= 0.5001 && Math.abs(placed.x - placed.nm[0] / vx) <= 0.5001,
    `the marker's voxel is its point over the voxel size (${JSON.stringify(placed)})`);
  await shot('p2-marker.png');
  // A second marker, taken back by Undo; a name given in the table is the segment's name in the project.
  await page.click('#place');
  await page.mouse.click(at.x + 3, at.y + 3);
  await page.waitForSelector('#marker-form:not([hidden])');
  await page.fill('#marker-name', 'mistake');
  await page.click('#marker-form button[type=submit]');
  await waitMessage(/placed on segment/);
  await page.keyboard.press('Escape');
  check((await json(`${base}api/markers`)).some((m) => m.name === 'mistake'), 'the second marker is in the project');
  await page.click('#undo');
  await waitMessage(/Undone/);
  check(!(await json(`${base}api/markers`)).some((m) => m.name === 'mistake'), 'Undo took the second marker back');
  // Markers from CSV: a bad line refuses the file (its line named, nothing imported); a good file is imported, then undone.
  const count = async () => (await json(`${base}api/markers`)).length;
  const markersBefore = await count();
  const csv = (text) => ({ name: 'markers.csv', mimeType: 'text/csv', buffer: Buffer.from(text) });
  const [cx, cy, cz] = placed.nm;
  await page.setInputFiles('#import', csv(`id,name,type,x,y,z,segment\n1,a,synapse,${cx},${cy},${cz},${id}\n2,b,synapse,oops,${cy},${cz},${id}\n`));
  await waitMessage(/Nothing imported from markers.csv: line 3: x is not a number/);
  check(await count() === markersBefore, 'a bad CSV imports nothing');
  await page.setInputFiles('#import', csv(`id,name,type,x,y,z,segment,note\n1,from file,"bouton, maybe",${cx},${cy},${cz},${id},"a ""quoted"" note"\n`));
  await waitMessage(/Imported 1 marker from markers.csv/);
  const imported = (await json(`${base}api/markers`)).find((m) => m.name === 'from file');
  check(imported && imported.type === 'bouton, maybe' && imported.note === 'a "quoted" note' && imported.segment === id,
    `the imported marker is in the project as written (${JSON.stringify(imported)})`);
  await shot('p2b-imported.png');
  await page.click('#undo');
  await waitMessage(/Undone/);
  check(await count() === markersBefore, 'Undo takes the imported marker back');
  await page.fill(`#objects tr[data-id="${id}"] input.name`, 'dendrite A');
  await page.press(`#objects tr[data-id="${id}"] input.name`, 'Enter');
  await waitMessage(/is now called/);
  check((await json(`${base}api/segment?id=${id}`)) && (await json(`${base}api/segments`)).find((s) => s.id === id).name === 'dendrite A',
    'the name given in 3D is the segment\'s name in the project');
  // A colour chosen in the table is the project's, for everyone (journaled like a name).
  await page.locator(`#objects tr[data-id="${id}"] input.colour`).evaluate((input) => {
    input.value = '#ff8800';
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
  });
  // The page saves it after the events: ask the project until it has it (10 s at most).
  let coloured = [];
  for (const start = Date.now(); coloured.length === 0 && Date.now() - start < 10000;) {
    coloured = (await json(`${base}api/segments`)).filter((s) => s.colour === '#ff8800').map((s) => s.id);
    if (coloured.length === 0) await new Promise((r) => setTimeout(r, 100));
  }
  check(coloured.length === 1 && coloured[0] === id, `the colour is kept in the project, for that segment only (${coloured})`);

  // 4. After a reload it is still listed.
  await page.reload();
  await ready();
  await page.waitForFunction(() => document.querySelectorAll('#markers tbody tr').length > 0);
  check((await markerNames()).includes('spine 1'), `the marker is listed after a reload (${await markerNames()})`);
  await page.waitForFunction((i) => window.annotator.row(i)?.mesh, id, { timeout: 20000 });
  await shot('p3-reloaded.png');
  // The project's EM as a section in the scene.
  await page.selectOption('#image', 'project');
  await waitMessage(/EM section \d+ of the project is shown/);
  await page.waitForFunction(() => window.annotator.still());
  await shot('p3-section.png');
  await page.selectOption('#image', '');

  // 5. The proofreader in a second page: selecting in 3D selects there.
  proofreader = await context.newPage();
  watch(proofreader);
  await proofreader.goto(base);
  await proofreader.waitForFunction(() => window.uniem && window.uniem.ready && window.uniem.labels);
  await page.bringToFront();
  await page.click(`#objects tr[data-id="${other}"] td:first-child`);
  await proofreader.waitForFunction((i) => window.uniem.selected === i, other, { timeout: 5000 })
    .catch(() => { throw new Error(`selecting segment ${other} in 3D did not select it in the proofreader`); });
  await shot('p4-proofreader-selected.png', proofreader);
  // And the reverse: a row clicked in the proofreader selects in 3D.
  await proofreader.click(`#segments tr[data-id="${id}"]`);
  await page.waitForFunction((i) => window.annotator.state.selected.has(i) && window.annotator.state.selected.size === 1, id, { timeout: 5000 })
    .catch(() => { throw new Error(`selecting segment ${id} in the proofreader did not select it in 3D`); });

  // 6. A double-click on the surface takes the proofreader to that voxel.
  const point = await surfacePoint(id);
  const target = await page.evaluate(([x, y]) => window.annotator.voxelAt(x, y), [point.x, point.y]);
  check(target, 'the double-click point is on a surface');
  const away = (target.z + 6) % info.shape[0];
  await proofreader.fill('#slice', String(away));
  await proofreader.press('#slice', 'Enter');
  await proofreader.waitForFunction((z) => window.uniem.z === z, away);
  await page.mouse.dblclick(point.x, point.y);
  await proofreader.waitForFunction((z) => window.uniem.z === z, target.z, { timeout: 5000 })
    .catch(async () => { throw new Error(`the proofreader did not go to section ${target.z} (it shows ${await proofreader.evaluate(() => window.uniem.z)})`); });
  await waitMessage(/The proofreader shows section/);
  await shot('p5-double-click.png');
  await shot('p6-proofreader-went.png', proofreader);

  // The proofreader's 3D button opens this page in a tab of its own.
  const [tab] = await Promise.all([context.waitForEvent('page'), proofreader.click('#open-3d')]);
  await tab.waitForLoadState();
  check(new URL(tab.url()).pathname === '/annotator/', `the 3D button opens /annotator/ (got ${tab.url()})`);
  await tab.close();

  // 7. An edit in the proofreader (its API): the surface is made again and shown without a reload.
  const before = (await row(id)).mesh;
  const where = await json(`${base}api/segment?id=${id}`);
  const version = (await json(`${base}api/info`)).version;
  const edited = Date.now();
  await json(`${base}api/edit`, { op: 'erase', user: 'tester', version, z: where.z, points: [[where.y, where.x]], radius: 6 });
  await page.waitForFunction(([i, t, v]) => {
    const m = window.annotator.row(i)?.mesh;
    return m && (m.triangles !== t || m.version !== v);
  }, [id, before.triangles, before.version], { timeout: 5000 })
    .catch(() => { throw new Error(`the surface of segment ${id} did not change within 5 s of the edit`); });
  const after = (await row(id)).mesh;
  console.log(`the edit showed in 3D after ${Date.now() - edited} ms: ${before.triangles} -> ${after.triangles} triangles, version ${before.version} -> ${after.version}`);
  await waitMessage(/Edited by tester in the proofreader/);
  await shot('p7-edited.png');

  // 8. The same page in the workbench, at /projects/ID/annotator/ (the project is let go by uniem serve first).
  await stop(server);
  const bench = await workbench(binary, work);
  try {
    // The Data page's project card opens it ("View in 3D"), in a new tab.
    await page.goto(bench.url);
    const card = 'article[data-kind="project"]';
    await page.waitForSelector(`${card} a:text("View in 3D")`, { timeout: 20000 });
    await page.locator(card).first().scrollIntoViewIfNeeded();
    await page.locator(card).first().screenshot({ path: `${work}/p8-project-card.png` });
    const [opened] = await Promise.all([context.waitForEvent('page'), page.click(`${card} a:text("View in 3D")`)]);
    watch(opened);
    await page.close();
    page = opened;
    await ready();
    check(new URL(page.url()).pathname === '/projects/project/annotator/', `the card opens /projects/project/annotator/ (${page.url()})`);
    check((await page.textContent('#folder')) === 'project', `the header names the project (${await page.textContent('#folder')})`);
    check((await tableIds()).length === segments.length, 'the workbench\'s annotator lists the project\'s segments');
    check(await page.$eval(`#objects tr[data-id="${id}"] input.name`, (i) => i.value) === 'dendrite A', 'with the name given before');
    await page.waitForFunction((i) => window.annotator.row(i)?.mesh, id, { timeout: 20000 });
    await shot('p8-workbench.png');
  } finally {
    await stop(bench);
  }

  console.log(`ok: the annotator on a project, in ${((Date.now() - began) / 1000).toFixed(1)} s`);
} catch (e) {
  error = e;
}
process.exit(await finish({ error, exitCode, pages: proofreader ? [page, proofreader] : [page], work, browser, server }));
