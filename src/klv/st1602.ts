/** MISB ST 1602 Composite Imaging Local Set (ST 0601 tag 99). */
import { berOid, int, timestamp, uint } from './kinds.js';
import { Table, row } from './localset.js';

export const ST1602_TABLE: Table = new Table('ST 1602', [
  row(1, 'precisionTimeStamp', timestamp(8), 'us'),
  row(2, 'documentVersion', berOid()),
  row(3, 'sourceImageRows', uint(), 'pixels'),
  row(4, 'sourceImageColumns', uint(), 'pixels'),
  row(5, 'sourceImageAoiRows', uint(), 'pixels'),
  row(6, 'sourceImageAoiColumns', uint(), 'pixels'),
  row(7, 'sourceImageAoiPositionX', int(), 'pixels'),
  row(8, 'sourceImageAoiPositionY', int(), 'pixels'),
  row(9, 'subImageRows', uint(), 'pixels'),
  row(10, 'subImageColumns', uint(), 'pixels'),
  row(11, 'subImagePositionX', int(), 'pixels'),
  row(12, 'subImagePositionY', int(), 'pixels'),
  row(13, 'activeSubImageRows', uint(), 'pixels'),
  row(14, 'activeSubImageColumns', uint(), 'pixels'),
  row(15, 'activeSubImageOffsetX', int(), 'pixels'),
  row(16, 'activeSubImageOffsetY', int(), 'pixels'),
  row(17, 'transparency', uint(1)),
  row(18, 'zOrder', uint(1)),
]);
