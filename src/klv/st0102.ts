/** MISB ST 0102 Security Metadata Local Set (nested in ST 0601 tag 48 and standalone). */
import { ByteWriter, decodeUtf16be, decodeUtf8, encodeUtf16be } from './bytes.js';
import { KlvError, itemError } from './errors.js';
import { Kind, bytes, enumeration, string, uint, uuid, describe, type DecodeContext, uintWritten } from './kinds.js';
import { Table, row } from './localset.js';
import type { KlvValue } from './types.js';

export const ST0102_KEY = '060e2b34020301010e01030302000000';

export const SECURITY_CLASSIFICATION: Readonly<Record<number, string>> = {
  1: 'UNCLASSIFIED',
  2: 'RESTRICTED',
  3: 'CONFIDENTIAL',
  4: 'SECRET',
  5: 'TOP SECRET',
};

export const COUNTRY_CODING_METHOD: Readonly<Record<number, string>> = {
  1: 'ISO-3166 Two Letter',
  2: 'ISO-3166 Three Letter',
  3: 'FIPS 10-4 Two Letter',
  4: 'FIPS 10-4 Four Letter',
  5: 'ISO-3166 Numeric',
  6: '1059 Two Letter',
  7: '1059 Three Letter',
  8: 'Omitted Value',
  9: 'Omitted Value',
  10: 'FIPS 10-4 Mixed',
  11: 'ISO 3166 Mixed',
  12: 'STANAG 1059 Mixed',
  13: 'GENC Two Letter',
  14: 'GENC Three Letter',
  15: 'GENC Numeric',
  16: 'GENC Mixed',
  64: 'GENC AdminSub',
};

/**
 * Object Country Codes: UTF-16BE since ST 0102.11, but real encoders send
 * one byte per character. Even-length text whose first byte is zero is read
 * as UTF-16BE, anything else as UTF-8. Written as UTF-16BE.
 */
class CountryCodesKind extends Kind {
  readonly type = 'string';
  override empty(): KlvValue {
    return '';
  }
  decode(b: Uint8Array, off: number, len: number, _ctx: DecodeContext): KlvValue {
    if (len % 2 === 0 && b[off] === 0) {
      const s = decodeUtf16be(b, off, len);
      if (s !== undefined) return s;
    }
    const s = decodeUtf8(b, off, len);
    if (s === undefined) throw itemError('country codes are neither UTF-16BE nor UTF-8 text');
    return s;
  }
  write(w: ByteWriter, value: unknown): void {
    if (typeof value !== 'string') throw new KlvError('ERR_KLV_ENCODE', `country codes: got ${describe(value)}`);
    w.bytes(encodeUtf16be(value));
  }
}

export const ST0102_TABLE: Table = new Table('ST 0102', [
  row(1, 'securityClassification', enumeration(SECURITY_CLASSIFICATION)),
  row(2, 'classifyingCountryAndReleasingInstructionsCountryCodingMethod', enumeration(COUNTRY_CODING_METHOD)),
  row(3, 'classifyingCountry', string()),
  row(4, 'sciShiInformation', string()),
  row(5, 'caveats', string()),
  row(6, 'releasingInstructions', string()),
  row(7, 'classifiedBy', string()),
  row(8, 'derivedFrom', string()),
  row(9, 'classificationReason', string()),
  row(10, 'declassificationDate', string()),
  row(11, 'classificationAndMarkingSystem', string()),
  row(12, 'objectCountryCodingMethod', enumeration(COUNTRY_CODING_METHOD)),
  row(13, 'objectCountryCodes', new CountryCodesKind()),
  row(14, 'classificationComments', string()),
  row(15, 'umidVideo', bytes()),
  row(16, 'umidAudio', bytes()),
  row(17, 'umidData', bytes()),
  row(18, 'umidSystem', bytes()),
  row(19, 'streamId', uint()),
  row(20, 'transportStreamId', uintWritten(2)),
  row(21, 'itemDesignatorId', uuid()),
  row(22, 'version', uintWritten(2)),
  row(23, 'classifyingCountryAndReleasingInstructionsCountryCodingMethodVersionDate', string()),
  row(24, 'objectCountryCodingMethodVersionDate', string()),
]);
