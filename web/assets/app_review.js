// The proofreader's review queue (index.html #review-panel): the problems worth a look, one after
// the other, and the segments people have marked as checked. Loaded after app.js, app_lists.js
// and app_display.js, whose state and functions it uses.
// Contract:
//  - refreshReview() asks the server for the queue (GET api/review, web/proofreading/session.h
//    review(): segment candidates with their reasons and who checked them, the markers, the
//    progress) and shows the progress: "N of M segments checked" and the voxels they hold. app.js
//    calls it at the start, app_lists.js scheduleLists after every edit and every event.
//  - The queue is the markers (in the order they were placed), then the segments the server lists
//    (very large, small fragments, gaps in z, at the edge only). A problem is open while its
//    segment is not checked; a marker stays open until it is removed.
//  - nextProblem(step) (R: +1, Shift+R: -1) goes to the next open problem after the one shown, in
//    queue order, wrapping around: pressing R as many times as there are open problems shows each
//    once; when the one shown is gone (deleted, merged), the one that followed it comes next. A
//    segment is selected and shown whole (at the gap, for a gap); a marker is gone to, and its
//    segment selected. The panel says which problem it is and why it is listed.
//  - toggleChecked(id) (C, the row's tick box, the panel's button) marks the segment checked or
//    not: the journaled 'check' edit, undone by Ctrl+Z like a name.
//  - reviewCell(tr, s, held) adds a segment row's tick box (app_lists.js renderSegments).
//  - state.review (for the browser tests): data (the server's answer), items [{key, kind: 'marker'
//    | 'segment', id, marker?, reasons}], at (the key of the problem gone to, '' none), place (its
//    index in items then), shown (the
//    same once the view and the panel show it), visited (the keys gone to, in order).
'use strict';

state.review = { data: null, items: [], at: '', place: -1, shown: '', visited: [] };

const plural = (n, one, many = `${one}s`) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

async function refreshReview() {
  const small = Number($('review-small').value);
  let data;
  try {
    data = await api('api/review', undefined, Number.isInteger(small) && small >= 2 ? { small } : {});
  } catch (e) {
    if (e.status === undefined) whenServerAnswers(); else say(e.message, true);
    return null;
  }
  state.review.data = data;
  state.review.items = [
    ...data.markers.map((m) => ({ key: m.key, kind: 'marker', id: m.segment || 0, marker: m,
      reasons: [`marker${m.note ? ` "${m.note}"` : ''} placed by ${m.user}`] })),
    ...data.candidates.map((c) => ({ key: `segment/${c.id}`, kind: 'segment', id: c.id, candidate: c,
      reasons: c.reasons.map((r) => r.text) })),
  ];
  showReview();
  return data;
}

function isOpen(item) { return item.kind === 'marker' || !item.candidate.checked_by; }
function openItems() { return state.review.items.filter(isOpen); }
// Who checked segment `id` ('' nobody), as the queue or the list shown knows; undefined when neither holds it.
function checkedBy(id) {
  const c = state.review.items.find((i) => i.kind === 'segment' && i.id === id);
  if (c) return c.candidate.checked_by;
  return state.segments.find((s) => s.id === id)?.checked_by;
}

function showReview() {
  const { data } = state.review;
  if (!data) return;
  const p = data.progress, share = p.voxels ? (100 * p.checked_voxels) / p.voxels : 0;
  $('review-progress').textContent = `${p.checked.toLocaleString('en')} of ${plural(p.segments, 'segment')} checked; ` +
    `${p.checked_voxels.toLocaleString('en')} of ${plural(p.voxels, 'voxel')} (${share.toFixed(share > 0 && share < 1 ? 1 : 0)}%)`;
  $('review-fill').style.width = `${share}%`;
  const open = openItems(), markers = open.filter((i) => i.kind === 'marker').length;
  $('review-open').textContent = open.length
    ? `${plural(open.length, 'problem')} to look at${markers ? ` (${plural(markers, 'marker')})` : ''}` : 'nothing left to look at';
  $('review-small').placeholder = data.small_below;
  const median = `the median segment, ${plural(data.median, 'voxel')}`;
  $('rule-small').textContent = $('review-small').value ? `as you set it; empty: a tenth of ${median}` : `by default a tenth of ${median}`;
  $('rule-large').textContent = `${plural(data.large_above, 'voxel')}, 10 times ${median}`;
  $('rule-rim').textContent = data.rim;
  showCurrentProblem();
}

// The panel's line about the problem shown, and the button that marks its segment.
function showCurrentProblem() {
  const item = state.review.items.find((i) => i.key === state.review.at), box = $('review-current');
  const id = state.selected, by = id ? checkedBy(id) || '' : '';
  $('review-check').textContent = id ? (by ? `segment ${id} is checked` : `mark ${id} checked (C)`) : 'mark checked (C)';
  $('review-check').classList.toggle('active', !!by);
  $('review-check').title = id ? (by ? `segment ${id} was marked checked by ${by === me() ? 'you' : by}; click or C: not checked`
    : `segment ${id} is right, or you fixed it: mark it checked (C)`) : 'select a segment first (a click in Navigate, or its row)';
  if (!item) {
    if (!state.review.data) return;
    const open = openItems().length;
    box.className = open ? '' : 'done';
    box.textContent = open ? 'Press R to go to the first problem.' : 'Nothing left to look at: every listed segment is checked and there are no markers.';
    return;
  }
  const open = openItems(), place = open.indexOf(item);
  const title = item.kind === 'marker' ? `Marker at z ${item.marker.z} y ${item.marker.y} x ${item.marker.x}${item.id ? `, on segment ${item.id}` : ''}`
    : `Segment ${item.id}`;
  const checked = item.kind === 'segment' && item.candidate.checked_by;
  box.className = checked ? 'done' : '';
  box.innerHTML = '';
  const head = document.createElement('b');
  head.textContent = `${place >= 0 ? `Problem ${place + 1} of ${open.length}` : 'Checked'}: ${title}`;
  box.append(head);
  for (const reason of item.reasons) box.append(document.createElement('br'), `\u2022 ${reason}`);
  box.append(document.createElement('br'), checked
    ? `Checked by ${checked === me() ? 'you' : checked}. R: the next problem.`
    : item.kind === 'marker' ? 'Fix it, then remove the marker (x in the markers list); R: the next problem.'
    : 'Fix it (merge, split, paint, delete) or, if it is right, mark it checked (C); R: the next problem.');
}

async function nextProblem(step = 1) {
  if (!(await refreshReview())) return;
  const { items } = state.review, open = openItems();
  if (!open.length) {
    state.review.at = '';
    showCurrentProblem();
    return say('nothing left to look at: every listed segment is checked and there are no markers');
  }
  // The next open problem after the one shown, in queue order (the shown one may be checked now,
  // or gone: deleted or merged, the usual fix of a fragment; then from the place it had).
  let here = items.findIndex((i) => i.key === state.review.at);
  if (here < 0 && state.review.at) here = step > 0 ? state.review.place - 1 : state.review.place;
  let item = null;
  for (let k = 1; k <= items.length && !item; ++k) {
    const i = items[(((here < 0 ? (step > 0 ? -1 : 0) : here) + step * k) % items.length + items.length) % items.length];
    if (isOpen(i)) item = i;
  }
  state.review.at = item.key;
  state.review.place = items.indexOf(item);
  state.review.shown = '';
  state.review.visited.push(item.key);
  if (item.kind === 'marker') {
    const m = item.marker;
    state.markerIndex = state.markers.findIndex((x) => x.key === m.key);
    select(item.id);  // the segment under the marker, or none
    await goTo(m.z, m.y, m.x);
    renderMarkers();
  } else if (item.candidate.z !== undefined) {  // a gap: its last section before the gap
    const c = item.candidate;
    select(c.id);
    await goTo(c.z, c.y, c.x);
    highlightJump(c.id);
    showWhole(c.id, c.y, c.x);
  } else {
    await jumpTo(String(item.id));
  }
  showCurrentProblem();
  const place = openItems().findIndex((i) => i.key === item.key) + 1;
  const row = document.querySelector(`#segments tr[data-id="${item.id}"]`);
  if (row) row.scrollIntoView({ block: 'nearest' });
  say(`Problem ${place} of ${openItems().length}: ${item.kind === 'marker' ? '' : `segment ${item.id}, `}${item.reasons.join('; ')}`, false, true);
  state.review.shown = item.key;
}

async function toggleChecked(id) {
  if (!id) return say('select a segment first (a click in Navigate, or its row), then C marks it checked', true);
  let was = checkedBy(id);
  if (was === undefined) {  // neither listed nor on the list's page: asked of the server
    const page = await api('api/segments', undefined, { count: 10000, search: String(id) }).catch(() => null);
    was = page?.items.find((s) => s.id === id)?.checked_by || '';
  }
  const holder = lockHolder(state.annotated.get(id)?.locked_by);
  if (holder) return say(heldBy(id, holder), true);
  if (!(await edit('check', { id, checked: !was }))) return;
  await Promise.all([refreshReview(), refreshSegments()]);
  const p = state.review.data.progress;
  say(`${was ? `Segment ${id} is not checked any more` : `Segment ${id} marked checked`}: ${p.checked} of ${plural(p.segments, 'segment')} checked now` +
    `${was ? '' : `; R: the next problem (${plural(openItems().length, 'problem')} left)`} - undo with Ctrl+Z`);
}

function reviewCell(tr, s, held) {
  const cell = tr.insertCell(), box = document.createElement('input');
  box.type = 'checkbox';
  box.className = 'checked-box';
  box.checked = !!s.checked_by;
  box.disabled = !!held;
  box.title = held || (s.checked_by ? `checked by ${s.checked_by === me() ? 'you' : s.checked_by}; untick: not checked` : 'tick when the segment is right (checked in the review)');
  box.onclick = (e) => { e.stopPropagation(); e.preventDefault(); toggleChecked(s.id); };
  cell.append(box);
  if (s.checked_by) tr.classList.add('checked-segment');
}

$('review-next').onclick = () => nextProblem(1);
$('review-prev').onclick = () => nextProblem(-1);
$('review-check').onclick = () => toggleChecked(state.selected);
$('review-small').onchange = async () => {
  await refreshReview();
  const d = state.review.data;
  if (d) say(`small fragments: fewer than ${plural(d.small_below, 'voxel')}; ${plural(openItems().length, 'problem')} to look at now`);
};
window.addEventListener('keydown', (e) => {
  if (typing(e.target) || e.ctrlKey || e.metaKey || e.altKey || !state.info) return;
  if (e.key === 'r' || e.key === 'R') nextProblem(e.shiftKey ? -1 : 1);
  else if (e.key === 'c' || e.key === 'C') toggleChecked(state.selected);
});
