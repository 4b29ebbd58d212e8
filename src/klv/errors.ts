/** Stable error codes raised by the KLV layer. */
export type KlvErrorCode =
  | 'ERR_KLV_SYNC'
  | 'ERR_KLV_TRUNCATED'
  | 'ERR_KLV_BER'
  | 'ERR_KLV_CHECKSUM'
  | 'ERR_KLV_ITEM'
  | 'ERR_KLV_ENCODE'
  | 'ERR_KLV_ARGUMENT';

export interface KlvErrorDetails {
  /** Byte offset in the decoded buffer where the problem was found. */
  offset?: number;
  /** Tag number (local sets) or UL hex (universal sets) of the item concerned. */
  tag?: number | string;
  /** Standard of the set being decoded or encoded. */
  standard?: string;
}

/** Typed error with a stable `code`; the only exception the KLV layer throws. */
export class KlvError extends Error {
  readonly code: KlvErrorCode;
  readonly offset?: number;
  readonly tag?: number | string;
  readonly standard?: string;

  constructor(code: KlvErrorCode, message: string, details: KlvErrorDetails = {}) {
    super(message);
    this.name = 'KlvError';
    this.code = code;
    if (details.offset !== undefined) this.offset = details.offset;
    if (details.tag !== undefined) this.tag = details.tag;
    if (details.standard !== undefined) this.standard = details.standard;
  }
}

/** Raised by item decoders; carries no position until the set decoder adds one. */
export function itemError(message: string): KlvError {
  return new KlvError('ERR_KLV_ITEM', message);
}

/** Normalises anything thrown inside the decoder to a KlvError. */
export function asKlvError(e: unknown, code: KlvErrorCode = 'ERR_KLV_ITEM'): KlvError {
  if (e instanceof KlvError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new KlvError(code, message);
}
