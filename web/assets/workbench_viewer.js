// The stack viewer of the Data view (workbench.js has the helpers): one section of a stack at a
// time (GET the item's sections_url &z=Z, a PNG), chosen with a slider, a number or the keys;
// zoom (fit, 1:1, +/-, the mouse wheel, around the pointer); the contrast of an image stack
// (&low=&high=); and a label stack of the same shape drawn on top in colours (&as=labels, blended
// so that its background, 0, leaves the image as it is). One request is in flight at a time: while
// the slider moves, the newest section wins and the ones passed over are never asked for.
'use strict';

const viewer = {
  item: null,        // the stack shown (an item of GET api/data)
  z: 0,              // its section, from 0
  zoom: 1,           // screen pixels per voxel
  fit: true,         // the zoom follows the window
  low: null,         // contrast: null lets the server choose
  high: null,
  overlay: '',       // the path of the label stack drawn on top, or ''
  loading: false,    // a section is being fetched
  timer: 0,
  opener: null,      // the element to give the focus back to on Close
  shown: '',         // the address of the section shown
};

const typeRange = { uint8: [0, 255], uint16: [0, 65535], int8: [-128, 127], int16: [-32768, 32767] };

function openViewer(item) {
  viewer.item = item;
  viewer.opener = document.activeElement;
  const [nz, ny, nx] = item.shape;
  viewer.z = Math.floor((nz - 1) / 2);
  viewer.low = viewer.high = null;
  viewer.overlay = '';
  viewer.fit = true;
  viewer.shown = '';
  $('viewer-title').textContent = item.name;
  $('viewer-title').title = item.path;
  $('viewer-shape').textContent = `${nz} × ${ny} × ${nx} voxels (z × y × x): ${nz} sections, each ${nx} pixels wide and ` +
    `${ny} high; ${typeText(item)}; ${voxelText(item.voxel_size)}`;
  for (const id of ['viewer-slider', 'viewer-z']) { $(id).max = nz; $(id).min = 1; }
  $('viewer-slider').disabled = $('viewer-z').disabled = nz < 2;

  // Contrast, for image stacks: sliders over the type's range, number boxes otherwise.
  const images = item.kind === 'images';
  $('viewer-contrast').hidden = !images;
  const range = typeRange[item.dtype];
  for (const id of ['viewer-low', 'viewer-high']) {
    const input = $(id);
    input.type = range ? 'range' : 'number';
    input.step = range ? 1 : 'any';
    if (range) { input.min = range[0]; input.max = range[1]; } else { input.removeAttribute('min'); input.removeAttribute('max'); }
  }
  drawContrast();

  $('viewer-overlay').hidden = !images;
  delete $('viewer-labels').dataset.key;  // drawn anew: no overlay chosen yet
  drawOverlayChoices();
  $('viewer-overlay-image').hidden = true;
  $('viewer-overlay-image').removeAttribute('src');
  $('viewer-image').removeAttribute('src');
  delete $('viewer-image').dataset.z;
  say('viewer-message', '');

  $('viewer').hidden = false;
  applyZoom();
  drawWhere();
  loadSection();
  $('viewer-stage').focus();
}

// Labels on top: the label stacks of the same shape, and no grey stack (drawn in colours, an image
// is noise). The one chosen stays chosen while it is listed; drawn again when the list is read anew
// (drawData), so a segmentation just made is offered.
function drawOverlayChoices() {
  const item = viewer.item;
  if (!item) return;
  const [nz, ny, nx] = item.shape;
  const labels = (data.list ? data.list.items : []).filter((i) => i.kind === 'labels' && i.path !== item.path && i.shape
    && i.shape[0] === nz && i.shape[1] === ny && i.shape[2] === nx);
  const pick = $('viewer-labels');
  const key = JSON.stringify([item.path, labels.map((i) => i.path)]);
  if (pick.dataset.key === key) return;
  pick.dataset.key = key;
  if (viewer.overlay && !labels.some((i) => i.path === viewer.overlay)) {  // gone from the workspace
    viewer.overlay = '';
    loadSection();
  }
  pick.replaceChildren(el('option', { value: '', text: labels.length ? 'none' : 'none of this shape in the workspace' }),
    ...labels.map((i) => el('option', { value: i.path, text: i.path })));
  pick.value = viewer.overlay;
  pick.disabled = labels.length === 0;
  pick.title = labels.length ? 'a segmentation of the same shape, drawn on top in colours'
    : `no label stack has this stack's shape (${nz} × ${ny} × ${nx}); segment it first, or add the folder that holds one`;
}

function closeViewer() {
  if ($('viewer').hidden) return;
  $('viewer').hidden = true;
  clearTimeout(viewer.timer);
  viewer.item = null;
  if (viewer.opener && document.contains(viewer.opener)) viewer.opener.focus();
}

// ---- the section ---------------------------------------------------------------------------------
function sectionAddress(item, z, extra) {
  const q = new URLSearchParams({ z: String(z), ...extra });
  return withToken(`${item.sections_url}${item.sections_url.includes('?') ? '&' : '?'}${q}`);
}

function goToSection(z) {
  const nz = viewer.item.shape[0];
  const next = Math.max(0, Math.min(nz - 1, Math.round(z)));
  if (next === viewer.z) { drawWhere(); return; }
  viewer.z = next;
  drawWhere();
  requestSection();
}

function drawWhere() {
  const nz = viewer.item.shape[0];
  $('viewer-slider').value = viewer.z + 1;
  if (document.activeElement !== $('viewer-z')) $('viewer-z').value = viewer.z + 1;
  $('viewer-where').textContent = `section ${viewer.z + 1} of ${nz}`;
  $('viewer-where').title = `z = ${viewer.z} in the files, where the first section is 0`;
}

// A short wait while the slider moves, then one request at a time, for the newest section.
function requestSection() {
  clearTimeout(viewer.timer);
  viewer.timer = setTimeout(loadSection, 40);
}

function picture(address) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = async () => {
      // The picture failed: the server's words, read as JSON.
      const why = await fetch(address).then((r) => r.json()).then((j) => j.error).catch(() => '');
      reject(new Error(why || 'the server did not send it'));
    };
    image.src = address;
  });
}

async function loadSection() {
  const item = viewer.item;
  if (!item) return;
  if (viewer.loading) { viewer.again = true; return; }
  const z = viewer.z;
  const extra = item.kind === 'images' && viewer.low !== null ? { low: String(viewer.low), high: String(viewer.high) } : {};
  const address = sectionAddress(item, z, extra);
  const overlayItem = viewer.overlay && data.list && data.list.items.find((i) => i.path === viewer.overlay);
  const overlayAddress = overlayItem ? sectionAddress(overlayItem, z, /[?&]as=labels/.test(overlayItem.sections_url) ? {} : { as: 'labels' }) : '';
  if (`${address} ${overlayAddress}` === viewer.shown) return;
  viewer.loading = true;
  const slow = setTimeout(() => say('viewer-message', `Reading section ${z + 1}...`, 'busy'), 400);
  try {
    await Promise.all([picture(address), overlayAddress ? picture(overlayAddress) : null]);
    if (viewer.item === item) {
      const image = $('viewer-image');
      image.src = address;
      image.dataset.z = z;
      image.alt = `section ${z + 1} of ${item.name}`;
      const top = $('viewer-overlay-image');
      top.hidden = !overlayAddress;
      if (overlayAddress) { top.src = overlayAddress; top.dataset.z = z; } else top.removeAttribute('src');
      viewer.shown = `${address} ${overlayAddress}`;
      say('viewer-message', '');
    }
  } catch (e) {
    if (viewer.item === item) say('viewer-message', `Section ${z + 1} could not be shown: ${e.message}`, 'error');
  } finally {
    clearTimeout(slow);
    viewer.loading = false;
  }
  if (viewer.again) { viewer.again = false; loadSection(); }
}

// ---- zoom ----------------------------------------------------------------------------------------
function fitZoom() {
  const stage = $('viewer-stage');
  const [, ny, nx] = viewer.item.shape;
  return Math.max(0.01, Math.min((stage.clientWidth - 8) / nx, (stage.clientHeight - 8) / ny));
}

// Zoom to `zoom`, keeping the voxel under (px, py) of the stage where it is (the middle by default).
function setZoom(zoom, px, py) {
  const stage = $('viewer-stage');
  const canvas = $('viewer-canvas');
  if (px === undefined) { px = stage.clientWidth / 2; py = stage.clientHeight / 2; }
  const before = canvas.getBoundingClientRect(), box = stage.getBoundingClientRect();
  const vx = (box.left + px - before.left) / viewer.zoom, vy = (box.top + py - before.top) / viewer.zoom;
  viewer.zoom = Math.max(0.01, Math.min(32, zoom));
  applyZoom();
  const after = canvas.getBoundingClientRect();
  stage.scrollLeft += after.left + vx * viewer.zoom - (box.left + px);
  stage.scrollTop += after.top + vy * viewer.zoom - (box.top + py);
}

function applyZoom() {
  if (viewer.fit) viewer.zoom = fitZoom();
  const [, ny, nx] = viewer.item.shape;
  const canvas = $('viewer-canvas');
  canvas.style.width = `${Math.round(nx * viewer.zoom)}px`;
  canvas.style.height = `${Math.round(ny * viewer.zoom)}px`;
  canvas.classList.toggle('pixels', viewer.zoom > 1.5);
  $('viewer-zoom').textContent = `${viewer.zoom >= 1 ? number(Number(viewer.zoom.toFixed(2))) : number(Number(viewer.zoom.toFixed(3)))}x${viewer.fit ? ' (fit)' : ''}`;
  $('viewer-zoom').title = viewer.zoom >= 1 ? `one voxel is ${number(Number(viewer.zoom.toFixed(2)))} screen pixels wide`
    : `one screen pixel shows ${number(Number((1 / viewer.zoom).toFixed(2)))} voxels`;
}

function zoomBy(factor, px, py) {
  viewer.fit = false;
  setZoom(viewer.zoom * factor, px, py);
}

// ---- contrast and labels -------------------------------------------------------------------------
function drawContrast() {
  const item = viewer.item;
  const range = typeRange[item.dtype];
  const auto = viewer.low === null;
  $('viewer-low').value = auto ? (range ? range[0] : '') : viewer.low;
  $('viewer-high').value = auto ? (range ? range[1] : '') : viewer.high;
  $('viewer-range').textContent = auto ? 'automatic' : `${number(viewer.low)} to ${number(viewer.high)}`;
  $('viewer-auto').disabled = auto;
}

function contrastChanged(which) {
  const low = Number($('viewer-low').value), high = Number($('viewer-high').value);
  if (!Number.isFinite(low) || !Number.isFinite(high) || $('viewer-low').value === '' || $('viewer-high').value === '') return;
  const range = typeRange[viewer.item.dtype];
  const gap = range ? 1 : 1e-6;
  // The other end moves out of the way: dark stays below bright.
  if (which === 'low') { viewer.low = low; viewer.high = Math.max(high, low + gap); } else { viewer.high = high; viewer.low = Math.min(low, high - gap); }
  if (range) { viewer.low = Math.max(range[0], viewer.low); viewer.high = Math.min(range[1], viewer.high); }
  drawContrast();
  requestSection();
}

function automaticContrast() {
  viewer.low = viewer.high = null;
  drawContrast();
  requestSection();
  say('viewer-message', 'Contrast: automatic again (the server stretches each section from its darkest to its brightest grey).', 'info');
}

function overlayChanged() {
  viewer.overlay = $('viewer-labels').value;
  loadSection();
  say('viewer-message', viewer.overlay ? `${viewer.overlay} is drawn on top; the opacity slider sets how strongly.` : 'No labels on top.', 'info');
}

// ---- keys and the mouse --------------------------------------------------------------------------
function viewerKeys(e) {
  if ($('viewer').hidden) return;
  const t = e.target;
  const typing = t.tagName === 'SELECT' || (t.tagName === 'INPUT' && t.type !== 'range');
  if (typing) {
    // Enter and Esc give the keys back to the viewer.
    if (e.key === 'Enter' || e.key === 'Escape') {
      if (t === $('viewer-z') && e.key === 'Enter') goToSection(Number(t.value) - 1);
      e.preventDefault();
      $('viewer-stage').focus();
    }
    return;
  }
  const slider = t.tagName === 'INPUT' && t.type === 'range';
  const nz = viewer.item.shape[0];
  const moves = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1, PageDown: 10, PageUp: -10 };
  if (e.key === 'Escape') { e.preventDefault(); closeViewer(); return; }
  // A contrast or opacity slider moves itself; the section slider goes by the viewer's keys
  // (on its own, Page Down and the down arrow would go back).
  if (slider && t !== $('viewer-slider') && (e.key in moves || e.key === 'Home' || e.key === 'End')) return;
  if (e.key in moves) { e.preventDefault(); goToSection(viewer.z + moves[e.key]); return; }
  if (e.key === 'Home') { e.preventDefault(); goToSection(0); return; }
  if (e.key === 'End') { e.preventDefault(); goToSection(nz - 1); return; }
  if (e.key === '+' || e.key === '=') { e.preventDefault(); zoomBy(1.5); return; }
  if (e.key === '-') { e.preventDefault(); zoomBy(1 / 1.5); }
}

function setupViewer() {
  $('viewer-close').addEventListener('click', closeViewer);
  $('viewer').addEventListener('click', (e) => { if (e.target === $('viewer')) closeViewer(); });  // outside the box
  $('viewer-slider').addEventListener('input', (e) => goToSection(Number(e.target.value) - 1));
  $('viewer-z').addEventListener('change', (e) => goToSection(Number(e.target.value) - 1));
  $('viewer-fit').addEventListener('click', () => { viewer.fit = true; applyZoom(); });
  $('viewer-one').addEventListener('click', () => { viewer.fit = false; setZoom(1); });
  $('viewer-in').addEventListener('click', () => zoomBy(1.5));
  $('viewer-out').addEventListener('click', () => zoomBy(1 / 1.5));
  $('viewer-stage').addEventListener('wheel', (e) => {
    if (e.shiftKey) return;  // Shift + wheel scrolls sideways
    e.preventDefault();
    const box = $('viewer-stage').getBoundingClientRect();
    zoomBy(Math.pow(1.0015, -e.deltaY), e.clientX - box.left, e.clientY - box.top);
  }, { passive: false });
  $('viewer-low').addEventListener('input', () => contrastChanged('low'));
  $('viewer-high').addEventListener('input', () => contrastChanged('high'));
  $('viewer-auto').addEventListener('click', automaticContrast);
  $('viewer-labels').addEventListener('change', overlayChanged);
  $('viewer-opacity').addEventListener('input', (e) => { $('viewer-overlay-image').style.opacity = e.target.value; });
  $('viewer-overlay-image').style.opacity = $('viewer-opacity').value;
  document.addEventListener('keydown', viewerKeys);
  window.addEventListener('resize', () => { if (viewer.item && viewer.fit) applyZoom(); });
}
