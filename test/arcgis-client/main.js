// Loads a VideoLayer from the server named in the page's query (?layer=<layer URL>&token=...),
// shows it in a MapView without a basemap (no network), plays it and reports what the SDK saw.
import esriConfig from '@arcgis/core/config.js';
import EsriMap from '@arcgis/core/Map.js';
import MapView from '@arcgis/core/views/MapView.js';
import VideoLayer from '@arcgis/core/layers/VideoLayer.js';
import * as reactiveUtils from '@arcgis/core/core/reactiveUtils.js';
import esriId from '@arcgis/core/identity/IdentityManager.js';
import ServerInfo from '@arcgis/core/identity/ServerInfo.js';

const params = new URLSearchParams(location.search);
esriConfig.assetsPath = params.get('assets');
// The token as an app that signed in elsewhere hands it over: every request to the server gets it.
const rest = params.get('rest');
esriId.registerServers([new ServerInfo({ server: rest.replace(/\/rest$/, ''), tokenServiceUrl: `${rest}/generateToken`, hasServer: true })]);
esriId.registerToken({ server: `${rest}/services`, token: params.get('token'), expires: Date.now() + 3600_000, ssl: false });

const point = (p) => (p ? { x: p.x, y: p.y, z: p.z ?? null } : null);
const rings = (g) => (g ? g.rings.map((r) => r.map(([x, y]) => [x, y])) : null);

window.report = { stage: 'start', events: [] };

/** reactiveUtils.whenOnce with a time limit. */
function within(ms, what, condition) {
  return Promise.race([
    reactiveUtils.whenOnce(condition),
    new Promise((resolve) => setTimeout(() => { log(`timed out waiting for ${what}`); resolve(); }, ms)),
  ]);
}
const log = (what) => window.report.events.push(what);

async function run() {
  const layer = new VideoLayer({ url: params.get('layer') });
  const view = new MapView({ container: 'view', map: new EsriMap({ layers: [layer] }), center: [0, 0], zoom: 2 });
  window.report.stage = 'loading';
  await layer.load();
  window.report.loaded = layer.loaded;
  window.report.layer = {
    title: layer.title,
    serviceType: layer.layerType ?? null,
    capabilities: layer.capabilities ? JSON.parse(JSON.stringify(layer.capabilities)) : null,
    fullExtent: layer.fullExtent ? layer.fullExtent.toJSON() : null,
  };
  window.report.stage = 'view';
  await view.when();
  const layerView = await view.whenLayerView(layer);
  log(`layerView ${layerView.declaredClass}`);
  reactiveUtils.watch(() => layer.state, (state) => log(`state ${state} at ${layer.currentTime}`));
  window.report.stage = 'playing';
  log(`state ${layer.state}`);
  await within(15000, 'a playable state', () => ['ready', 'can-play', 'data-loaded', 'paused', 'playing'].includes(layer.state));
  await layer.play();
  await within(15000, 'playback', () => layer.currentTime > 0.3);
  window.report.playing = { state: layer.state, currentTime: layer.currentTime, duration: layer.duration };
  await within(15000, 'telemetry', () => layer.telemetry?.sensorLocation && layer.telemetry?.frameOutline);
  const t = layer.telemetry;
  window.report.telemetry = t ? { sensorLocation: point(t.sensorLocation), frameCenter: point(t.frameCenter), frameOutline: rings(t.frameOutline) } : null;
  window.report.stage = 'done';
}

run().catch((err) => {
  window.report.error = `${err?.name ?? 'Error'}: ${err?.message ?? String(err)} ${err?.details ? JSON.stringify(err.details).slice(0, 500) : ''}`;
  window.report.stage = 'failed';
});
