// What every uniem page uses to talk to its server: url() adds the access token the page's address
// holds (a server on the lab network asks for it), api() sends JSON and turns the server's
// refusals ({"error": ...}) and silence into errors whose message says what happened; and el(),
// how the pages make their elements.
'use strict';

const pageToken = new URLSearchParams(location.search).get('token') || '';

function url(path, query = {}) {
  const q = new URLSearchParams(query);
  if (pageToken) q.set('token', pageToken);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

async function api(path, body, query = {}) {
  const options = body === undefined ? {} :
    { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
  let response;
  try {
    response = await fetch(url(path, query), options);
  } catch {
    throw new Error('the server does not answer: is uniem still running?');
  }
  const json = await response.json().catch(() => ({ error: `the server answered HTTP ${response.status}` }));
  if (!response.ok) {
    const e = new Error(json.error || `the server answered HTTP ${response.status}`);
    e.status = response.status;
    throw e;
  }
  return json;
}

// An element with its attributes ("class", "text", "onclick": a listener, properties) and children.
function el(tag, attributes = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k in e && typeof v !== 'string') e[k] = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}
