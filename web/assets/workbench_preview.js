// The filter form's live preview (UNI-EM's filter dialog): the steps of the form applied to a crop
// of one section of the input stack, next to the crop as it is, redrawn 300 ms after the steps,
// the input or the section change (GET api/data/preview: the code uniem filter runs, in 2D). A
// bad step says which and why. And the workspace's paths, offered in every input field.
'use strict';

const preview = { timer: 0, asked: 0, urls: [] };

// The preview block, for forms with steps (filter).
function filterPreview() {
  return el('div', { id: 'filter-preview', class: 'filter-preview' },
    el('div', { class: 'preview-head' },
      el('b', { text: 'Preview' }),
      el('span', { class: 'muted', text: ' of the steps on a 256 × 256 crop of one section (each section on its own, as without --3d)' })),
    el('div', { class: 'preview-row' },
      el('label', { for: 'preview-z', text: 'Section' }),
      el('input', { id: 'preview-z', type: 'range', min: 0, max: 0, value: 0, title: 'which section to preview',
        oninput: () => { $('preview-z-text').textContent = `${Number($('preview-z').value) + 1}`; previewChanged(); } }),
      el('span', { id: 'preview-z-text', class: 'muted', text: '' })),
    el('div', { class: 'preview-pictures' },
      el('figure', {}, el('img', { id: 'preview-before', alt: 'the crop as it is' }), el('figcaption', { text: 'as it is' })),
      el('figure', {}, el('img', { id: 'preview-after', alt: 'the crop after the steps' }), el('figcaption', { id: 'preview-after-caption', text: 'after the steps' }))),
    el('div', { id: 'preview-message', class: 'message', role: 'status', 'aria-live': 'polite' }));
}

function previewSay(text, kind = 'info') {
  const m = $('preview-message');
  if (!m) return;
  m.textContent = text;
  m.className = `message ${kind}`;
}

// Called whenever the form changes.
function previewChanged() {
  if (!$('filter-preview')) return;
  clearTimeout(preview.timer);
  preview.timer = setTimeout(drawPreview, 300);
}

async function fetchPicture(path, z, steps) {
  const response = await fetch(url('api/data/preview', { path, z, crop: 256, steps: JSON.stringify(steps) }));
  if (!response.ok) {
    const answer = await response.json().catch(() => ({ error: `the server answered HTTP ${response.status}` }));
    const e = new Error(answer.error || `HTTP ${response.status}`);
    e.step = answer.step;
    throw e;
  }
  return { blob: await response.blob(), info: JSON.parse(response.headers.get('X-Uniem-Preview') || '{}') };
}

async function drawPreview() {
  const input = state.fields.find((f) => f.arg.name === 'in');
  const path = input ? input.element.value.trim() : '';
  if (!path) {
    previewSay('Choose the input stack ("in") to see a preview.');
    return;
  }
  const item = ((typeof data !== 'undefined' && data.list && data.list.items) || []).find((i) => i.path === path);
  const slider = $('preview-z');
  if (item && item.shape) {
    const last = item.shape[0] - 1;
    if (Number(slider.max) !== last) {
      slider.max = last;
      if (!preview.placed) { slider.value = Math.floor(item.shape[0] / 2); preview.placed = true; }
    }
  }
  const z = Number(slider.value);
  $('preview-z-text').textContent = `${z + 1} of ${Number(slider.max) + 1}`;
  const steps = collect().args.steps || [];
  const asked = ++preview.asked;
  try {
    const [before, after] = await Promise.all([fetchPicture(path, z, []), fetchPicture(path, z, steps)]);
    if (asked !== preview.asked) return;  // a newer form is being previewed
    for (const u of preview.urls) URL.revokeObjectURL(u);
    preview.urls = [URL.createObjectURL(before.blob), URL.createObjectURL(after.blob)];
    $('preview-before').src = preview.urls[0];
    $('preview-after').src = preview.urls[1];
    $('preview-after-caption').textContent = steps.length ? `after the ${steps.length} step${steps.length === 1 ? '' : 's'} (${after.info.dtype})` : 'no steps yet';
    previewSay(`Section ${after.info.z + 1}, crop at y ${after.info.crop[0]}, x ${after.info.crop[1]}; computed in ${Math.round(after.info.milliseconds)} ms.`);
  } catch (e) {
    if (asked !== preview.asked) return;
    previewSay(e.step !== undefined ? `Step ${e.step + 1} cannot be previewed: ${e.message}` : `No preview: ${e.message}`, 'error');
  }
}

// Every path of the workspace the Data page knows, offered in the input fields as you type.
function updateWorkspacePaths(items) {
  let list = $('workspace-paths');
  if (!list) {
    list = el('datalist', { id: 'workspace-paths' });
    document.body.append(list);
  }
  list.replaceChildren(...items.map((i) => el('option', { value: i.path, label: `${i.name} (${i.kind})` })));
}
