/** Public API of the MISB KLV decoding layer. */
export { decodeKlv, decodeKlvUnit, decodeKlvSet } from './decode.js';
export { encodeKlv, type KlvEncodeInput } from './encode.js';
export { KlvError, type KlvErrorCode, type KlvErrorDetails } from './errors.js';
export type { KlvPacket, KlvTag, KlvTags, KlvValue, KlvStandard, KlvCarriage, DecodeOptions } from './types.js';
export { decodeBerLength, decodeBerOid, encodeBerLength, encodeBerOid, type BerField } from './ber.js';
export { bcc16, crc16Ccitt, crc32Mpeg } from './checksum.js';
export {
  imapbDecode,
  imapbDecodeDetailed,
  imapbEncode,
  imapbEncodeSpecial,
  imapbParams,
  type ImapbParams,
  type ImapbSpecial,
} from './imapb.js';
export { toHex, fromHex } from './bytes.js';
export { STANDARD_KEYS, identifyKey } from './keys.js';
export { ST0601_TABLE, ST0601_KEY } from './st0601.js';
export { ST0102_TABLE, ST0102_KEY } from './st0102.js';
export { ST0903_TABLE, ST0903_KEY } from './st0903.js';
export { EG0104_TABLE, EG0104_KEY } from './eg0104.js';
export type { Table, UniversalTable } from './localset.js';
export type { TagRow, Kind } from './kinds.js';
export { toNdjsonLine, type NdjsonPacket } from './ndjson.js';
export { packetsToCsv, CsvWriter, type CsvOptions } from './csv.js';
export { GeoJsonBuilder, type GeoJsonFeatureCollection, type GeoJsonFeature } from './geojson.js';
