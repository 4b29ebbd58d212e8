/**
 * GET <root>/self: what this machine can do, in the spirit of Video Server's self resource — GPU
 * present and whether it transcodes, H.264/HEVC encoding, NVDEC/NVENC/VAAPI as really opened on a
 * test frame (capabilities()), the FFmpeg library versions, the storage directory, the largest
 * upload and the livestream protocols and ports.
 */
import type { FastifyInstance } from 'fastify';
import { hostname } from 'node:os';
import { LocalDirectoryStorage } from '../../jobs/storage.js';
import { loadAddon } from '../../native.js';
import { capabilities, type PathCapabilities } from '../../pipeline.js';
import { restRequest, sendJson, type ServerContext } from '../context.js';

const H264 = /^(libx264|h264_nvenc|h264_vaapi)$/;
const HEVC = /^(libx265|hevc_nvenc|hevc_vaapi)$/;

function gpuPath(p: PathCapabilities, encoderSuffix: string): Record<string, unknown> {
  return {
    available: p.available,
    device: p.device,
    reason: p.reason,
    decoders: p.decoders,
    encoders: p.encoders,
    scale: p.scale,
    decodes: p.available && p.decoders.length > 0,
    encodes: p.encoders.some((e) => e.endsWith(encoderSuffix)),
  };
}

export function selfRoutes(api: FastifyInstance, ctx: ServerContext): void {
  api.get('/self', async (req, reply) => {
    const r = restRequest(ctx, req, reply);
    if (!r) return reply;
    const caps = await capabilities();
    const { cpu, cuda, vaapi } = caps.paths;
    const encoders = [...cpu.encoders, ...cuda.encoders, ...vaapi.encoders];
    const nvidia = cuda.available;
    return sendJson(reply, r.f, {
      machineName: hostname(),
      hasNvidiaGpu: nvidia,
      gpuType: nvidia ? `CUDA device ${cuda.device ?? '0'}` : null,
      // Video Server's sense: the GPU takes part in transcoding (NVDEC decode and scale count;
      // data-centre GPUs have no NVENC and encode on the CPU).
      gpuSupportsTranscoding: nvidia && (cuda.decoders.length > 0 || cuda.encoders.length > 0),
      supportsH264Encoding: encoders.some((e) => H264.test(e)),
      supportsH265Encoding: encoders.some((e) => HEVC.test(e)),
      hardware: {
        nvdec: nvidia && cuda.decoders.length > 0,
        nvenc: cuda.encoders.some((e) => e.endsWith('_nvenc')),
        vaapi: vaapi.available,
        cuda: gpuPath(cuda, '_nvenc'),
        vaapiPath: gpuPath(vaapi, '_vaapi'),
        cpu: { decoders: cpu.decoders, encoders: cpu.encoders },
        configured: ctx.config.hwaccel,
      },
      ffmpeg: loadAddon().versions(),
      storage: { description: ctx.storage.description, directory: ctx.storage instanceof LocalDirectoryStorage ? ctx.storage.root : null },
      maxUploadSize: ctx.config.maxUploadBytes,
      livestream: { protocols: ctx.config.liveProtocols, ports: { rangeMin: ctx.config.livePorts.min, rangeMax: ctx.config.livePorts.max } },
      elevationSources: [],
      dataStores: [{ id: 'local', type: 'directory', description: ctx.storage.description }],
      defaultDataStoreId: 'local',
    });
  });
}
