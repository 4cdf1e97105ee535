// What every uniem page uses to talk to its server: url() adds the access token the page's address
// holds (a server on the lab network asks for it), api() sends JSON and turns the server's
// refusals ({"error": ...}) and silence into errors whose message says what happened.
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
