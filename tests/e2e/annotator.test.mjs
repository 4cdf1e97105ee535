// The 3D annotator in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven by
// playwright-core, WebGL drawn by SwiftShader (no GPU needed). A workspace holds a volume from
// `uniem synth` and the meshes of its neurons from `uniem mesh`. The Data page's mesh card opens
// the annotator; its table lists every object of measurements.csv, and a surface the page loaded
// has the vertex and triangle counts of its PLY header; sorting by volume puts the largest first;
// "Show only the selected" shows one object; a click on it places a marker through the form,
// which is listed after a reload and in the markers CSV; a marker added by someone else appears
// within seconds; a bad CSV import is refused with its line number and nothing imported, a good
// one imported and undone; the PNG export has the size asked, is not blank and holds pixels of the
// object's colour (and a transparent background when asked); a click on a surface selects its
// row; a name, a marker's note, a move and a deletion are saved and undone (button and Ctrl+Z).
// Usage: node annotator.test.mjs UNIEM_BINARY WORK_DIR. Exit 77 (skipped) without Chromium or
// playwright-core; screenshots (0-data.png ... 13-section.png, failure.png) and the pictures
// exported are written to WORK_DIR.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { uniem, workbench, json, check, launchChromium, finish, pageHelpers } from './server.mjs';

const [binary, work] = process.argv.slice(2);
// WebGL without a GPU: Chromium's software renderer, SwiftShader, through ANGLE.
const browser = await launchChromium(['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist']);

const began = Date.now();
rmSync(work, { recursive: true, force: true });
const ws = `${work}/ws`;
mkdirSync(ws, { recursive: true });
uniem(binary, ['synth', `${ws}/s`, '--shape', '12,96,96']);
uniem(binary, ['mesh', `${ws}/s/neurons`, `${ws}/meshes`]);
const lines = readFileSync(`${ws}/meshes/measurements.csv`, 'utf8').trim().split('\n');
const columns = lines[0].split(',');
const objects = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [columns[i], Number(v)])));
const largest = objects.reduce((a, b) => (b.mesh_volume_nm3 > a.mesh_volume_nm3 ? b : a));
const smallestId = Math.min(...objects.map((o) => o.label));
function plyHeader(file) {
  const text = readFileSync(file).subarray(0, 4096).toString('latin1');
  const head = text.slice(0, text.indexOf('end_header'));
  return { vertices: Number(head.match(/element vertex (\d+)/)[1]), triangles: Number(head.match(/element face (\d+)/)[1]) };
}
// label_colour of web/workspace/section_picture.cpp, written again here.
function labelColour(id) {
  const mask = (1n << 64n) - 1n;
  let h = (BigInt(id) * 0x9E3779B97F4A7C15n) & mask;
  h = ((h ^ (h >> 30n)) * 0xBF58476D1CE4E5B9n) & mask;
  h = ((h ^ (h >> 27n)) * 0x94D049BB133111EBn) & mask;
  h ^= h >> 31n;
  const c = (s) => (64 + Number((h >> BigInt(s)) & 0xffn) * 191 / 255 | 0).toString(16).padStart(2, '0');
  return `#${c(0)}${c(8)}${c(16)}`;
}

const server = await workbench(binary, ws);
const base = server.url;
const context = await browser.newContext({ viewport: { width: 1400, height: 860 }, acceptDownloads: true });
const page = await context.newPage();
let exitCode = 0, error = null;
const watch = (p) => p.on('pageerror', (e) => { console.error(`page error: ${e.message}`); exitCode = 1; });
watch(page);

const { shot } = pageHelpers(page, work);
const message = () => page.textContent('#message');
const waitMessage = (pattern, timeout = 20000) => page.waitForFunction((p) => new RegExp(p).test(document.getElementById('message').textContent),
  pattern.source, { timeout }).catch(async () => { throw new Error(`the message never matched ${pattern}: “${await message()}”`); });
const ready = () => page.waitForFunction(() => window.annotator && window.annotator.state.ready, null, { timeout: 60000 });
const tableIds = () => page.$$eval('#objects tbody tr', (rows) => rows.map((r) => Number(r.dataset.id)));
const markerNames = () => page.$$eval('#markers tbody tr td:first-child', (cells) => cells.map((c) => c.textContent));
const notes = () => json(`${base}api/meshes/annotations?path=meshes`);
// A real click on object `id` where the view shows it, once the camera is still.
async function clickSurface(id) {
  await page.waitForFunction(() => window.annotator.still());
  const at = await page.evaluate((i) => window.annotator.pointOnSurface(i), id);
  check(at, `object ${id} can be seen in the view`);
  await page.mouse.click(at.x, at.y);
}
async function download(selector, file) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  await d.saveAs(`${work}/${file}`);
  return readFileSync(`${work}/${file}`);
}
// What a PNG holds, decoded by the browser: its size, how many colours, how many pixels have the
// hue of `colour` (lit surfaces are darker or lighter, the hue stays), the alpha of a corner.
const pictureStats = (bytes, colour) => page.evaluate(async ([data, c]) => {
  const image = new Image();
  image.src = `data:image/png;base64,${data}`;
  await image.decode();
  const canvas = Object.assign(document.createElement('canvas'), { width: image.naturalWidth, height: image.naturalHeight });
  const g = canvas.getContext('2d');
  g.drawImage(image, 0, 0);
  const p = g.getImageData(0, 0, canvas.width, canvas.height).data;
  const want = [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
  const wantSum = want[0] + want[1] + want[2];
  const colours = new Set();
  let hue = 0;
  for (let i = 0; i < p.length; i += 4) {
    colours.add((p[i] >> 3) << 10 | (p[i + 1] >> 3) << 5 | (p[i + 2] >> 3));
    const sum = p[i] + p[i + 1] + p[i + 2];
    if (p[i + 3] > 200 && sum > 90 && [0, 1, 2].every((k) => Math.abs(p[i + k] / sum - want[k] / wantSum) < 0.04)) ++hue;
  }
  return { width: canvas.width, height: canvas.height, colours: colours.size, hue, cornerAlpha: p[3] };
}, [bytes.toString('base64'), colour]);

try {
  // 0. The workbench's Data page: the mesh folder's card opens the annotator in a new tab.
  await page.goto(base);
  const link = page.locator('.card[data-path="meshes"] a', { hasText: 'View in 3D' });
  await link.waitFor({ timeout: 20000 });
  check(/annotator\/\?path=meshes/.test(await link.getAttribute('href')), `the link opens the annotator (${await link.getAttribute('href')})`);
  await link.scrollIntoViewIfNeeded();
  await shot('0-data.png');
  const [tab] = await Promise.all([context.waitForEvent('page'), link.click()]);
  watch(tab);
  await tab.waitForFunction(() => window.annotator && window.annotator.state.ready, null, { timeout: 60000 });
  check(/meshes/.test(await tab.textContent('#folder')), 'the new tab shows the mesh folder');
  await tab.screenshot({ path: `${work}/1-from-data.png` });
  await tab.close();

  // 1. The annotator with an EM section: WebGL works, the table lists every object.
  await page.goto(`${base}annotator/?path=meshes&image=s/image`);
  const renderer = await page.evaluate(() => {
    const g = document.createElement('canvas').getContext('webgl2');
    if (!g) return '';
    const info = g.getExtension('WEBGL_debug_renderer_info');
    return g.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : g.RENDERER);
  });
  if (!renderer) {
    throw new Error('headless Chromium gives no WebGL context, even with SwiftShader (--use-angle=swiftshader ' +
      '--enable-unsafe-swiftshader): the 3D view cannot be tested here. Is chromium too old, or built without SwiftShader?');
  }
  await ready();
  check(await page.evaluate(() => window.annotator.state.webgl), 'the page has its 3D view');
  await page.waitForFunction(() => window.annotator.shown().length > 0);
  await page.waitForFunction(() => /EM section/.test(document.getElementById('message').textContent));
  const ids = await tableIds();
  check(ids.length === objects.length, `the table lists ${ids.length} objects, measurements.csv has ${objects.length}`);
  check(new RegExp(`${objects.length} in all`).test(await page.textContent('#object-count')), 'the total is shown');
  const shown = await page.evaluate(() => window.annotator.shown());
  check(shown.length === objects.length, `all ${objects.length} surfaces are drawn (${shown.length})`);
  const counts = await page.evaluate((id) => window.annotator.counts(id), largest.label);
  const ply = plyHeader(`${ws}/meshes/label_${largest.label}.ply`);
  check(counts.vertices === ply.vertices && counts.triangles === ply.triangles,
    `object ${largest.label}: the page has ${counts.vertices} vertices and ${counts.triangles} triangles, its PLY ${ply.vertices} and ${ply.triangles}`);
  const swatch = await page.inputValue(`#objects tr[data-id="${largest.label}"] input.colour`);
  check(swatch === labelColour(largest.label), `object ${largest.label} has its label colour (${swatch}, not ${labelColour(largest.label)})`);
  await shot('2-opened.png');

  // 2. Sorting by volume (largest first) changes the first row.
  check(ids[0] === smallestId, `the table starts sorted by number (${ids[0]})`);
  await page.click('#objects th[data-sort="volume"]');
  await page.waitForFunction((id) => Number(document.querySelector('#objects tbody tr')?.dataset.id) === id, largest.label);
  await waitMessage(/sorted by volume, largest first/);
  await shot('3-sorted.png');

  // 3. Select the largest, show only it.
  await page.click(`#objects tr[data-id="${largest.label}"] td.number`);
  await waitMessage(new RegExp(`Object ${largest.label} selected`));
  check(await page.$eval(`#objects tr[data-id="${largest.label}"]`, (r) => r.classList.contains('selected')), 'its row is marked');
  await page.click('#show-selected');
  await page.waitForFunction((id) => window.annotator.shown().join() === String(id), largest.label);
  await waitMessage(/Showing only object/);
  await shot('4-only.png');

  // 4. A marker placed by a click on the surface, through the form.
  await page.click('#place');
  await waitMessage(/Click on a surface/);
  await clickSurface(largest.label);
  await page.waitForSelector('#marker-form:not([hidden])');
  check(new RegExp(`object ${largest.label}`).test(await page.textContent('#marker-form-title')), 'the form names the object clicked');
  await page.fill('#marker-name', 'spine 1');
  await page.fill('#marker-type', 'synapse');
  await shot('5-marker-form.png');
  await page.press('#marker-name', 'Enter');
  await waitMessage(/Marker “spine 1” \(synapse\) placed on object/);
  check((await markerNames()).join() === 'spine 1', `the marker is listed (${await markerNames()})`);
  let saved = (await notes()).markers;
  check(saved.length === 1 && saved[0].segment === largest.label && saved[0].type === 'synapse',
    `the server has it, on object ${largest.label} (${JSON.stringify(saved)})`);
  await page.keyboard.press('Escape');
  await waitMessage(/stopped placing/);
  await shot('6-marker.png');

  // 5. After a reload it is still listed; one added elsewhere appears within seconds.
  await page.reload();
  await ready();
  check((await markerNames()).join() === 'spine 1', `after a reload the marker is listed (${await markerNames()})`);
  await shot('7-reloaded.png');
  const m = saved[0];
  await json(`${base}api/meshes/change`, { path: 'meshes', op: 'add', marker: { name: 'from a colleague', type: 'note', x: m.x, y: m.y, z: m.z, segment: m.segment } });
  await page.waitForFunction(() => [...document.querySelectorAll('#markers tbody td')].some((c) => c.textContent === 'from a colleague'),
    null, { timeout: 10000 });
  await waitMessage(/changed elsewhere/);

  // 6. The tables as CSV.
  const markersCsv = (await download('#markers-csv', 'markers.csv')).toString();
  check(/^id,name,type,x,y,z,segment,note\n/.test(markersCsv) && new RegExp(`,spine 1,synapse,[^\\n]*,${largest.label},`).test(markersCsv),
    `the markers CSV holds the marker: ${markersCsv}`);
  const objectsCsv = (await download('#objects-csv', 'objects.csv')).toString().trim().split('\n');
  check(objectsCsv.length === objects.length + 1, `the objects CSV has ${objects.length} rows (${objectsCsv.length - 1})`);

  // 7. Importing markers: a bad file is refused with its line and nothing imported; a good one is
  // imported, and Undo takes it back.
  await page.setInputFiles('#import', { name: 'bad.csv', mimeType: 'text/csv',
    buffer: Buffer.from('id,name,type,x,y,z,segment\n1,a,synapse,10,20,30,1\n2,b,synapse,ten,20,30,1\n') });
  await waitMessage(/Nothing imported from bad\.csv: line 3: 'x' is not a number/);
  check((await notes()).markers.length === 2, 'nothing was imported');
  await shot('8-import-refused.png');
  await page.setInputFiles('#import', { name: 'good.csv', mimeType: 'text/csv',
    buffer: Buffer.from(`name,type,x,y,z,segment\nc,synapse,${m.x},${m.y},${m.z},${m.segment}\nd,note,${m.x},${m.y},${m.z},0\n`) });
  await waitMessage(/Imported 2 markers from good\.csv/);
  check((await markerNames()).length === 4 && (await notes()).markers.length === 4, 'two markers were imported');
  await page.click('#undo');
  await waitMessage(/Undone: importing 2 markers/);
  check((await notes()).markers.length === 2, 'Undo took the import back');

  // 8. A picture of the view: the size asked, not blank, the object's colour in it; and one with
  // a transparent background.
  await page.fill('#png-width', '800');
  await page.fill('#png-height', '600');
  const png = await download('#save-png', 'picture.png');
  const stats = await pictureStats(png, labelColour(largest.label));
  check(stats.width === 800 && stats.height === 600, `the picture is 800 × 600 (${stats.width} × ${stats.height})`);
  check(stats.colours > 50, `the picture is not blank (${stats.colours} colours)`);
  check(stats.hue > 500, `the picture shows object ${largest.label} in its colour ${labelColour(largest.label)} (${stats.hue} pixels)`);
  check(stats.cornerAlpha === 255, 'the background is opaque');
  await waitMessage(/Saved meshes-3d-800x600\.png/);
  await page.fill('#png-width', '320');
  await page.fill('#png-height', '240');
  await page.check('#png-transparent');
  const clear = await pictureStats(await download('#save-png', 'picture-transparent.png'), labelColour(largest.label));
  check(clear.width === 320 && clear.cornerAlpha === 0 && clear.hue > 50, `the transparent picture is clear around the object (${JSON.stringify(clear)})`);
  await page.fill('#png-width', '5000');
  await page.click('#save-png');
  await waitMessage(/A picture is 16 to \d+ pixels wide and high/);
  await shot('9-picture.png');

  // 9. A click on a surface selects its row: every object shown, the camera reset.
  await page.click('#show-all');
  await page.waitForFunction((n) => window.annotator.shown().length === n, objects.length);
  await page.click('#reset-camera');
  let picked = 0;
  for (const o of [...objects].sort((a, b) => b.mesh_volume_nm3 - a.mesh_volume_nm3)) {
    if (o.label === largest.label) continue;
    if (await page.evaluate((i) => window.annotator.pointOnSurface(i), o.label)) { picked = o.label; break; }
  }
  check(picked, 'another object can be seen');
  await clickSurface(picked);
  await waitMessage(new RegExp(`Object ${picked} selected`));
  check(await page.$eval(`#objects tr[data-id="${picked}"]`, (r) => r.classList.contains('selected')), `the click selected row ${picked}`);
  await shot('10-picked.png');

  // 10. A name typed in the table is saved; Ctrl+Z takes it back.
  const name = page.locator(`#objects tr[data-id="${picked}"] input.name`);
  await name.fill('dendrite A');
  await name.press('Enter');
  await waitMessage(new RegExp(`Object ${picked} is now called “dendrite A”`));
  check((await notes()).objects[String(picked)].name === 'dendrite A', 'the name is saved');
  await page.keyboard.press('Control+z');
  await waitMessage(/Undone: the name of object/);
  check(!(await notes()).objects[String(picked)].name, 'Ctrl+Z took the name back');
  check(await name.inputValue() === '', 'and the table shows it');

  // 11. A marker edited, moved, deleted, and each undone.
  await page.dblclick('#markers tbody tr:first-child');
  await page.waitForSelector('#marker-form:not([hidden])');
  check(await page.inputValue('#marker-name') === 'spine 1', 'the form holds the marker to edit');
  await page.fill('#marker-note', 'check in section 4');
  await page.press('#marker-note', 'Enter');
  await waitMessage(/Marker \d+ is now “spine 1” \(synapse\)/);
  check((await notes()).markers.find((x) => x.name === 'spine 1').note === 'check in section 4', 'the note is saved');
  await page.click('#undo');
  await waitMessage(/Undone: the changes to marker “spine 1”/);
  check((await notes()).markers.find((x) => x.name === 'spine 1').note === '', 'Undo took the note back');
  await page.click('#markers tbody tr:first-child');
  await waitMessage(/Marker “spine 1”/);
  await page.click('#marker-move');
  await clickSurface(picked);
  await waitMessage(new RegExp(`moved to object ${picked}`));
  saved = (await notes()).markers.find((x) => x.name === 'spine 1');
  check(saved.segment === picked, `the marker moved onto object ${picked} (${JSON.stringify(saved)})`);
  await page.click('#marker-delete');
  await waitMessage(/deleted \(Undo brings it back\)/);
  check(!(await notes()).markers.some((x) => x.name === 'spine 1'), 'the marker is deleted');
  await page.keyboard.press('Control+z');
  await waitMessage(/Undone: deleting marker “spine 1”/);
  const back = (await notes()).markers.find((x) => x.name === 'spine 1');
  check(back && back.id === saved.id && back.segment === picked, `Ctrl+Z brought it back as it was (${JSON.stringify(back)})`);
  check((await markerNames()).includes('spine 1'), 'and lists it');
  await page.click('#undo');
  await waitMessage(/Undone: moving marker/);
  check((await notes()).markers.find((x) => x.name === 'spine 1').segment === largest.label, 'Undo moved it back');

  // 12. Colours by volume, with a legend; the orthographic camera; the section and the cut.
  await page.selectOption('#colour-by', 'volume');
  await waitMessage(/coloured by volume/);
  check(await page.isVisible('#legend') && /µm³/.test(await page.textContent('#legend')), 'the legend shows the range');
  await page.selectOption('#projection', 'orthographic');
  await shot('11-colour-by-volume.png');
  await page.selectOption('#colour-by', 'id');
  await page.selectOption('#projection', 'perspective');
  await page.selectOption('#direction', 'oblique');
  await page.fill('#section-z', '3');
  await page.dispatchEvent('#section-z', 'input');
  await page.waitForFunction(() => /section 3 of 12/.test(document.getElementById('section-text').textContent));
  await page.waitForFunction(() => /section 3\)/.test(document.getElementById('clip-text').textContent))
    .catch(async () => { throw new Error(`the surfaces are not cut at section 3: “${await page.textContent('#clip-text')}”`); });
  check(await page.isChecked('#clip-on'), 'the cut is on');
  await page.waitForTimeout(500);
  await shot('12-section.png');
  await page.uncheck('#section-cut');
  await waitMessage(/whole again/);
  check(!(await page.isChecked('#clip-on')), 'the cut is off');
  await shot('13-section-whole.png');
  console.log(`ok: the 3D annotator in Chromium (WebGL: ${renderer}): ${objects.length} objects listed and drawn, object ` +
    `${largest.label}'s ${ply.vertices} vertices and ${ply.triangles} triangles as in its PLY, sorted, shown alone, a marker ` +
    `placed by a click, reloaded, one from elsewhere, CSV out and in (a bad line refused), pictures (${stats.hue} pixels of ` +
    `the object's colour), a click selecting a row, undo of a name, a note, a move and a deletion; ${((Date.now() - began) / 1000).toFixed(1)} s`);
} catch (e) {
  error = e;
}
process.exit(await finish({ error, exitCode, pages: [page], work, browser, server }));
