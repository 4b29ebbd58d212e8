/** fmv-ingest: full-motion video ingest for Node.js. */
export { MediaError, isMediaError, type MediaErrorDetails } from './errors.js';
export { probe, type ProbeOptions, type ProbeResult, type VideoStream, type AudioStream, type KlvStream, type Rational } from './probe.js';
export { KlvUnitStream, extractKlvUnits, type RawKlvUnit, type KlvExtractOptions, type KlvExtractStats } from './klv-extract.js';
export { generatePreviews, type PreviewOptions, type PreviewResult, type PosterInfo, type SpriteSheet } from './previews.js';
export { synthesizeClip, type SynthesizeOptions, type SynthesizeResult, type SyntheticKlvUnit } from './synthetic.js';
export { loadAddon } from './native.js';

import { loadAddon } from './native.js';

/** Versions of the FFmpeg libraries the addon runs against. */
export function versions(): Record<string, string> {
  return loadAddon().versions();
}
