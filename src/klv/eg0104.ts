/**
 * MISB EG 0104 Predator UAV Basic Universal Set (deprecated, still found in
 * archives): 16-byte keys, IEEE floats. Items are keyed by their UL hex;
 * keys match whatever their version byte (index 7).
 */
import { float, string, timestamp } from './kinds.js';
import { SetKind, UniversalTable, urow } from './localset.js';
import { ST0102_TABLE } from './st0102.js';

export const EG0104_KEY = '060e2b34020101010e01010201010000';

export const EG0104_TABLE: UniversalTable = new UniversalTable('EG 0104', [
  urow('060e2b34010101010702010101050000', 'userDefinedTimeStamp', timestamp(8), 'us'),
  urow('060e2b34010101010105050000000000', 'episodeNumber', string()),
  urow('060e2b34010101070701100106000000', 'platformHeadingAngle', float(), 'deg'),
  urow('060e2b34010101070701100105000000', 'platformPitchAngle', float(), 'deg'),
  urow('060e2b34010101070701100104000000', 'platformRollAngle', float(), 'deg'),
  urow('060e2b34010101010101200100000000', 'deviceDesignation', string()),
  urow('060e2b34010101010420010201010000', 'imageSourceDevice', string()),
  urow('060e2b34010101010701010100000000', 'imageCoordinateSystem', string()),
  urow('060e2b34010101030701020102040200', 'deviceLatitude', float(), 'deg'),
  urow('060e2b34010101030701020102060200', 'deviceLongitude', float(), 'deg'),
  urow('060e2b34010101010701020102020000', 'deviceAltitude', float(), 'm'),
  urow('060e2b34010101020420020101080000', 'horizontalFieldOfView', float(), 'deg'),
  urow('060e2b340101010704200201010a0100', 'verticalFieldOfView', float(), 'deg'),
  urow('060e2b34010101010701080101000000', 'slantRange', float(), 'm'),
  urow('060e2b34010101010701090201000000', 'targetWidth', float(), 'm'),
  urow('060e2b34010101010701020103020000', 'frameCenterLatitude', float(), 'deg'),
  urow('060e2b34010101010701020103040000', 'frameCenterLongitude', float(), 'deg'),
  urow('060e2b340101010a0701020103160000', 'frameCenterElevation', float(), 'm'),
  urow('060e2b34010101030701020103070100', 'cornerLatitudePoint1', float(), 'deg'),
  urow('060e2b34010101030701020103080100', 'cornerLatitudePoint2', float(), 'deg'),
  urow('060e2b34010101030701020103090100', 'cornerLatitudePoint3', float(), 'deg'),
  urow('060e2b340101010307010201030a0100', 'cornerLatitudePoint4', float(), 'deg'),
  urow('060e2b340101010307010201030b0100', 'cornerLongitudePoint1', float(), 'deg'),
  urow('060e2b340101010307010201030c0100', 'cornerLongitudePoint2', float(), 'deg'),
  urow('060e2b340101010307010201030d0100', 'cornerLongitudePoint3', float(), 'deg'),
  urow('060e2b340101010307010201030e0100', 'cornerLongitudePoint4', float(), 'deg'),
  urow('060e2b34020301010e01030302000000', 'securityLocalSet', new SetKind(() => ST0102_TABLE)),
  urow('060e2b34010101010702010201010000', 'startDateTimeUtc', string()),
  urow('060e2b34010101010702010207010000', 'eventStartDateTimeUtc', string()),
  urow('060e2b34010101010701100101000000', 'sensorRollAngle', float(), 'deg'),
  urow('060e2b34010101010701100102000000', 'angleToNorth', float(), 'deg'),
  urow('060e2b34010101010701100103000000', 'obliquityAngle', float(), 'deg'),
]);
