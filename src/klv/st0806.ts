/** MISB ST 0806 Remote Video Terminal Local Set (ST 0601 tag 73) with its POI, AOI and user-defined sets. */
import { crc32Mpeg } from './checksum.js';
import { itemError } from './errors.js';
import { bytes, enumeration, mappedInt, mappedUint, num, objectInput, pack, string, timestamp, uint, type Kind } from './kinds.js';
import { Table, row, set } from './localset.js';

export const ST0806_KEY = '060e2b34020b01010e01030102000000';

export const POI_AOI_TYPE: Readonly<Record<number, string>> = {
  1: 'Friendly',
  2: 'Hostile',
  3: 'Target',
  4: 'Unknown',
};

export const USER_DATA_TYPE = ['String', 'Signed Integer', 'Unsigned Integer', 'Experimental'] as const;

/** One byte: data type in the top two bits, numeric id in the low six. */
const numericIdAndDataType = (): Kind =>
  pack(
    'userDataId',
    (b, off, len) => {
      if (len !== 1) throw itemError(`numeric ID and data type must be 1 byte, got ${len}`);
      const v = b[off]!;
      return { dataType: v >> 6, dataTypeText: USER_DATA_TYPE[v >> 6]!, id: v & 0x3f };
    },
    (w, value) => {
      const v = objectInput(value, 'numeric ID and data type');
      w.u8(((num(v.dataType, 'dataType') & 3) << 6) | (num(v.id, 'id') & 0x3f));
    },
  );

export const USER_DEFINED_TABLE: Table = new Table('ST 0806 User Defined', [
  row(1, 'numericIdAndDataType', numericIdAndDataType()),
  row(2, 'userData', bytes()),
]);

export const POI_TABLE: Table = new Table('ST 0806 POI', [
  row(1, 'poiNumber', uint(2)),
  row(2, 'poiLatitude', mappedInt(-90, 90, 4), 'deg'),
  row(3, 'poiLongitude', mappedInt(-180, 180, 4), 'deg'),
  row(4, 'poiAltitude', mappedUint(-900, 19000, 2), 'm'),
  row(5, 'poiType', enumeration(POI_AOI_TYPE)),
  row(6, 'poiText', string()),
  row(7, 'poiSourceIcon', string()),
  row(8, 'poiSourceId', string()),
  row(9, 'poiLabel', string()),
  row(10, 'operationId', string()),
]);

export const AOI_TABLE: Table = new Table('ST 0806 AOI', [
  row(1, 'aoiNumber', uint(2)),
  row(2, 'cornerLatitudePoint1', mappedInt(-90, 90, 4), 'deg'),
  row(3, 'cornerLongitudePoint1', mappedInt(-180, 180, 4), 'deg'),
  row(4, 'cornerLatitudePoint3', mappedInt(-90, 90, 4), 'deg'),
  row(5, 'cornerLongitudePoint3', mappedInt(-180, 180, 4), 'deg'),
  row(6, 'aoiType', enumeration(POI_AOI_TYPE)),
  row(7, 'aoiText', string()),
  row(8, 'aoiSourceId', string()),
  row(9, 'aoiLabel', string()),
  row(10, 'operationId', string()),
]);

/** RVT sets end with a CRC-32/MPEG-2 over the set up to and including the checksum item's tag and length. */
export const ST0806_TABLE: Table = new Table('ST 0806', [
  row(1, 'checksum', uint(4)),
  row(2, 'timestamp', timestamp(8), 'us'),
  row(3, 'platformTrueAirspeed', uint(2), 'm/s'),
  row(4, 'platformIndicatedAirspeed', uint(2), 'm/s'),
  row(5, 'telemetryAccuracyIndicator', bytes()),
  row(6, 'fragCircleRadius', uint(2), 'm'),
  row(7, 'frameCode', uint(4)),
  row(8, 'uasLsVersionNumber', uint(1)),
  row(9, 'videoDataRate', uint(4)),
  row(10, 'digitalVideoFileFormat', string()),
  row(11, 'userDefinedLocalSet', set(() => USER_DEFINED_TABLE)),
  row(12, 'pointOfInterestLocalSet', set(() => POI_TABLE)),
  row(13, 'areaOfInterestLocalSet', set(() => AOI_TABLE)),
  row(14, 'mgrsZone', uint(1)),
  row(15, 'mgrsLatitudeBandAndGridSquare', string()),
  row(16, 'mgrsEasting', uint(3), 'm'),
  row(17, 'mgrsNorthing', uint(3), 'm'),
  row(18, 'frameCenterMgrsZone', uint(1)),
  row(19, 'frameCenterMgrsLatitudeBandAndGridSquare', string()),
  row(20, 'frameCenterMgrsEasting', uint(3), 'm'),
  row(21, 'frameCenterMgrsNorthing', uint(3), 'm'),
], { checksumTag: 1, nestedChecksum: { tag: 1, length: 4, compute: crc32Mpeg } });
