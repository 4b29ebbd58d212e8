/** MISB ST 1601 Geo-Registration Local Set (ST 0601 tag 98). */
import { string, uint, uuid } from './kinds.js';
import { Table, row } from './localset.js';
import { mdap, naturalFloat, naturalUint, rowImapb } from './st1303.js';

/** IMAPB ranges of the six rows of the pixel SDCC array (σ row, σ column, ρ, for two images). */
const PIXEL_SDCC_RANGES = [
  [0, 100],
  [0, 100],
  [-1, 1],
  [0, 100],
  [0, 100],
  [-1, 1],
] as const;

/** IMAPB ranges of the rows of the geographic SDCC array (σ lat, σ lon, ρ, σ elevation, ρ, ρ). */
const GEOGRAPHIC_SDCC_RANGES = [
  [0, 650],
  [0, 650],
  [-1, 1],
  [0, 1000],
  [-1, 1],
  [-1, 1],
] as const;

export const ST1601_TABLE: Table = new Table('ST 1601', [
  row(1, 'documentVersion', uint()),
  row(2, 'algorithmName', string()),
  row(3, 'algorithmVersion', string()),
  row(4, 'correspondencePointsRowColumn', mdap(naturalUint)),
  row(5, 'correspondencePointsLatitudeLongitude', mdap(naturalFloat), 'deg'),
  row(6, 'secondImageName', string()),
  row(7, 'algorithmConfigurationIdentifier', uuid()),
  row(8, 'correspondencePointsElevation', mdap(naturalFloat), 'm'),
  row(9, 'correspondencePointsSdccRowColumn', mdap(rowImapb(PIXEL_SDCC_RANGES))),
  row(10, 'correspondencePointsSdccLatitudeLongitudeElevation', mdap(rowImapb(GEOGRAPHIC_SDCC_RANGES))),
]);
