/** MISB ST 1204 MIIS Core Identifier (ST 0601 tag 94, ST 0903 tag 13). */
import { encodeBerOid } from './ber.js';
import { KlvError, itemError } from './errors.js';
import { FieldReader, hexInput, num, objectInput, pack, uuidText, type Kind } from './kinds.js';
import type { KlvValue } from './types.js';

export const DEVICE_ID_TYPE = ['None', 'Managed', 'Virtual', 'Physical'] as const;

export const miisCoreIdentifier = (): Kind =>
  pack(
    'miisCoreIdentifier',
    (b, off, len) => {
      const r = new FieldReader(b, off, off + len);
      const version = r.oid();
      const usage = r.uint(1, 'usage byte');
      const sensorIdType = (usage >> 5) & 3;
      const platformIdType = (usage >> 3) & 3;
      const uuid = (present: boolean, what: string): string | null => {
        if (!present) return null;
        r.need(16, what);
        const s = uuidText(b, r.p);
        r.p += 16;
        return s;
      };
      const sensorId = uuid(sensorIdType !== 0, 'sensor ID');
      const platformId = uuid(platformIdType !== 0, 'platform ID');
      const windowId = uuid((usage & 4) !== 0, 'window ID');
      const minorId = uuid((usage & 2) !== 0, 'minor ID');
      if (r.remaining !== 0) throw itemError(`${r.remaining} bytes left after the MIIS core identifier`);
      const out: Record<string, KlvValue> = {
        version,
        sensorIdType,
        sensorIdTypeText: DEVICE_ID_TYPE[sensorIdType]!,
        platformIdType,
        platformIdTypeText: DEVICE_ID_TYPE[platformIdType]!,
        sensorId,
        platformId,
        windowId,
        minorId,
      };
      return out;
    },
    (w, value) => {
      const v = objectInput(value, 'MIIS core identifier');
      const present = (k: string): boolean => v[k] !== null && v[k] !== undefined;
      const sensorIdType = present('sensorIdType') ? num(v.sensorIdType, 'sensorIdType') : present('sensorId') ? 3 : 0;
      const platformIdType = present('platformIdType') ? num(v.platformIdType, 'platformIdType') : present('platformId') ? 3 : 0;
      if ((sensorIdType !== 0) !== present('sensorId') || (platformIdType !== 0) !== present('platformId')) {
        throw new KlvError('ERR_KLV_ENCODE', 'MIIS core identifier: ID types and IDs do not agree');
      }
      const usage = ((sensorIdType & 3) << 5) | ((platformIdType & 3) << 3) | (present('windowId') ? 4 : 0) | (present('minorId') ? 2 : 0);
      w.bytes(encodeBerOid(num(v.version ?? 1, 'version'))).u8(usage);
      for (const k of ['sensorId', 'platformId', 'windowId', 'minorId']) {
        if (present(k)) w.bytes(hexInput(v[k], k));
      }
    },
  );
