/**
 * The one error class of fmv-ingest. Native failures arrive as MediaError too (the addon builds
 * them from C++ through the class handed to it at load time).
 */
export interface MediaErrorDetails {
  /** Stable machine code, e.g. ERR_INPUT_OPEN, ERR_NO_VIDEO_STREAM, ERR_INVALID_OPTION. */
  code: string;
  /** The step that failed: open, probe, decode, encode, mux, klv, poster, previews, storage, options, ... */
  step: string;
  /** FFmpeg's negative error code, when FFmpeg reported the failure. */
  averror?: number;
  /** FFmpeg's text for averror. */
  averrorText?: string;
}

export class MediaError extends Error {
  readonly code: string;
  readonly step: string;
  readonly averror?: number;
  readonly averrorText?: string;

  constructor(message: string, details: MediaErrorDetails) {
    super(message);
    this.name = 'MediaError';
    this.code = details.code;
    this.step = details.step;
    if (details.averror !== undefined) this.averror = details.averror;
    if (details.averrorText !== undefined) this.averrorText = details.averrorText;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, step: this.step, message: this.message, averror: this.averror, averrorText: this.averrorText };
  }
}

export function isMediaError(e: unknown): e is MediaError {
  return e instanceof MediaError;
}

/** Native errors carry the worker's stack; graft the caller's so users see where they called from. */
export function withCallerStack<T>(promise: Promise<T>, callerStack: string | undefined): Promise<T> {
  return promise.catch((err: unknown) => {
    if (err instanceof Error && callerStack) {
      err.stack = `${err.name}: ${err.message}\n${callerStack.split('\n').slice(1).join('\n')}`;
    }
    throw err;
  });
}
