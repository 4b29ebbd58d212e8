// Simulated ST 0601 telemetry shared by the KLV benchmarks and the golden-output test:
// an orbit with 38 tags per packet, the mix real encoders send (nested security set included).

/**
 * klvdata (Python) decoding such packets and reading their values, measured on this kind of
 * machine; Python is not part of the benchmark runs, so the figure is quoted.
 */
export const KLVDATA_PACKETS_PER_S = 4600;

/** encodeKlv input of packet `i` of the orbit (30 packets per second). */
export function flightPacket(i) {
  const t = i / 30;
  const heading = (t * 3) % 360;
  const lat = 35.02 + 0.01 * Math.sin(t / 50);
  const lon = -79.18 + 0.01 * Math.cos(t / 50);
  return {
    standard: 'ST0601',
    tags: {
      2: 1513101511391891 + Math.round(i * 33366.7),
      3: 'MISSION-1234',
      4: 'N-4711',
      5: heading,
      6: 1.5 * Math.sin(t),
      7: 4 * Math.cos(t / 3),
      8: 41,
      10: 'Predator',
      11: 'EO Nose',
      12: 'Geodetic WGS84',
      13: lat,
      14: lon,
      15: 3657.5 + 2 * Math.sin(t),
      16: 7.6,
      17: 5.7,
      18: (heading + 90) % 360,
      19: -42.1,
      20: 0,
      21: 5361.4,
      22: 712.1,
      23: lat + 0.008,
      24: lon + 0.04,
      25: 67.1,
      26: 0.0041,
      27: 0.0034,
      28: -0.0024,
      29: 0.0053,
      30: -0.0037,
      31: -0.0034,
      32: 0.0021,
      33: -0.005,
      48: { 1: 1, 2: 2, 3: '//USA', 12: 2, 13: 'USA', 22: 12 },
      56: 38,
      59: 'VIPER21',
      65: 17,
      90: 1.5 * Math.sin(t),
      91: 4 * Math.cos(t / 3),
    },
  };
}
