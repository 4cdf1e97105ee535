// Fast ground truth in a real browser (headless Chromium through playwright-core), on a `uniem
// synth` project: the brush doubled and halved ('.' and ','), the wheel moving through the
// sections (Ctrl+wheel zooms), a segment painted on two sections and the sections between filled
// by G, checked voxel by voxel against the server's labels (the shape between two discs, web/
// proofreading/shape_interpolation.h); its outline copied to the next section by O, only into
// background; each undone by one Ctrl+Z, exactly. Every action's message is checked.
// Usage: node fast_gt.test.mjs UNIEM_BINARY WORK_DIR. Exit 77 (skipped) without Chromium or
// playwright-core; screenshots are written to WORK_DIR (gt-*.png).
import { mkdirSync, rmSync } from 'node:fs';
import { uniem, serve, check, launchChromium, finish, pageHelpers, labelVolume } from './server.mjs';

const [binary, work] = process.argv.slice(2);
const browser = await launchChromium();

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
uniem(binary, ['synth', `${work}/synth`, '--shape', '12,160,160', '--seed', '3']);
const server = await serve(binary, ['--images', `${work}/synth/image`, '--labels', `${work}/synth/neurons`, '--project', `${work}/project`]);
const base = server.url;
const pages = [];
let exitCode = 0, error = null;

try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => { console.error(`page error: ${e.message}`); exitCode = 1; });
  await page.goto(base);
  await page.waitForFunction(() => window.uniem && window.uniem.ready && window.uniem.labels);
  pages.push(page);
  const { shot, text, waitText } = pageHelpers(page, work);
  const state = (expr) => page.evaluate(expr);
  const version = () => state(() => window.uniem.version);
  const nx = 160;
  const at = async (y, x) => page.evaluate(([yy, xx]) => window.uniem.toScreen(yy, xx), [y, x]);
  const stamp = async (y, x) => { const [sx, sy] = await at(y, x); await page.mouse.move(sx, sy); await page.mouse.down(); await page.mouse.up(); };
  const section = (z) => state(() => window.uniem.z).then((now) => check(now === z, `on section ${z} (is ${now})`));
  await shot('gt-1-start.png');
  check(await page.isVisible('#groundtruth-panel'), 'the ground truth panel shows');

  // 1. The wheel moves through the sections (down: the next one); Ctrl+wheel zooms and stays.
  await page.locator('#view').hover();
  const z0 = await state(() => window.uniem.z);
  await page.mouse.wheel(0, 100);
  await page.waitForFunction((z) => window.uniem.z === z + 1, z0);
  await page.mouse.wheel(0, -100);
  await page.mouse.wheel(0, -100);
  await page.waitForFunction((z) => window.uniem.z === z - 1, z0);
  const scale = await state(() => window.uniem.scale);
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, -300);
  await page.keyboard.up('Control');
  check(await state(() => window.uniem.scale) > scale, 'Ctrl+wheel zooms in');
  await section(z0 - 1);
  await page.keyboard.press('h');

  // 2. The brush: '.' doubles, ',' halves; the message says the radius.
  await page.keyboard.press('3');
  await page.fill('#brush', '6');
  await page.keyboard.press('Enter');
  await page.keyboard.press('.');
  check(await page.inputValue('#brush') === '12', `'.' doubles the brush: ${await page.inputValue('#brush')}`);
  await waitText('#message', /brush radius 12 voxels/);
  await page.keyboard.press(',');
  await page.keyboard.press(',');
  check(await page.inputValue('#brush') === '3', `',' halves it: ${await page.inputValue('#brush')}`);
  await page.keyboard.press('.');
  await page.keyboard.press('.');  // 12

  // 3. A disc of radius 12 on section 2 (a new segment), one of radius 24 on section 8, then G.
  const goTo = async (z) => { await page.evaluate((zz) => goTo(zz), z); await section(z); };
  await goTo(2);
  let v = await version();
  await stamp(80, 70);
  await page.waitForFunction(() => /^\d+$/.test(document.getElementById('brush-id').value));
  const id = Number(await page.inputValue('#brush-id'));
  check(Number.isInteger(id) && id > 0, `the brush keeps the new segment's id (${id})`);
  for (let k = 0; k < 6; ++k) await page.mouse.wheel(0, 100);  // to section 8, by the wheel
  await page.waitForFunction(() => window.uniem.z === 8);
  await page.keyboard.press('.');  // 24
  v = await version();
  await stamp(80, 90);
  await page.waitForFunction((w) => window.uniem.version > w, v);
  await waitText('#gt-segment', new RegExp(`^segment ${id} \\(the brush's id\\), on section 8$`));
  check(await page.inputValue('#gt-from') === '2', `'between section' is the other painted section: ${await page.inputValue('#gt-from')}`);
  await shot('gt-2-painted-two-sections.png');
  const before = await labelVolume(base);
  await page.check('#gt-overwrite');  // the shape whole, over the synthetic neurons
  v = await version();
  await page.keyboard.press('g');
  await page.waitForFunction((w) => window.uniem.version === w + 1, v);
  await waitText('#message', new RegExp(`^Filled sections 3 to 7 with segment ${id}, shaped between its outlines on 2 and 8 \\([\\d,]+ voxels\\); .*undo with Ctrl\\+Z$`));
  await shot('gt-3-interpolated.png');
  // Sections 3..7 against the shape between the discs: (1-t)(12 - |p - c2|) + t(24 - |p - c8|) > 0,
  // decided for every voxel more than a voxel from the rim; the rest of each section unchanged.
  const after = await labelVolume(base);
  let wrong = 0, inside = 0, rim = 0;
  for (let z = 3; z <= 7; ++z) {
    const t = (z - 2) / 6;
    for (let y = 0; y < 160; ++y)
      for (let x = 0; x < nx; ++x) {
        const f = (1 - t) * (12 - Math.hypot(y - 80, x - 70)) + t * (24 - Math.hypot(y - 80, x - 90));
        const now = after.at(z, y, x), was = before.at(z, y, x);
        if (f >= 1) { inside += now === id; wrong += now !== id; } else if (f <= -1) wrong += now !== was;
        else rim += now === id || now === was ? 0 : 1;
      }
  }
  check(wrong === 0 && rim === 0 && inside > 5 * 600, `the sections between hold the interpolated shape: ${wrong} voxels wrong, ${inside} inside`);
  for (const z of [0, 1, 2, 8, 9, 10, 11])
    check(after.sections[z].every((l, i) => l === before.sections[z][i]), `section ${z} is as it was`);

  await goTo(5);  // what a section between looks like
  await shot('gt-3b-section-5-between.png');
  await goTo(8);

  // 4. O copies the outline of section 8 to section 9, only into background now, and goes there.
  await page.uncheck('#gt-overwrite');
  v = await version();
  await page.keyboard.press('o');
  await page.waitForFunction((w) => window.uniem.version === w + 1, v);
  await page.waitForFunction(() => window.uniem.z === 9);
  await waitText('#message', new RegExp(`^Copied segment ${id}'s outline from section 8 to section 9 \\([\\d,]+ voxels painted(; [\\d,]+ voxels? of other segments kept as they were .*)?\\); now on section 9 - undo with Ctrl\\+Z$`));
  await shot('gt-4-copied.png');
  const copied = await labelVolume(base);
  let painted = 0, kept = 0;
  for (let i = 0; i < 160 * nx; ++i) {
    const was = after.sections[9][i], now = copied.sections[9][i], source = after.sections[8][i] === id;
    if (source && (was === 0 || was === id)) { check(now === id, `voxel ${i} of section 9 is painted`); painted += was === 0; }
    else check(now === was, `voxel ${i} of section 9 is as it was (${was}, now ${now})`);
    kept += source && was !== 0 && was !== id;
  }
  const last = await state(() => window.uniem.groundTruth.last);
  check(last.changed === painted && last.kept === kept, `the copy painted ${painted} voxels and kept ${kept} (server: ${last.changed}, ${last.kept})`);

  // 5. Ctrl+Z takes the copy back, a second one the interpolation: each exactly, one step each.
  v = await version();
  await page.keyboard.press('Control+z');
  await page.waitForFunction((w) => window.uniem.version === w + 1, v);
  await waitText('#message', new RegExp(`^Undid your copied outline of segment ${id} \\(`));
  await page.keyboard.press('Control+z');
  await page.waitForFunction((w) => window.uniem.version === w + 2, v);
  await waitText('#message', new RegExp(`^Undid your interpolation of segment ${id} \\(`));
  await shot('gt-5-undone.png');
  const undone = await labelVolume(base);
  for (let z = 0; z < 12; ++z) check(undone.sections[z].every((l, i) => l === before.sections[z][i]), `section ${z} is as before the interpolation`);

  // 6. Refusals say why: G with sections too close, O on a section without the segment.
  await page.fill('#gt-from', '8');
  await page.keyboard.press('Enter');
  await page.keyboard.press('g');
  await waitText('#message', /^sections 8 and 9 have no section between them to fill/);
  await goTo(11);
  await page.keyboard.press('Shift+O');
  await waitText('#message', new RegExp(`the copy of segment ${id} was not saved: segment ${id} has no voxels on section 11 \\('z'\\); go to a section where it is painted$`));
  await waitText('#gt-segment', new RegExp(`^segment ${id} \\(the brush's id\\), on section 11$`));
  await shot('gt-6-refused.png');
  console.log(`ok: interpolated 5 sections (${inside} voxels checked inside), copied an outline (${painted} painted, ${kept} kept), both undone exactly`);
} catch (e) {
  error = e;
}
process.exit(await finish({ error, exitCode, pages, work, browser, server }));
