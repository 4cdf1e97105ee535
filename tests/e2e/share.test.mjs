// A viewer on another web site reads the workspace's volumes under /share/ (web/http.h,
// web/workspace/data_service.h), in a real browser: a page served by a second server (the
// "viewer", as Neuroglancer or webKnossos would be) fetches an OME-Zarr's metadata and a byte range
// of a chunk from `uniem workbench --share-to VIEWER`, as Neuroglancer does; a page on a third,
// unnamed site is refused by the browser (no CORS headers for it). Nothing is written.
// Usage: node share.test.mjs UNIEM_BINARY WORK_DIR
import { createServer } from 'node:http';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { check, finish, launchChromium, uniem, workbench } from './server.mjs';

const [binary, work] = process.argv.slice(2);
rmSync(work, { recursive: true, force: true });
mkdirSync(`${work}/workspace`, { recursive: true });
uniem(binary, ['synth', `${work}/synth`, '--shape', '4,64,64', '--quiet']);
uniem(binary, ['convert', `${work}/synth/image`, `${work}/workspace/raw.zarr`]);
const chunk = readFileSync(`${work}/workspace/raw.zarr/0/0/0/0`);

// Two sites on other ports: the viewer named to uniem, and another one.
const page = '<!doctype html><title>viewer</title><p>viewer</p>';
const sites = await Promise.all([0, 1].map(() => new Promise((resolve) => {
  const s = createServer((req, res) => { res.setHeader('Content-Type', 'text/html'); res.end(page); });
  s.listen(0, '127.0.0.1', () => resolve(s));
})));
const [viewer, other] = sites.map((s) => `http://127.0.0.1:${s.address().port}`);
const server = await workbench(binary, `${work}/workspace`, ['--no-browser', '--share-to', viewer]);
const base = new URL(server.url).origin;
const browser = await launchChromium();
const pages = [];
let error;
try {
  const tab = await browser.newPage();
  pages.push(tab);
  await tab.goto(viewer);
  const read = (url, range) => tab.evaluate(async ([u, r]) => {
    try {
      const res = await fetch(u, r ? { headers: { Range: r } } : {});
      return { status: res.status, bytes: Array.from(new Uint8Array(await res.arrayBuffer())), range: res.headers.get('content-range') };
    } catch (e) {
      return { error: String(e) };
    }
  }, [url, range]);
  const attrs = await read(`${base}/share/raw.zarr/.zattrs`);
  check(attrs.status === 200 && JSON.parse(Buffer.from(attrs.bytes).toString()).multiscales, 'the viewer reads the OME-Zarr metadata');
  const part = await read(`${base}/share/raw.zarr/0/0/0/0`, 'bytes=2-9');
  check(part.status === 206 && Buffer.from(part.bytes).equals(chunk.subarray(2, 10)) && part.range === `bytes 2-9/${chunk.length}`,
        `the viewer reads a byte range of a chunk (${part.range})`);
  const whole = await read(`${base}/share/raw.zarr/0/0/0/0`);
  check(whole.status === 200 && Buffer.from(whole.bytes).equals(chunk), 'and the whole chunk, as it is on disk');
  const tab2 = await browser.newPage();
  pages.push(tab2);
  await tab2.goto(other);
  const refused = await tab2.evaluate(async (u) => {
    try { await fetch(u); return 'read'; } catch (e) { return 'refused'; }
  }, `${base}/share/raw.zarr/.zattrs`);
  check(refused === 'refused', 'a page on a site not named with --share-to cannot read it');
  console.log('share: all checks passed');
} catch (e) {
  error = e;
}
for (const s of sites) s.close();
process.exit(await finish({ error, pages, work, browser, server }));
