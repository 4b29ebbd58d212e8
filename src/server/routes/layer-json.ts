/**
 * The layer resource (GET …/VideoServer/:layerId) in Video Server's shape, from what the ingest
 * wrote: videoInfo.json and abr.json (playback), the telemetry (extents, time, KLV summary), the
 * job (name, created) and the layer's edits. Field names follow Esri's layer page and what the JS
 * SDK's VideoLayer reads (connectionUrl as an object, playbackInfo.klv["0601"] enabling coverage).
 */
import { geometrySummary, telemetryExtent, timeSpan, type FrameTelemetry } from '../../geometry/index.js';
import type { LayerData } from './layer-data.js';

export const CURRENT_VERSION = 12.0;
export const FULL_VERSION = '12.0.0';

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** Video Server's quality names by picture height. */
export function qualityOf(height: number | null): 'SD' | 'HD' | 'FHD' | 'UHD' | null {
  if (height === null) return null;
  if (height >= 2160) return 'UHD';
  if (height >= 1080) return 'FHD';
  if (height >= 720) return 'HD';
  return 'SD';
}

/** KLV standards as Video Server's playbackInfo names them ("0601"), from our "ST0601" keys. */
function klvStandards(standards: Record<string, unknown>): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const [k, n] of Object.entries(standards)) {
    const m = /^ST(\d{4})$/.exec(k);
    if (m && typeof n === 'number' && n > 0) out[m[1]!] = true;
  }
  return out;
}

export interface LayerUrls {
  /** …/services/<name>/VideoServer/<layerId> */
  layer: string;
  /** Appended to the URLs of files (e.g. "?token=…"), or ''. */
  fileQuery: string;
}

/** The layer's name and what updateLayer set, with the ingest's values underneath. */
export function layerName(layer: LayerData): string {
  return layer.edits.name ?? layer.job?.results.layerName ?? `Layer ${layer.layerId}`;
}

export function isLiveLayer(layer: LayerData): boolean {
  return layer.liveJob !== undefined || layer.job?.customAttributes.live !== undefined;
}

/** Seconds since 1970 the layer was created (its job's start; for an unknown job, its files). */
export function createdSeconds(layer: LayerData): number {
  const t = layer.job ? Date.parse(layer.job.customAttributes.timings.finished ?? layer.job.customAttributes.timings.started ?? layer.job.customAttributes.timings.submitted) : NaN;
  return Math.floor((Number.isFinite(t) ? t : layer.modified) / 1000);
}

export function layerJson(layer: LayerData, frames: readonly FrameTelemetry[], urls: LayerUrls, hasPoster: boolean, hasPreviews: boolean): Record<string, unknown> {
  const vi = obj(layer.videoInfo);
  const abr = obj(layer.abr);
  const source = obj(abr.source);
  const klv = obj(vi.klv);
  const width = num(vi.width) ?? num(source.width);
  const height = num(vi.height) ?? num(source.height);
  const frameRate = num(vi.frameRate) ?? num(source.frameRate);
  const duration = num(vi.duration) ?? num(abr.duration);
  const segmentSeconds = num(abr.segmentSeconds);
  const renditions = Array.isArray(abr.renditions) ? abr.renditions.map(obj) : [];
  const live = isLiveLayer(layer);
  const liveStatus = layer.job?.customAttributes.live;
  const standards = klvStandards(obj(klv.standards));
  const extent = telemetryExtent(frames);
  const span = timeSpan(frames);
  const geometry = geometrySummary(frames);
  const edits = layer.edits;
  const codecs = [...new Set(renditions.map((r) => r.codecs).filter((c): c is string => typeof c === 'string'))];
  const qualities = [...new Set(renditions.map((r) => qualityOf(num(r.height))).filter((q) => q !== null))];
  const file = (name: string) => `${urls.layer}/${name}${urls.fileQuery}`;
  return {
    currentVersion: CURRENT_VERSION,
    id: layer.layerId,
    name: layerName(layer),
    description: edits.description ?? '',
    copyright: edits.copyright ?? '',
    type: 'Video Layer',
    serviceType: live ? 'livestream' : 'ondemand',
    serviceItemId: layer.job?.inputs.serviceItemId ?? null,
    sourceType: live ? 'livestream' : 'file',
    isLive: layer.liveJob !== undefined,
    livestreamStatus: live ? (liveStatus?.state ?? (layer.liveJob ? 'starting' : 'ended')) : null,
    livestreamInfo: live
      ? {
          streamAddress: liveStatus?.streamAddress ?? null,
          mode: liveStatus?.mode ?? null,
          bufferSize: null,
          supportsConversion: false,
          liveSince: liveStatus?.liveSince ?? null,
          segments: liveStatus?.segments ?? 0,
          klvPackets: liveStatus?.klvPackets ?? 0,
        }
      : null,
    connectionUrl: { hls: file('ABR.m3u8') },
    mimeType: 'application/x-mpegURL',
    codecs,
    playbackInfo: {
      framerate: frameRate,
      containerFormat: typeof abr.segmentFormat === 'string' ? abr.segmentFormat : 'ts',
      // Each segment starts on an IDR: the encoder's key frame interval is one segment.
      gop: segmentSeconds !== null && frameRate !== null ? Math.max(1, Math.ceil(segmentSeconds * frameRate - 1e-6)) : null,
      aspectRatio: typeof vi.displayAspectRatio === 'string' ? vi.displayAspectRatio : null,
      klv: standards,
    },
    sourceQuality: qualityOf(height),
    qualities,
    duration,
    frameRate,
    frameCount: frameRate !== null && duration !== null ? Math.round(frameRate * duration) : null,
    width,
    height,
    posterUrl: hasPoster ? file(edits.poster ?? 'poster.jpg') : null,
    spatialReference: { wkid: 4326 },
    fullExtent: extent,
    initialExtent: extent,
    timeInfo: span ? { timeExtent: span } : null,
    fullTimeExtent: span ? { start: span[0], end: span[1] } : null,
    created: createdSeconds(layer),
    version: 1,
    elevationSource: null,
    cameraInfo: null,
    supportsMensuration: false,
    supportsAppend: false,
    supportsUpdate: true,
    supportsCoverageQuery: standards['0601'] === true,
    supportsFrameset: edits.supportsFrameset ?? !live,
    supportsExportFrameset: edits.supportsExportFrameset ?? !live,
    supportsExportClip: edits.supportsExportClip ?? !live,
    supportsPreviews: (edits.supportsPreviews ?? true) && hasPreviews,
    supportedQueryFormats: 'json',
    klv: {
      standards: obj(klv.standards),
      packets: num(klv.packets) ?? 0,
      units: num(klv.units) ?? 0,
      checksumFailures: num(klv.checksumFailures) ?? 0,
      decodeErrors: num(klv.decodeErrors) ?? 0,
    },
    geometry: { frames: geometry.frames, computedFrom: geometry.computedFrom, footprints: geometry.footprints },
  };
}
