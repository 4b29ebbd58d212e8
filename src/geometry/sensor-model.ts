/**
 * A frame's ground footprint from the sensor's position, attitude and field of view (MISB ST 0601
 * tags 5-7 or 90/91, 13-20), for telemetry that carries no corner points. The view's four corner
 * rays are turned by the platform's heading, pitch and roll, then the sensor's relative azimuth,
 * elevation and roll (ST 0601's rotation order), and met with a level ground plane in a local
 * north-east-down frame at the sensor: flat earth, good for the few kilometres a frame spans.
 */

export interface SensorPose {
  latitude: number;
  longitude: number;
  /** Sensor altitude in metres. */
  altitude: number;
  /** Height of the ground in metres, on the same datum as altitude. */
  groundElevation: number;
  platformHeading: number;
  platformPitch: number;
  platformRoll: number;
  relativeAzimuth: number;
  relativeElevation: number;
  relativeRoll: number;
  horizontalFov: number;
  verticalFov: number;
}

const METRES_PER_DEGREE = 111_320;
/** Farther than this many times the height above ground a corner ray is taken as above the horizon. */
const MAX_RANGE_FACTOR = 20;

type Vec = [number, number, number];
type Mat = [Vec, Vec, Vec];

const rad = (d: number): number => (d * Math.PI) / 180;

function mul(a: Mat, b: Mat): Mat {
  const out = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ] as Mat;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) out[i]![j] = a[i]![0] * b[0]![j]! + a[i]![1] * b[1]![j]! + a[i]![2] * b[2]![j]!;
  return out;
}

function apply(m: Mat, v: Vec): Vec {
  return [m[0][0] * v[0] + m[0][1] * v[1] + m[0][2] * v[2], m[1][0] * v[0] + m[1][1] * v[1] + m[1][2] * v[2], m[2][0] * v[0] + m[2][1] * v[1] + m[2][2] * v[2]];
}

/** Body-to-NED rotation for yaw, pitch, roll in degrees (z-y-x order). */
function yawPitchRoll(yaw: number, pitch: number, roll: number): Mat {
  const [cy, sy, cp, sp, cr, sr] = [Math.cos(rad(yaw)), Math.sin(rad(yaw)), Math.cos(rad(pitch)), Math.sin(rad(pitch)), Math.cos(rad(roll)), Math.sin(rad(roll))];
  const z: Mat = [
    [cy, -sy, 0],
    [sy, cy, 0],
    [0, 0, 1],
  ];
  const y: Mat = [
    [cp, 0, sp],
    [0, 1, 0],
    [-sp, 0, cp],
  ];
  const x: Mat = [
    [1, 0, 0],
    [0, cr, -sr],
    [0, sr, cr],
  ];
  return mul(mul(z, y), x);
}

/**
 * The ground points [lon, lat] seen at the view's corners 1-4 (top left, top right, bottom right,
 * bottom left of the image, as ST 0601 numbers them) and at its centre; null when a ray misses
 * the ground (it looks at or above the horizon, or the sensor is not above the ground).
 */
export function projectFootprint(p: SensorPose): { corners: Array<[number, number]>; center: [number, number] } | null {
  const height = p.altitude - p.groundElevation;
  if (!(height > 0) || !(p.horizontalFov > 0) || !(p.verticalFov > 0) || p.horizontalFov >= 180 || p.verticalFov >= 180) return null;
  const rotation = mul(yawPitchRoll(p.platformHeading, p.platformPitch, p.platformRoll), yawPitchRoll(p.relativeAzimuth, p.relativeElevation, p.relativeRoll));
  const th = Math.tan(rad(p.horizontalFov / 2));
  const tv = Math.tan(rad(p.verticalFov / 2));
  // Sensor frame: x along the boresight, y to the image's right, z to its bottom.
  const rays: Vec[] = [
    [1, -th, -tv],
    [1, th, -tv],
    [1, th, tv],
    [1, -th, tv],
    [1, 0, 0],
  ];
  const metresPerDegreeLon = METRES_PER_DEGREE * Math.cos(rad(p.latitude));
  const ground: Array<[number, number]> = [];
  for (const ray of rays) {
    const [n, e, d] = apply(rotation, ray);
    if (!(d > 0)) return null;
    const t = height / d;
    if (Math.hypot(n * t, e * t) > MAX_RANGE_FACTOR * height) return null;
    ground.push([p.longitude + (e * t) / metresPerDegreeLon, p.latitude + (n * t) / METRES_PER_DEGREE]);
  }
  return { corners: ground.slice(0, 4), center: ground[4]! };
}
