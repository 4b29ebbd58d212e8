export { startLive, liveInputUrl, type LiveRun, type LiveRunOptions, type LiveHandlers, type LiveStatus, type LiveState, type LiveResult } from './live-run.js';
export { TelemetryHub, type TelemetryPacket, type TelemetrySubscription } from './telemetry.js';
