/** Geometry from decoded KLV: footprints, coverage, sensor track and spatial/temporal queries. */
export * from './telemetry.js';
export * from './sensor-model.js';
export * from './polygons.js';
export * from './query-geometry.js';
export * from './coverage.js';
