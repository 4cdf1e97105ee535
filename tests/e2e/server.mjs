// Helpers for the end-to-end tests: run the real uniem binary, start `uniem serve` or `uniem
// workbench` on a free loopback port, read label sections back over HTTP.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// Headless Chromium (Debian's /usr/bin/chromium) through playwright-core; without either the test
// is skipped (exit 77), saying what to install. `args`: more command-line switches for Chromium.
export async function launchChromium(args = []) {
  const executablePath = '/usr/bin/chromium';
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    console.log('skipped: playwright-core is not installed (npm ci in tests/e2e; make test does it)');
    process.exit(77);
  }
  if (!existsSync(executablePath)) {
    console.log('skipped: no /usr/bin/chromium (apt install chromium; make test does it)');
    process.exit(77);
  }
  return chromium.launch({ executablePath, args: ['--no-sandbox', ...args] });
}

export function uniem(binary, args) {
  const r = spawnSync(binary, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`uniem ${args.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

// Starts `uniem serve ARGS --port 0` and resolves { process, url } once it prints its address.
export function serve(binary, args) {
  return start(binary, ['serve', ...args, '--port', '0'], /The proofreader is at (http:\/\/\S+)/);
}

// Starts `uniem serve ARGS --users NAMES --port 0` and resolves { process, urls: {name: address} }
// once every person's address is printed.
export async function serveUsers(binary, args, users) {
  const line = (name) => new RegExp(`The proofreader for ${name} is at (http:\\/\\/\\S+)`);
  const server = await start(binary, ['serve', ...args, '--users', users.join(','), '--port', '0'], line(users.at(-1)));
  return { ...server, urls: Object.fromEntries(users.map((name) => [name, server.output().match(line(name))[1]])) };
}

// Starts `uniem workbench FOLDER ARGS --port 0` (its jobs inherit `env`), resolved as serve() is.
export function workbench(binary, folder, args = [], env = {}) {
  return start(binary, ['workbench', folder, ...args, '--port', '0'], /The workbench for .* is at (http:\/\/\S+)/, env);
}

// Starts `uniem demo ARGS --port 0` (its jobs run first: up to `seconds`), resolved as serve() is.
export function demo(binary, args = [], seconds = 300) {
  return start(binary, ['demo', ...args, '--port', '0'], /The workbench for .* is at (http:\/\/\S+)/, {}, seconds);
}

function start(binary, args, address, env = {}, seconds = 30) {
  const name = `uniem ${args[0]}`;
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${output}`)), seconds * 1000);
    const look = (data) => {
      output += data;
      const m = output.match(address);
      if (m) { clearTimeout(timer); resolve({ process: child, url: m[1], output: () => output }); }
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${name} exited (${code}): ${output}`)); });
  });
}

export async function stop(server, signal = 'SIGTERM') {
  if (server.process.exitCode !== null || server.process.signalCode !== null) return;
  const done = new Promise((resolve) => server.process.once('exit', resolve));
  server.process.kill(signal);
  await done;
}

// The page's secret cookie for a server (web/http.h): edits need it, as they do from the browser,
// which gets it with the page. Fetched again after a restart, when the server has a new one.
const cookies = new Map();
async function pageCookie(origin, fresh = false) {
  if (fresh || !cookies.has(origin)) {
    const r = await fetch(`${origin}/`);
    await r.arrayBuffer();
    cookies.set(origin, (r.headers.get('set-cookie') || '').split(';')[0]);
  }
  return cookies.get(origin);
}

export async function json(url, body) {
  const send = async (fresh) => fetch(url, body === undefined ? {} : {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Cookie: await pageCookie(new URL(url).origin, fresh) },
    body: JSON.stringify(body),
  });
  let r = await send(false);
  if (r.status === 403 && body !== undefined) { await r.arrayBuffer(); r = await send(true); }
  const j = await r.json();
  if (!r.ok) { const e = new Error(j.error || `HTTP ${r.status}`); e.status = r.status; throw e; }
  return j;
}

// All sections of the labels as Uint32Arrays.
export async function labelVolume(base) {
  const info = await json(`${base}api/info`);
  const sections = [];
  for (let z = 0; z < info.shape[0]; ++z) {
    const r = await fetch(`${base}api/labels?z=${z}`);
    sections.push(new Uint32Array(await r.arrayBuffer()));
  }
  return { info, sections, at: (z, y, x) => sections[z][y * info.shape[2] + x] };
}

export function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

// What the page tests ask of a page: a screenshot into `work`, an element's text, and waiting
// until an element's text matches a pattern.
export function pageHelpers(page, work) {
  return {
    shot: async (name, p = page) => { await p.screenshot({ path: `${work}/${name}` }); console.log(`screenshot: ${work}/${name}`); },
    text: (selector) => page.textContent(selector),
    waitText: (selector, pattern, timeout = 10000) => page.waitForFunction(([s, p]) => {
      const e = document.querySelector(s);
      return e && new RegExp(p).test(e.textContent);
    }, [selector, pattern.source], { timeout }),
  };
}

// The end of a browser test: a failure said with its stack, a screenshot of each page (failure.png,
// failure-1.png, ...) and the server's output; then the browser closed and the server stopped.
// Returns the exit status: 1 after a failure, else `exitCode` (set by page errors).
export async function finish({ error, exitCode = 0, pages, work, browser, server }) {
  if (error) {
    exitCode = 1;
    console.error(error.stack || error.message);
    for (const [i, page] of pages.entries()) {
      const file = `${work}/failure${i ? `-${i}` : ''}.png`;
      await page.screenshot({ path: file }).catch(() => {});
      console.error(`screenshot: ${file}`);
    }
    console.error(server.output());
  }
  await browser.close();
  await stop(server);
  return exitCode;
}
