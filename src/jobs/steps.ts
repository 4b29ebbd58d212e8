/**
 * The steps of an ingest job and their message codes, as data. Video Server's codes are the ones
 * its job resource reports; the others are ours (the CPU transcode, failures, cancellation) and
 * live in ranges Video Server does not use.
 */

export type StepKey =
  | 'start'
  | 'probeVideo'
  | 'probeAudio'
  | 'probeKlv'
  | 'streamInfo'
  | 'videoInfo'
  | 'transcode'
  | 'klv'
  | 'hls'
  | 'poster'
  | 'previews'
  | 'abr'
  | 'cleanup'
  | 'videoFiles'
  | 'storage'
  | 'complete';

export interface StepDefinition {
  key: StepKey;
  code: number;
  message: string;
  /** 'videoServer' for the codes Video Server itself reports, 'ours' for our additions. */
  origin: 'videoServer' | 'ours';
  /** What really happens at this step. */
  description: string;
}

/** The success path, in the order messages are appended. */
export const STEPS: readonly StepDefinition[] = Object.freeze([
  { key: 'start', code: 117, message: 'Starting Ingest', origin: 'videoServer', description: 'job accepted, temporary work directory created' },
  { key: 'probeVideo', code: 154, message: 'Probing Video Codec', origin: 'videoServer', description: 'input opened, video stream and codec identified' },
  { key: 'probeAudio', code: 155, message: 'Probing Audio', origin: 'videoServer', description: 'audio streams identified (none is not an error)' },
  { key: 'probeKlv', code: 156, message: 'Probing Video Klv', origin: 'videoServer', description: 'KLV data streams found (sync 0x15 / async 0x06 KLVA), or none' },
  { key: 'streamInfo', code: 157, message: 'Generating Video Stream Info', origin: 'videoServer', description: 'per-stream information written (streamInfo.json)' },
  { key: 'videoInfo', code: 158, message: 'Generating Video Info', origin: 'videoServer', description: 'duration, frame rate, size, bit rate and KLV summary written (videoInfo.json)' },
  { key: 'transcode', code: 159, message: 'Transcoding with GPU', origin: 'videoServer', description: 'the single-pass transcode, on a GPU path (decode or encode on the GPU)' },
  { key: 'klv', code: 160, message: 'Extracting KLV Metadata', origin: 'videoServer', description: 'decoded telemetry written (klv.ndjson + klv.geojson)' },
  { key: 'hls', code: 161, message: 'Generating HLS Service Files', origin: 'videoServer', description: 'media playlists and segments finalised' },
  { key: 'poster', code: 174, message: 'Generating Poster Image', origin: 'videoServer', description: 'poster JPEG' },
  { key: 'previews', code: 182, message: 'Generating Preview Images', origin: 'videoServer', description: 'thumbnails, sprite sheets and the WebVTT thumbnail track' },
  { key: 'abr', code: 162, message: 'Generating ABR Info Files', origin: 'videoServer', description: 'master playlist ABR.m3u8 and the ABR info JSON' },
  { key: 'cleanup', code: 163, message: 'Removing Temporary Files', origin: 'videoServer', description: 'scratch files removed (the staged outputs stay)' },
  { key: 'videoFiles', code: 205, message: 'Video Files Created', origin: 'videoServer', description: 'the staged outputs checked: master playlist, renditions, KLV files' },
  { key: 'storage', code: 206, message: 'Saving To Storage', origin: 'videoServer', description: 'staged outputs moved into storage atomically' },
  { key: 'complete', code: 118, message: 'Ingest Complete', origin: 'videoServer', description: 'the job is done' },
] satisfies StepDefinition[]);

/** Replaces step 159 when the whole pass ran on the CPU (decode, scale and encode). */
export const TRANSCODE_CPU: StepDefinition = Object.freeze({
  key: 'transcode',
  code: 1159,
  message: 'Transcoding with CPU',
  origin: 'ours',
  description: 'the single-pass transcode, entirely on the CPU',
});

/** A failed step's message code is FAILURE_CODE_BASE + the step's own code (e.g. 2154). */
export const FAILURE_CODE_BASE = 2000;
/** The message appended when a job is cancelled. */
export const CANCELLED_CODE = 1120;
export const CANCELLED_MESSAGE = 'Ingest Cancelled';
/** Redis mode: the first message of a job run again after its worker stopped ("Retrying Ingest: <why>"). */
export const RETRY_CODE = 1121;
export const RETRY_MESSAGE = 'Retrying Ingest';

/** The passes' steps that the native single pass reports (159-182), in contract order. */
export const PASS_STEPS: readonly StepKey[] = ['transcode', 'klv', 'hls', 'poster', 'previews', 'abr'];

const BY_KEY = new Map<StepKey, StepDefinition>(STEPS.map((s) => [s.key, s]));

export function stepByKey(key: StepKey): StepDefinition {
  return BY_KEY.get(key)!;
}

/** Index of a step in the success path. */
export function stepIndex(key: StepKey): number {
  return STEPS.findIndex((s) => s.key === key);
}

/** The failure code of a step: 2000 + its success-path code (the CPU transcode fails as 2159 too). */
export function failureCode(key: StepKey): number {
  return FAILURE_CODE_BASE + stepByKey(key).code;
}

/** "<step message> failed: <why>", the last message of a failed job. */
export function failureMessage(step: StepDefinition, why: string): string {
  return `${step.message} failed: ${why}`;
}

/** Every code a job can report, for documentation and for clients that map codes to text. */
export function messageCodeTable(): Array<{ code: number | string; message: string; origin: 'videoServer' | 'ours'; description: string }> {
  return [
    ...STEPS.map((s) => ({ code: s.code, message: s.message, origin: s.origin, description: s.description })),
    { code: TRANSCODE_CPU.code, message: TRANSCODE_CPU.message, origin: 'ours', description: TRANSCODE_CPU.description },
    { code: `${FAILURE_CODE_BASE}+n`, message: '<step> failed: <why>', origin: 'ours', description: 'step n failed; the job is FAILED and the details are under customAttributes.error' },
    { code: CANCELLED_CODE, message: CANCELLED_MESSAGE, origin: 'ours', description: 'the job was cancelled; the job is CANCELLED' },
    { code: RETRY_CODE, message: `${RETRY_MESSAGE}: <why>`, origin: 'ours', description: 'Redis mode: the worker running the job stopped; the job runs again from scratch on another worker' },
  ];
}
