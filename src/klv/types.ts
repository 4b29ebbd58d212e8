/** Standards the decoder recognises by their Universal Label. */
export type KlvStandard = 'ST0601' | 'ST0102' | 'ST0903' | 'EG0104' | 'unknown';

/** Carriage of the KLV stream in MPEG-TS (ST 1402): sync (0x15) or async (0x06 + KLVA). */
export type KlvCarriage = 'sync' | 'async';

/** Any decoded value: scalars, nested sets, lists and packs. */
export type KlvValue =
  | number
  | string
  | boolean
  | null
  | KlvValue[]
  | { [key: string]: KlvValue | KlvTag | undefined };

/**
 * One decoded item. `name` is the camelCase item name from the standard;
 * `value` is in engineering units (numbers at full precision), a nested
 * `KlvTags` object for sets, an array for series/lists, or an object for packs.
 */
export interface KlvTag {
  name: string;
  value: KlvValue;
  units?: string;
  /** Set when the item was malformed (value is then the raw hex) or carries an error indicator / special value (value null). */
  error?: string;
  /** Enumerations: the enumerated text for `value` (absent when the value is outside the enumeration). */
  text?: string;
  /** Flag bytes: names of the bits that are set. */
  flags?: string[];
  /** Timestamps (microseconds since 1970): ISO-8601 UTC form of `value`. */
  readonly iso?: string;
  /** Later occurrences of the same tag in one set (e.g. ST 0601 tag 115 Control Command). */
  repeats?: KlvTag[];
}

/** Items of a set keyed by tag number (local sets) or 16-byte UL hex (universal sets). */
export type KlvTags = Record<string, KlvTag>;

/** One decoded KLV unit. */
export interface KlvPacket {
  /** Presentation time in seconds, when the caller knows it. */
  pts: number | null;
  /** Stream index in the container, when the caller knows it. */
  stream: number | null;
  /** MPEG-TS PID, when the caller knows it. */
  pid: number | null;
  carriage: KlvCarriage | null;
  /** The 16-byte Universal Label, lowercase hex. */
  key: string;
  standard: KlvStandard;
  /** true/false where the standard carries a checksum (ST 0601, standalone ST 0903), null otherwise. */
  checksumValid: boolean | null;
  /**
   * Decoded items. On packets returned by the decoder this is an accessor
   * that builds the objects on first use; a spread copy therefore needs
   * `tags: packet.tags` added explicitly (the writers cope either way).
   */
  tags: KlvTags;
  /** Packet-level problem found in lenient mode (truncation, broken structure, missing checksum). */
  error?: string;
  /** Raw value bytes as hex, for units of unknown standards. */
  value?: string;
}

/** Options shared by the decode entry points. */
export interface DecodeOptions {
  /** Throw KlvError on the first problem instead of reporting it in the output. Default false. */
  strict?: boolean;
  /** Stream fields copied onto every decoded packet. */
  pts?: number | null;
  stream?: number | null;
  pid?: number | null;
  carriage?: KlvCarriage | null;
}
