// The proofreader's side panel (web/assets/index.html): the segment list, a page at a time as the
// server sorts and searches it, with lock, name and delete per row; the markers; and jumps to a
// segment or to z,y,x. Loaded after app.js, whose state and functions it uses.
'use strict';

// ---- lists ----------------------------------------------------------------------------------
async function refreshSegments() {
  const query = { count: state.segmentPage, offset: state.segmentOffset, sort: state.sort,
    order: state.sortDown ? 'down' : 'up', search: $('search').value.trim() };
  const page = await api('api/segments', undefined, query).catch((e) => {
    if (e.status === undefined) whenServerAnswers(); else say(e.message, true);  // no answer: asked again later
    return null;
  });
  if (!page) return;
  if (page.items.length === 0 && page.matching > 0 && state.segmentOffset > 0) {  // the list shrank
    state.segmentOffset = Math.floor((page.matching - 1) / state.segmentPage) * state.segmentPage;
    return refreshSegments();
  }
  state.segments = page.items;
  state.matching = page.matching;
  state.total = page.total;
  state.segmentOffset = page.offset;
  state.annotated = new Map(page.annotated.map((a) => [a.id, a]));
  noticeProjectColours();  // app_display.js
  renderSegments();
  showCursor();
}
function segmentPage(step) {
  const offset = state.segmentOffset + step * state.segmentPage;
  if (offset < 0 || offset >= state.matching) return;
  state.segmentOffset = offset;
  refreshSegments();
}
async function refreshMarkers() {
  state.markers = await api('api/markers').catch(() => state.markers);
  renderMarkers();
  draw();
}
function scheduleLists() {
  clearTimeout(scheduleLists.timer);
  scheduleLists.timer = setTimeout(() => { refreshSegments(); refreshMarkers(); refreshReview(); }, 250);
}

// Who holds a lock when it is not this person ('' when nobody does or this person does), and
// what the page says about such a segment.
function lockHolder(lockedBy) { return lockedBy && lockedBy !== me() ? lockedBy : ''; }
function heldBy(id, holder) { return `segment ${id} is locked by ${holder}: only ${holder} can unlock, change, rename or delete it`; }

function renderSegments() {
  $('segment-count').textContent = `(${state.total})`;
  const first = state.matching ? state.segmentOffset + 1 : 0, last = state.segmentOffset + state.segments.length;
  $('segment-range').textContent = `${first}-${last} of ${state.matching}${state.matching < state.total ? ' found' : ''}`;
  $('prev-segments').disabled = state.segmentOffset === 0;
  $('next-segments').disabled = last >= state.matching;
  // The active sort: bold, with an arrow for its direction.
  for (const a of document.querySelectorAll('[data-sort], [data-column]')) {
    const by = a.dataset.sort || a.dataset.column, on = by === state.sort;
    a.classList.toggle('active', on);
    a.textContent = a.textContent.replace(/ [\u25b2\u25bc]$/, '') + (on ? (state.sortDown ? ' \u25bc' : ' \u25b2') : '');
  }
  const body = $('segments').tBodies[0];
  body.textContent = '';
  for (const s of state.segments) {
    const tr = body.insertRow();
    tr.dataset.id = s.id;
    if (state.picked.includes(s.id) || s.id === state.selected) tr.className = 'selected';
    tr.insertCell().textContent = s.id;  // after the swatch, a colour picker (app_display.js)
    tr.insertCell().textContent = s.voxels;
    tr.insertCell().textContent = s.name;
    // Another person's lock: only they can unlock, rename or delete the segment, so its buttons
    // are greyed and say who holds it.
    const holder = lockHolder(s.locked_by), held = holder ? heldBy(s.id, holder) : '';
    const lock = tr.insertCell();  // under the column 'lock': who holds it
    lock.textContent = !s.locked_by ? '' : holder || 'you';
    lock.title = !s.locked_by ? '' : holder ? `locked by ${holder}` : 'locked by you: nobody else can change it';
    reviewCell(tr, s, held);  // under the column of ticks: checked in the review (app_review.js)
    const actions = tr.insertCell();
    const button = (label, title, fn) => {
      const b2 = document.createElement('button');
      b2.textContent = label;
      b2.title = held || title;
      b2.disabled = !!held;
      b2.onclick = (e) => { e.stopPropagation(); fn(); };
      actions.appendChild(b2);
    };
    button(s.locked_by ? 'unlock' : 'lock', s.locked_by ? 'unlock the segment: others may change it again' : 'lock the segment against edits by others',
      () => edit(s.locked_by ? 'unlock' : 'lock', { id: s.id }));
    button('name', 'give the segment a name', () => {
      const name = prompt(`Name of segment ${s.id}`, s.name);
      if (name !== null) edit('name', { id: s.id, name });
    });
    button('del', 'delete the segment (it becomes background)', () => { if (confirm(`Delete segment ${s.id}?`)) edit('delete', { id: s.id }); });
    tr.onclick = () => { select(s.id); jumpTo(String(s.id)); };
    displayControls(tr, s.id);
  }
  showCurrentProblem();  // the review panel's button names the selected segment (app_review.js)
}

function renderMarkers() {
  $('marker-count').textContent = `(${state.markers.length})`;
  const ul = $('markers');
  ul.textContent = '';
  state.markers.forEach((m, i) => {
    const li = document.createElement('li');
    const what = [m.name, m.type ? `(${m.type})` : ''].filter(Boolean).join(' ');  // named in the 3D view
    li.textContent = `${what ? what + ': ' : ''}z ${m.z} y ${m.y} x ${m.x} ${m.note ? '- ' + m.note : ''} (${m.user})`;
    if (i === state.markerIndex) li.className = 'current';
    li.onclick = () => { state.markerIndex = i; goTo(m.z, m.y, m.x); renderMarkers(); };
    const del = document.createElement('button');
    del.textContent = 'x';
    del.title = 'remove this marker';
    del.onclick = (e) => { e.stopPropagation(); edit('unmark', { key: m.key }); };
    li.appendChild(del);
    ul.appendChild(li);
  });
}

function stepMarker(d) {
  if (!state.markers.length) return say('there are no markers');
  state.markerIndex = (state.markerIndex + d + state.markers.length) % state.markers.length;
  const m = state.markers[state.markerIndex];
  goTo(m.z, m.y, m.x);
  renderMarkers();
}

// Zooms, centred on voxel (y, x) of segment `id`, so that all of it on this section is in view
// (with a margin), at most 8 screen pixels a voxel.
function showWhole(id, y, x) {
  const { labels, lw, lh } = state, step = 1 << state.level;
  let far = 0;  // the farthest its voxels reach from (y, x), in the larger of the view's two proportions
  for (let j = 0, i = 0; j < lh; ++j)
    for (let k = 0; k < lw; ++k, ++i)
      if (labels[i] === id)
        far = Math.max(far, (Math.abs(j * step - y) + step) * canvas.width / canvas.height, Math.abs(k * step - x) + step);
  const scale = clampScale(Math.min(8, 0.8 * canvas.width / 2 / Math.max(4, far)));  // 8: a little around it shows
  state.scale = scale;
  state.zoomed = true;
  state.ox = canvas.width / 2 - (x + 0.5) * scale;
  state.oy = canvas.height / 2 - (y + 0.5) * scale;
  draw();
  refreshSection();
}

async function jumpTo(text) {
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.length === 3 && parts.every(Number.isInteger)) return goTo(parts[0], parts[1], parts[2]);
  if (parts.length === 1 && Number.isInteger(parts[0]) && parts[0] > 0) {
    let s;
    const moves = state.moves;
    try {
      s = await api('api/segment', undefined, { id: parts[0] });
    } catch (e) { return say(e.message, true); }
    if (state.moves !== moves) return;  // the person went elsewhere while the server answered
    // The server gives a voxel of the segment on the section of its box nearest the middle that holds it.
    if (s.y < 0 || s.x < 0) return say(`segment ${parts[0]} has no voxels: there is nothing to show`, true);
    if (state.selected !== parts[0]) select(parts[0]);  // highlighted where it is shown
    await goTo(s.z, s.y, s.x);
    highlightJump(parts[0]);  // opaque and outlined until the next action (app_display.js)
    showWhole(parts[0], s.y, s.x);
    return say(`segment ${parts[0]} is on sections ${s.box[0]} to ${s.box[3] - 1}; shown here on section ${s.z}`);
  }
  say('jump takes a segment id or z,y,x', true);
}

