// The 3D annotator's view (three.js, embedded in the binary): the objects' surfaces in nm, as
// `uniem mesh` wrote them (x, y, z), lit by a light that follows the camera; the camera turned
// with the mouse (OrbitControls), perspective or orthographic, fitted to what is shown; axes, a
// scale bar in µm that follows the zoom, a clipping plane across z, the EM section as a textured
// plane, markers as small spheres; what a click hits; pictures of the view at any size.
// The camera looks as the sections are drawn: x to the right, y down, z (the section number) away
// from the viewer. It draws only when something changed.
import * as THREE from 'three';
import { OrbitControls } from './OrbitControls.js';
import { PLYLoader } from './PLYLoader.js';
import { STLLoader } from './STLLoader.js';
import { OBJLoader } from './OBJLoader.js';
import { figure } from './annotator_common.js';

const UP = new THREE.Vector3(0, -1, 0);  // y grows downwards, as in the sections
const DIRECTIONS = {                      // from the target to the camera
  oblique: new THREE.Vector3(-0.45, -0.5, -1).normalize(),
  z: new THREE.Vector3(0, 0, -1),
  x: new THREE.Vector3(-1, 0, 0),
  y: new THREE.Vector3(0, -1, -0.002).normalize(),
};
const SELECTED_GLOW = new THREE.Color('#5a4a00');
const BACKGROUND = '#17181b';

// A surface file's bytes as a geometry: PLY, STL or OBJ by the file's extension.
export function parseSurface(buffer, file) {
  const kind = (file.split('.').pop() || '').toLowerCase();
  let geometry;
  if (kind === 'ply' || kind === 'frag') geometry = new PLYLoader().parse(buffer);  // a precomputed fragment comes as PLY
  else if (kind === 'stl') geometry = new STLLoader().parse(buffer);
  else if (kind === 'obj') {
    const meshes = [];
    new OBJLoader().parse(new TextDecoder().decode(buffer)).traverse((o) => { if (o.isMesh) meshes.push(o); });
    if (!meshes.length) throw new Error(`${file} holds no surface`);
    geometry = meshes[0].geometry;
  } else throw new Error(`${file}: surfaces are read from PLY, OBJ or STL files`);
  if (!geometry.attributes.position || geometry.attributes.position.count === 0) throw new Error(`${file} holds no vertices`);
  if (!geometry.attributes.normal) geometry.computeVertexNormals();
  geometry.computeBoundingBox();
  geometry.computeBoundingSphere();
  return geometry;
}

// A round length for a scale bar of about `target` nm: 1, 2 or 5 times a power of ten.
function niceLength(target) {
  const p = 10 ** Math.floor(Math.log10(target));
  return [5, 2, 1].map((f) => f * p).find((v) => v <= target) || p;
}
const lengthText = (nm) => `${figure(nm / 1e3)} µm`;

function textSprite(text, colour) {
  const c = document.createElement('canvas');
  c.width = c.height = 64;
  const g = c.getContext('2d');
  g.font = 'bold 44px sans-serif';
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  g.lineWidth = 6;
  g.strokeStyle = '#000';
  g.strokeText(text, 32, 34);
  g.fillStyle = colour;
  g.fillText(text, 32, 34);
  const texture = new THREE.CanvasTexture(c);
  texture.colorSpace = THREE.SRGBColorSpace;
  const sprite = new THREE.Sprite(new THREE.SpriteMaterial({ map: texture, depthTest: false, transparent: true }));
  sprite.renderOrder = 10;
  return sprite;
}

export class View {
  // Throws an Error saying why when the browser gives no WebGL.
  constructor(holder, scaleBar) {
    this.holder = holder;
    this.scaleBar = scaleBar;       // {bar, label}: the overlay elements
    try {
      this.renderer = new THREE.WebGLRenderer({ antialias: true, alpha: true });
    } catch (e) {
      throw new Error('this browser draws no 3D (WebGL is off or missing): try a recent Chrome, Firefox or Edge, ' +
        `with hardware acceleration on in its settings (${e.message})`);
    }
    const r = this.renderer;
    r.localClippingEnabled = true;
    r.setPixelRatio(window.devicePixelRatio || 1);
    r.setClearColor(BACKGROUND, 1);
    const gl = r.getContext();
    this.maxPicture = Math.min(4096, gl.getParameter(gl.MAX_RENDERBUFFER_SIZE), ...gl.getParameter(gl.MAX_VIEWPORT_DIMS));
    holder.prepend(r.domElement);
    r.domElement.addEventListener('webglcontextlost', (e) => { e.preventDefault(); this.onLost?.(); });

    this.scene = new THREE.Scene();
    this.perspective = new THREE.PerspectiveCamera(35, 1, 1, 1e7);
    this.orthographic = new THREE.OrthographicCamera(-1, 1, 1, -1, -1e7, 1e7);
    for (const c of [this.perspective, this.orthographic]) c.up.copy(UP);
    this.camera = this.perspective;
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x3a3a44, 1.6));
    this.light = new THREE.DirectionalLight(0xffffff, 2.2);
    this.scene.add(this.light, this.light.target);

    this.objects = new THREE.Group();
    this.markers = new THREE.Group();
    this.boxes = new THREE.Group();
    this.axes = new THREE.Group();
    this.scene.add(this.objects, this.markers, this.boxes, this.axes);
    this.meshes = new Map();          // id -> Mesh
    this.selected = new Set();
    this.section = null;              // the EM section's plane
    this.clip = { on: false, z: 0, above: false };
    this.clipPlane = new THREE.Plane(new THREE.Vector3(0, 0, -1), 0);
    this.sphere = new THREE.Sphere(new THREE.Vector3(), 1000);  // what is shown, for near/far and sizes
    this.flying = false;              // the camera glides to a marker
    this.markerGeometry = new THREE.SphereGeometry(1, 20, 14);

    this.controls = new OrbitControls(this.camera, r.domElement);
    this.controls.addEventListener('change', () => this.request());
    this.controls.zoomToCursor = true;
    new ResizeObserver(() => this.resize()).observe(holder);
    this.resize();
  }

  request() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.render(); });
  }

  resize() {
    const w = Math.max(1, this.holder.clientWidth), h = Math.max(1, this.holder.clientHeight);
    this.renderer.setSize(w, h, false);
    this.setAspect(w / h);
    this.request();
  }

  setAspect(aspect) {
    this.perspective.aspect = aspect;
    this.perspective.updateProjectionMatrix();
    const o = this.orthographic;
    o.left = -o.top * aspect;
    o.right = o.top * aspect;
    o.updateProjectionMatrix();
  }

  // nm per pixel at the camera's target, for a picture `height` pixels high.
  nmPerPixel(height) {
    const c = this.camera;
    if (c.isOrthographicCamera) return (c.top - c.bottom) / c.zoom / height;
    const d = c.position.distanceTo(this.controls.target);
    return (2 * d * Math.tan(THREE.MathUtils.degToRad(c.fov / 2))) / c.zoom / height;
  }

  render() {
    const c = this.camera, target = this.controls.target;
    const d = c.position.distanceTo(target);
    const reach = this.sphere.radius + this.sphere.center.distanceTo(target);
    c.near = c.isOrthographicCamera ? d - 2 * reach : Math.max(d - 2 * reach, d * 0.001);
    c.far = d + 2 * reach;
    c.updateProjectionMatrix();
    this.light.position.copy(c.position);
    this.light.target.position.copy(target);
    const height = this.renderer.domElement.clientHeight || 1;
    const perPixel = this.nmPerPixel(height);
    for (const s of this.axes.children) if (s.isSprite) s.scale.setScalar(perPixel * 22);
    // Markers keep their size on the screen: 6 pixels across (9 when selected), however far.
    for (const m of this.markers.children) {
      const at = c.isOrthographicCamera ? perPixel : perPixel * c.position.distanceTo(m.position) / Math.max(d, 1e-9);
      m.scale.setScalar(at * m.userData.pixels);
    }
    this.renderer.render(this.scene, c);
    // The scale bar: a round length of about 120 pixels.
    const length = niceLength(perPixel * 120);
    this.scaleBar.bar.style.width = `${Math.round(length / perPixel)}px`;
    this.scaleBar.label.textContent = lengthText(length);
    this.onRender?.();
  }

  // ---- objects -----------------------------------------------------------------------------------
  has(id) { return this.meshes.has(id); }

  add(id, geometry, colour) {
    const material = new THREE.MeshStandardMaterial({ color: colour, roughness: 0.6, metalness: 0, side: THREE.DoubleSide });
    material.clippingPlanes = this.clip.on ? [this.clipPlane] : [];
    const mesh = new THREE.Mesh(geometry, material);
    mesh.userData.id = id;
    mesh.visible = false;
    this.meshes.set(id, mesh);
    this.objects.add(mesh);
  }

  remove(id) {
    const mesh = this.meshes.get(id);
    if (!mesh) return;
    this.objects.remove(mesh);
    mesh.geometry.dispose();
    mesh.material.dispose();
    this.meshes.delete(id);
  }

  // A new surface for object `id` (it was edited), shown as the old one was.
  replace(id, geometry, colour) {
    const visible = this.meshes.get(id)?.visible || false;
    this.remove(id);
    this.add(id, geometry, colour);
    this.meshes.get(id).visible = visible;
    this.drawSelection();
    this.measure();
    this.request();
  }

  // Shows exactly the objects of `ids` (those loaded).
  show(ids) {
    for (const [id, mesh] of this.meshes) mesh.visible = ids.has(id);
    this.drawSelection();
    this.measure();
    this.request();
  }

  shown() { return [...this.meshes.values()].filter((m) => m.visible).map((m) => m.userData.id); }

  setColour(id, colour) {
    const mesh = this.meshes.get(id);
    if (mesh) { mesh.material.color.set(colour); this.request(); }
  }

  setSelected(ids) {
    this.selected = new Set(ids);
    this.drawSelection();
    this.request();
  }

  // A selected object glows and has a yellow box around it.
  drawSelection(marks = true) {
    this.boxes.clear();
    for (const [id, mesh] of this.meshes) {
      const on = marks && this.selected.has(id);
      mesh.material.emissive.copy(on ? SELECTED_GLOW : new THREE.Color(0));
      if (on && mesh.visible) this.boxes.add(new THREE.Box3Helper(mesh.geometry.boundingBox, 0xffd740));
    }
  }

  counts(id) {
    const g = this.meshes.get(id)?.geometry;
    if (!g) return null;
    const vertices = g.attributes.position.count;
    return { vertices, triangles: g.index ? g.index.count / 3 : vertices / 3 };
  }

  // The box around what is shown (the objects, the section), or around `ids`.
  bounds(ids = null) {
    const box = new THREE.Box3();
    for (const [id, mesh] of this.meshes) {
      if (ids ? ids.has(id) : mesh.visible) box.union(mesh.geometry.boundingBox);
    }
    if (!ids && this.section && this.section.visible) box.expandByObject(this.section);
    return box;
  }

  // After what is shown changed: the sphere for near and far, the axes and the markers' size.
  measure() {
    const box = this.bounds();
    if (box.isEmpty()) return;
    box.getBoundingSphere(this.sphere);
    this.drawAxes(box);
  }

  // The camera looks at the objects `ids` (all shown when null) from `direction` (oblique, z, x, y;
  // the current one when not given), close enough for them to fill the view.
  fit(ids = null, direction = null) {
    const box = this.bounds(ids);
    if (box.isEmpty()) return false;
    const sphere = box.getBoundingSphere(new THREE.Sphere());
    const r = Math.max(sphere.radius, 1);
    const c = this.camera, target = this.controls.target;
    const from = direction ? DIRECTIONS[direction].clone()
      : c.position.clone().sub(target).normalize();
    const half = THREE.MathUtils.degToRad(this.perspective.fov / 2);
    const distance = (r * 1.1) / Math.sin(Math.min(half, Math.atan(Math.tan(half) * this.perspective.aspect)));
    target.copy(sphere.center);
    for (const cam of [this.perspective, this.orthographic]) {
      cam.position.copy(sphere.center).addScaledVector(from, distance);
      cam.zoom = 1;
    }
    const o = this.orthographic;
    o.top = distance * Math.tan(half);
    o.bottom = -o.top;
    this.setAspect(this.perspective.aspect);
    this.measure();
    this.controls.update();
    this.request();
    return true;
  }

  setProjection(kind) {
    const from = this.camera, target = this.controls.target;
    const to = kind === 'orthographic' ? this.orthographic : this.perspective;
    if (from === to) return;
    const half = Math.tan(THREE.MathUtils.degToRad(this.perspective.fov / 2));
    const direction = from.position.clone().sub(target).normalize();
    if (to.isOrthographicCamera) {
      to.top = from.position.distanceTo(target) * half / from.zoom;
      to.bottom = -to.top;
      to.zoom = 1;
      to.position.copy(from.position);
    } else {
      const distance = (from.top / from.zoom) / half;
      to.zoom = 1;
      to.position.copy(target).addScaledVector(direction, distance);
    }
    to.quaternion.copy(from.quaternion);
    this.camera = to;
    this.controls.object = to;
    this.setAspect(this.perspective.aspect);
    this.controls.update();
    this.request();
  }

  // ---- axes, clipping, the EM section -------------------------------------------------------------
  setAxes(on) { this.axes.visible = on; this.request(); }

  drawAxes(box) {
    this.axes.clear();
    const size = box.getSize(new THREE.Vector3());
    const length = Math.max(size.x, size.y, size.z) * 0.25;
    const origin = box.min;
    const axes = [['x', 0xff5252, new THREE.Vector3(1, 0, 0)], ['y', 0x69f0ae, new THREE.Vector3(0, 1, 0)],
      ['z', 0x40c4ff, new THREE.Vector3(0, 0, 1)]];
    for (const [name, colour, d] of axes) {
      this.axes.add(new THREE.ArrowHelper(d, origin, length, colour, length * 0.12, length * 0.06));
      const label = textSprite(name, `#${colour.toString(16).padStart(6, '0')}`);
      label.position.copy(origin).addScaledVector(d, length * 1.2);
      this.axes.add(label);
    }
  }

  // Surfaces are cut at z (nm): what lies beyond (or, with `above`, before) is not drawn.
  setClip(on, z, above) {
    this.clip = { on, z, above };
    this.clipPlane.normal.set(0, 0, above ? 1 : -1);
    this.clipPlane.constant = above ? -z : z;
    for (const mesh of this.meshes.values()) {
      mesh.material.clippingPlanes = on ? [this.clipPlane] : [];
      mesh.material.needsUpdate = true;
    }
    this.request();
  }

  clipped(point) {
    return this.clip.on && (this.clip.above ? point.z < this.clip.z : point.z > this.clip.z);
  }

  // The EM section `image` (an <img> loaded, each pixel `voxels` voxels of vx x vy nm across, the
  // first at voxel 0) at z nm; null removes it. A voxel's centre is at (index x voxel size), as in
  // the meshes, so the picture starts half a voxel before 0.
  setSection(image, { voxels, vx, vy, z } = {}) {
    if (!image) {
      if (this.section) this.section.visible = false;
      this.measure();
      this.request();
      return;
    }
    const texture = new THREE.Texture(image);
    texture.flipY = false;  // the image's first row at the smallest y
    texture.colorSpace = THREE.SRGBColorSpace;
    texture.needsUpdate = true;
    if (!this.section) {
      this.section = new THREE.Mesh(new THREE.PlaneGeometry(1, 1),
        new THREE.MeshBasicMaterial({ side: THREE.DoubleSide, toneMapped: false }));
      this.section.userData.section = true;
      this.scene.add(this.section);
      this.setSectionOpacity(this.sectionOpacity ?? 1);
    }
    const s = this.section;
    s.material.map?.dispose();
    s.material.map = texture;
    s.material.needsUpdate = true;
    const width = image.naturalWidth * voxels * vx, height = image.naturalHeight * voxels * vy;
    s.scale.set(width, height, 1);
    s.position.set(width / 2 - vx / 2, height / 2 - vy / 2, z);
    s.visible = true;
    this.measure();
    this.request();
  }

  setSectionOpacity(opacity) {
    this.sectionOpacity = opacity;
    if (!this.section) return;
    const m = this.section.material;
    m.opacity = opacity;
    m.transparent = opacity < 1;
    m.depthWrite = opacity >= 1;
    m.needsUpdate = true;
    this.request();
  }

  // ---- markers ------------------------------------------------------------------------------------
  setMarkers(markers, selectedId, colourOf) {
    this.markers.clear();
    const materials = new Map();
    for (const m of markers) {
      const selected = m.id === selectedId;
      const colour = colourOf(m);
      const key = `${colour}${selected}`;
      if (!materials.has(key)) {
        materials.set(key, new THREE.MeshStandardMaterial({ color: colour, roughness: 0.4,
          emissive: selected ? new THREE.Color(colour).multiplyScalar(0.6) : new THREE.Color(0) }));
      }
      const sphere = new THREE.Mesh(this.markerGeometry, materials.get(key));
      sphere.position.set(m.x, m.y, m.z);
      sphere.userData = { marker: m.id, pixels: selected ? 9 : 6 };
      this.markers.add(sphere);
    }
    this.request();
  }

  // The camera glides to look at `point` (nm) from where it looks now, closer when far.
  flyTo(point, distance = null) {
    const target = this.controls.target;
    const offset = this.camera.position.clone().sub(target);
    const to = new THREE.Vector3(point.x, point.y, point.z);
    if (distance) offset.setLength(distance);
    else if (this.camera.isPerspectiveCamera) offset.setLength(Math.min(offset.length(), this.sphere.radius * 0.8));
    const startTarget = target.clone(), startOffset = this.camera.position.clone().sub(target);
    const began = performance.now();
    this.flying = true;
    const step = () => {
      const t = Math.min(1, (performance.now() - began) / 450);
      this.flying = t < 1;
      const e = t * t * (3 - 2 * t);
      target.lerpVectors(startTarget, to, e);
      this.camera.position.copy(target).add(startOffset.clone().lerp(offset, e));
      this.controls.update();
      this.request();
      if (t < 1) requestAnimationFrame(step);
    };
    step();
  }

  // ---- what a click hits -----------------------------------------------------------------------
  // The surface (or, with markers, the marker) under the pointer: {kind: 'surface', id, point} or
  // {kind: 'marker', id}; null when nothing is. A cut-away part of a surface is not hit.
  pick(clientX, clientY, markers = true) {
    const rect = this.renderer.domElement.getBoundingClientRect();
    const ndc = new THREE.Vector2(((clientX - rect.left) / rect.width) * 2 - 1, -((clientY - rect.top) / rect.height) * 2 + 1);
    const ray = new THREE.Raycaster();
    ray.setFromCamera(ndc, this.camera);
    const surfaces = ray.intersectObjects(this.objects.children.filter((m) => m.visible), false)
      .filter((h) => !this.clipped(h.point));
    if (markers) {
      const m = ray.intersectObjects(this.markers.children, false)[0];
      if (m && (!surfaces.length || m.distance <= surfaces[0].distance + m.object.scale.x)) return { kind: 'marker', id: m.object.userData.marker };
    }
    const hit = surfaces[0];
    if (!hit) return null;
    return { kind: 'surface', id: hit.object.userData.id, point: hit.point.clone() };
  }

  // A point on the screen where object `id` is hit (for the browser tests; null when none is).
  pointOnSurface(id) {
    const rect = this.renderer.domElement.getBoundingClientRect();
    const points = [];
    for (let i = 1; i < 40; ++i) for (let j = 1; j < 40; ++j) points.push([i / 40, j / 40]);
    points.sort((a, b) => Math.hypot(a[0] - 0.5, a[1] - 0.5) - Math.hypot(b[0] - 0.5, b[1] - 0.5));
    for (const [fx, fy] of points) {
      const x = rect.left + fx * rect.width, y = rect.top + fy * rect.height;
      const hit = this.pick(x, y, false);
      if (hit && hit.id === id) return { x, y };
    }
    return null;
  }

  // ---- pictures ---------------------------------------------------------------------------------
  // The view as a PNG of width x height pixels (the same part of the scene, as wide as the shape
  // asks), without the selection's marks; a scale bar in a corner when asked.
  async picture(width, height, { transparent = false, scaleBar = true } = {}) {
    const r = this.renderer;
    const size = r.getSize(new THREE.Vector2()), ratio = r.getPixelRatio();
    const out = document.createElement('canvas');
    out.width = width;
    out.height = height;
    const g = out.getContext('2d');
    try {
      this.drawSelection(false);
      this.boxes.visible = false;
      r.setPixelRatio(1);
      r.setSize(width, height, false);
      this.setAspect(width / height);
      r.setClearAlpha(transparent ? 0 : 1);
      this.render();
      g.drawImage(r.domElement, 0, 0);  // in the same task as the drawing, before the browser clears it
    } finally {
      r.setClearAlpha(1);
      r.setPixelRatio(ratio);
      r.setSize(size.x, size.y, false);
      this.setAspect(size.x / size.y);
      this.boxes.visible = true;
      this.drawSelection(true);
      this.render();
    }
    if (scaleBar) {
      const perPixel = this.nmPerPixel(height);
      const length = niceLength(perPixel * width * 0.15);
      const bar = length / perPixel, unit = Math.max(2, Math.round(height / 300));
      const x = 12 * unit, y = height - 10 * unit;
      g.font = `bold ${8 * unit}px sans-serif`;
      g.textBaseline = 'bottom';
      g.lineWidth = 2 * unit;
      g.strokeStyle = 'rgba(0,0,0,0.8)';
      g.fillStyle = '#ffffff';
      g.strokeRect(x, y - 2 * unit, bar, 2 * unit);
      g.fillRect(x, y - 2 * unit, bar, 2 * unit);
      g.strokeText(lengthText(length), x, y - 4 * unit);
      g.fillText(lengthText(length), x, y - 4 * unit);
    }
    return new Promise((resolve, reject) => out.toBlob((b) => (b ? resolve(b) : reject(new Error('the browser made no PNG'))), 'image/png'));
  }
}
