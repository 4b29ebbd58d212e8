/** MISB ST 1206 SAR Motion Imagery Local Set (ST 0601 tag 95). */
import { enumeration, imapb, timestamp, uint } from './kinds.js';
import { Table, row } from './localset.js';
import { mdap, naturalImapb } from './st1303.js';

export const ST1206_TABLE: Table = new Table('ST 1206', [
  row(1, 'grazingAngle', imapb(0, 90, 2), 'deg'),
  row(2, 'groundPlaneSquintAngle', imapb(-90, 90, 2), 'deg'),
  row(3, 'lookDirection', enumeration(['Left', 'Right'])),
  row(4, 'imagePlane', enumeration(['Slant', 'Ground', 'Other'])),
  row(5, 'rangeResolution', imapb(0, 1e6, 4), 'm'),
  row(6, 'crossRangeResolution', imapb(0, 1e6, 4), 'm'),
  row(7, 'rangeImagePlanePixelSize', imapb(0, 1e6, 4), 'm'),
  row(8, 'crossRangeImagePlanePixelSize', imapb(0, 1e6, 4), 'm'),
  row(9, 'imageRows', uint(2), 'pixels'),
  row(10, 'imageColumns', uint(2), 'pixels'),
  row(11, 'rangeDirectionAngle', imapb(0, 360, 2), 'deg'),
  row(12, 'trueNorth', imapb(0, 360, 2), 'deg'),
  row(13, 'rangeLayoverAngle', imapb(0, 360, 2), 'deg'),
  row(14, 'groundApertureAngularExtent', imapb(0, 90, 2), 'deg'),
  row(15, 'apertureDuration', uint(4), 'us'),
  row(16, 'groundTrackAngle', imapb(0, 360, 2), 'deg'),
  row(17, 'minimumDetectableVelocity', imapb(0, 100, 2), 'm/s'),
  row(18, 'truePulseRepetitionFrequency', imapb(0, 1e6, 4), 'Hz'),
  row(19, 'pulseRepetitionFrequencyScaleFactor', imapb(0, 1, 2)),
  row(20, 'transmitRfCenterFrequency', imapb(0, 1e12, 4), 'Hz'),
  row(21, 'transmitRfBandwidth', imapb(0, 1e11, 4), 'Hz'),
  row(22, 'radarCrossSectionScaleFactorPolynomial', mdap(naturalImapb(0, 1e6))),
  row(23, 'referenceFramePrecisionTimeStamp', timestamp(8), 'us'),
  row(24, 'referenceFrameGrazingAngle', imapb(0, 90, 2), 'deg'),
  row(25, 'referenceFrameGroundPlaneSquintAngle', imapb(-90, 90, 2), 'deg'),
  row(26, 'referenceFrameRangeDirectionAngle', imapb(0, 360, 2), 'deg'),
  row(27, 'referenceFrameRangeLayoverAngle', imapb(0, 360, 2), 'deg'),
  row(28, 'documentVersion', uint(1)),
]);
