/** fmv-ingest: full-motion video ingest for Node.js. */
export { MediaError, isMediaError, type MediaErrorDetails } from './errors.js';
export { probe, type ProbeOptions, type ProbeResult, type VideoStream, type AudioStream, type KlvStream, type Rational } from './probe.js';
export { KlvUnitStream, extractKlvUnits, extractKlv, decodeRawUnit, type RawKlvUnit, type KlvExtractOptions, type ExtractKlvOptions, type KlvExtractStats } from './klv-extract.js';
export {
  decodeKlv,
  decodeKlvUnit,
  decodeKlvSet,
  encodeKlv,
  KlvError,
  toNdjsonLine,
  packetsToCsv,
  CsvWriter,
  GeoJsonBuilder,
  bcc16,
  crc16Ccitt,
  crc32Mpeg,
  imapbDecode,
  imapbEncode,
  decodeBerLength,
  decodeBerOid,
  encodeBerLength,
  encodeBerOid,
  identifyKey,
  ST0601_TABLE,
  ST0102_TABLE,
  ST0903_TABLE,
  EG0104_TABLE,
  type KlvPacket,
  type KlvTag,
  type KlvTags,
  type KlvValue,
  type KlvStandard,
  type KlvEncodeInput,
  type KlvErrorCode,
  type DecodeOptions,
  type GeoJsonFeatureCollection,
} from './klv/index.js';
export { generatePreviews, type PreviewOptions, type PreviewResult, type PosterInfo, type SpriteSheet } from './previews.js';
export { synthesizeClip, type SynthesizeOptions, type SynthesizeResult, type SyntheticKlvUnit } from './synthetic.js';
export { loadAddon } from './native.js';

import { loadAddon } from './native.js';

/** Versions of the FFmpeg libraries the addon runs against. */
export function versions(): Record<string, string> {
  return loadAddon().versions();
}
