#include "core/ingest_hw.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "core/error.h"
#include "core/ingest_filters.h"
#include "core/ingest_log.h"

extern "C" {
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

namespace fmv {
namespace {

// Device contexts live for the whole process: creating a CUDA context costs hundreds of
// milliseconds, and freeing it during process exit races with the driver's own teardown, so the
// cache is deliberately never destroyed.
struct DeviceCache {
  std::mutex mutex;
  std::map<std::pair<int, std::string>, BufferRefPtr> devices;
  std::map<std::string, std::pair<bool, std::string>> encoders;  // "name@device" → works, why not
};

DeviceCache& deviceCache() {
  static DeviceCache* cache = new DeviceCache();
  return *cache;
}

std::string deviceTypeName(AVHWDeviceType type) {
  const char* n = av_hwdevice_get_type_name(type);
  return n ? n : "unknown";
}

std::string explain(const LogCapture& log, int ret) {
  std::string why = log.lastError();
  if (why.empty()) {
    const auto lines = log.lines();
    if (!lines.empty()) why = lines.back();
  }
  const std::string code = avErrorText(ret);
  if (why.empty()) return code;
  return why + " (" + code + ")";
}

constexpr int kTestSize = 256;

FramePtr grayFrame(int width, int height) {
  FramePtr f = makeFrame();
  f->width = width;
  f->height = height;
  f->format = AV_PIX_FMT_YUV420P;
  checkAv(av_frame_get_buffer(f.get(), 0), "ERR_NO_MEMORY", "capabilities", "cannot allocate a test frame");
  for (int p = 0; p < 3; ++p) {
    const int h = p == 0 ? height : height / 2;
    for (int y = 0; y < h; ++y) std::memset(f->data[p] + static_cast<ptrdiff_t>(y) * f->linesize[p], 128, f->linesize[p]);
  }
  f->pts = 0;
  return f;
}

// A one-frame elementary stream of codec id, made with whatever software encoder this build has.
std::vector<PacketPtr> encodeTestStream(AVCodecID id, std::string* error) {
  const char* name = id == AV_CODEC_ID_H264 ? "libx264" : id == AV_CODEC_ID_HEVC ? "libx265" : id == AV_CODEC_ID_MPEG2VIDEO ? "mpeg2video" : nullptr;
  const AVCodec* codec = name ? avcodec_find_encoder_by_name(name) : nullptr;
  std::vector<PacketPtr> packets;
  if (!codec) {
    *error = std::string("no software encoder to make a test stream (") + (name ? name : "?") + ")";
    return packets;
  }
  CodecContextPtr ctx = makeCodecContext(codec, "capabilities", "a test codec");
  ctx->width = kTestSize;
  ctx->height = kTestSize;
  ctx->pix_fmt = AV_PIX_FMT_YUV420P;
  ctx->time_base = AVRational{1, 25};
  ctx->framerate = AVRational{25, 1};
  ctx->gop_size = 1;
  ctx->max_b_frames = 0;
  AVDictionary* opts = nullptr;
  if (id == AV_CODEC_ID_H264) av_dict_set(&opts, "preset", "ultrafast", 0);
  if (id == AV_CODEC_ID_HEVC) {
    av_dict_set(&opts, "preset", "ultrafast", 0);
    av_dict_set(&opts, "x265-params", "log-level=none", 0);
  }
  const int ret = avcodec_open2(ctx.get(), codec, &opts);
  av_dict_free(&opts);
  if (ret < 0) {
    *error = std::string("cannot open ") + name + ": " + avErrorText(ret);
    return packets;
  }
  FramePtr frame = grayFrame(kTestSize, kTestSize);
  avcodec_send_frame(ctx.get(), frame.get());
  avcodec_send_frame(ctx.get(), nullptr);
  for (;;) {
    PacketPtr pkt = makePacket();
    if (avcodec_receive_packet(ctx.get(), pkt.get()) < 0) break;
    packets.push_back(std::move(pkt));
  }
  if (packets.empty()) *error = std::string(name) + " produced no test packet";
  return packets;
}

AVPixelFormat pickWanted(AVCodecContext* ctx, const AVPixelFormat* formats) {
  const auto wanted = *static_cast<const AVPixelFormat*>(ctx->opaque);
  for (const AVPixelFormat* p = formats; *p != AV_PIX_FMT_NONE; ++p)
    if (*p == wanted) return *p;
  return AV_PIX_FMT_NONE;
}

// True when the device decodes a real frame of codec id (the driver may lack the engine or profile).
bool decodeTest(AVCodecID id, const HwDevice& device, std::string* error) {
  AVPixelFormat hwFormat = hwDecodeFormat(id, device.type);
  if (hwFormat == AV_PIX_FMT_NONE) {
    *error = "this FFmpeg has no " + device.name + " decoder for " + avcodec_get_name(id);
    return false;
  }
  std::vector<PacketPtr> packets = encodeTestStream(id, error);
  if (packets.empty()) return false;
  const AVCodec* codec = avcodec_find_decoder(id);
  CodecContextPtr ctx = makeCodecContext(codec, "capabilities", "a test codec");
  ctx->hw_device_ctx = av_buffer_ref(device.ctx.get());
  ctx->opaque = &hwFormat;
  ctx->get_format = pickWanted;
  LogCapture log(16);
  int ret = avcodec_open2(ctx.get(), codec, nullptr);
  if (ret < 0) {
    *error = "cannot open the decoder: " + explain(log, ret);
    return false;
  }
  FramePtr frame = makeFrame();
  bool gotHw = false;
  for (auto& pkt : packets) avcodec_send_packet(ctx.get(), pkt.get());
  avcodec_send_packet(ctx.get(), nullptr);
  while ((ret = avcodec_receive_frame(ctx.get(), frame.get())) >= 0) {
    gotHw = gotHw || frame->format == hwFormat;
    av_frame_unref(frame.get());
  }
  if (!gotHw) *error = "no frame decoded on the device: " + explain(log, ret);
  return gotHw;
}

bool scaleTest(const HwDevice& device, std::string* error) {
  std::string chain;
  // hwupload (not hwupload_cuda, which opens its own context on GPU 0) uploads to the device probed.
  if (device.type == AV_HWDEVICE_TYPE_CUDA) chain = "hwupload,scale_cuda=128:72,hwdownload,format=yuv420p";
  else if (device.type == AV_HWDEVICE_TYPE_VAAPI) chain = "format=nv12,hwupload,scale_vaapi=w=128:h=72,hwdownload,format=nv12";
  else return false;
  LogCapture log(16);
  try {
    VideoFilterInput in;
    in.width = kTestSize;
    in.height = kTestSize;
    in.format = AV_PIX_FMT_YUV420P;
    in.timeBase = AVRational{1, 25};
    FilterGraph graph = FilterGraph::video(in, chain, device.ctx.get(), "capabilities");
    FramePtr frame = grayFrame(kTestSize, kTestSize);
    graph.push(frame.get());
    graph.push(nullptr);
    FramePtr out = makeFrame();
    if (graph.pull(out.get()) && out->width == 128) return true;
    *error = "the scaler produced no frame";
  } catch (const Error& e) {
    *error = e.what();
    const std::string why = log.lastError();
    if (!why.empty()) *error += " (" + why + ")";
  }
  return false;
}

std::vector<std::string> cpuDecoders() {
  std::vector<std::string> out;
  for (AVCodecID id : {AV_CODEC_ID_H264, AV_CODEC_ID_HEVC, AV_CODEC_ID_MPEG2VIDEO, AV_CODEC_ID_AV1, AV_CODEC_ID_VP9, AV_CODEC_ID_MPEG4}) {
    if (avcodec_find_decoder(id)) out.push_back(avcodec_get_name(id));
  }
  return out;
}

PathCapabilities probeDevicePath(AVHWDeviceType type, const std::vector<std::string>& encoders) {
  PathCapabilities p;
  p.name = deviceTypeName(type);
  p.device = defaultDeviceName(type);
  std::optional<HwDevice> device;
  try {
    device.emplace(acquireDevice(type, ""));
  } catch (const Error& e) {
    p.reason = e.what();
    return p;
  }
  p.available = true;
  p.device = device->device;
  for (AVCodecID id : {AV_CODEC_ID_H264, AV_CODEC_ID_HEVC, AV_CODEC_ID_MPEG2VIDEO}) {
    std::string why;
    if (decodeTest(id, *device, &why)) p.decoders.push_back(avcodec_get_name(id));
    else p.notes.push_back(std::string("decode ") + avcodec_get_name(id) + ": " + why);
  }
  std::string why;
  p.scale = scaleTest(*device, &why);
  if (!p.scale) p.notes.push_back("scale: " + why);
  for (const auto& name : encoders) {
    std::string err;
    if (encoderWorks(name, &*device, &err)) p.encoders.push_back(name);
    else p.notes.push_back("encode " + name + ": " + err);
  }
  if (p.decoders.empty()) p.reason = "the device opened but decoded no test stream";
  return p;
}

// Encoder options that make an open quick and quiet.
void quietOptions(const std::string& name, AVDictionary** opts) {
  if (name == "libx264") av_dict_set(opts, "preset", "ultrafast", 0);
  if (name == "libx265") {
    av_dict_set(opts, "preset", "ultrafast", 0);
    av_dict_set(opts, "x265-params", "log-level=none", 0);
  }
}

std::string planReasonForScale(bool onDevice) {
  return onDevice ? "scaled on the GPU per rung" : "downloaded once and scaled on the CPU (GPU scaling paid off only from 2160p)";
}

}  // namespace

const char* defaultDeviceName(AVHWDeviceType type) {
  switch (type) {
    case AV_HWDEVICE_TYPE_CUDA: return "0";
    case AV_HWDEVICE_TYPE_VAAPI: return "/dev/dri/renderD128";
    default: return "";
  }
}

namespace {

HwDevice openDevice(AVHWDeviceType type, const std::string& shown) {
  const std::string name = deviceTypeName(type);
  DeviceCache& cache = deviceCache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  auto key = std::make_pair(static_cast<int>(type), shown);
  auto it = cache.devices.find(key);
  if (it == cache.devices.end()) {
    LogCapture log(16);
    AVBufferRef* ref = nullptr;
    // VAAPI takes a DRM node; CUDA takes a device index.
    const int ret = av_hwdevice_ctx_create(&ref, type, shown.empty() ? nullptr : shown.c_str(), nullptr, 0);
    if (ret < 0) throw Error("ERR_HW_INIT", "hwaccel", name + " device " + shown + " could not be opened: " + explain(log, ret), ret);
    it = cache.devices.emplace(key, BufferRefPtr(ref)).first;
  }
  HwDevice d;
  d.type = type;
  d.name = name;
  d.device = shown;
  d.ctx.reset(av_buffer_ref(it->second.get()));
  if (!d.ctx) throw Error("ERR_NO_MEMORY", "hwaccel", "out of memory referencing the " + name + " device");
  return d;
}

// DRM render nodes in order; renderD128 is only the first GPU's, not every machine's VAAPI device.
std::vector<std::string> renderNodes() {
  std::vector<std::string> nodes;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/dev/dri", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (n.rfind("renderD", 0) == 0) nodes.push_back(it->path().string());
  }
  std::sort(nodes.begin(), nodes.end());
  if (nodes.empty()) nodes.push_back(defaultDeviceName(AV_HWDEVICE_TYPE_VAAPI));
  return nodes;
}

}  // namespace

HwDevice acquireDevice(AVHWDeviceType type, const std::string& device) {
  if (!device.empty() || type != AV_HWDEVICE_TYPE_VAAPI) return openDevice(type, device.empty() ? defaultDeviceName(type) : device);
  // No VAAPI device named: the first render node that opens.
  const std::vector<std::string> nodes = renderNodes();
  for (size_t i = 0; i < nodes.size(); ++i) {
    try {
      return openDevice(type, nodes[i]);
    } catch (const Error&) {
      if (i + 1 == nodes.size()) throw;
    }
  }
  throw Error("ERR_HW_INIT", "hwaccel", "no VAAPI render node found");
}

AVPixelFormat hwDecodeFormat(AVCodecID codecId, AVHWDeviceType type) {
  const AVCodec* codec = avcodec_find_decoder(codecId);
  if (!codec) return AV_PIX_FMT_NONE;
  for (int i = 0;; ++i) {
    const AVCodecHWConfig* cfg = avcodec_get_hw_config(codec, i);
    if (!cfg) return AV_PIX_FMT_NONE;
    if (cfg->device_type == type && (cfg->methods & AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX)) return cfg->pix_fmt;
  }
}

bool encoderWorks(const std::string& encoderName, const HwDevice* device, std::string* error) {
  const std::string key = encoderName + "@" + (device ? device->name + ":" + device->device : "cpu");
  DeviceCache& cache = deviceCache();
  {
    std::lock_guard<std::mutex> lock(cache.mutex);
    auto it = cache.encoders.find(key);
    if (it != cache.encoders.end()) {
      if (error) *error = it->second.second;
      return it->second.first;
    }
  }
  std::string why;
  bool works = false;
  const AVCodec* codec = avcodec_find_encoder_by_name(encoderName.c_str());
  if (!codec) {
    why = "this FFmpeg was built without " + encoderName;
  } else {
    CodecContextPtr ctx = makeCodecContext(codec, "capabilities", "a test encoder");
    ctx->width = kTestSize;
    ctx->height = kTestSize;
    ctx->time_base = AVRational{1, 25};
    ctx->framerate = AVRational{25, 1};
    ctx->pix_fmt = AV_PIX_FMT_YUV420P;
    ctx->bit_rate = 500000;
    BufferRefPtr frames;
    if (device && device->type == AV_HWDEVICE_TYPE_VAAPI) {
      // VAAPI encoders take only device surfaces.
      frames.reset(av_hwframe_ctx_alloc(device->ctx.get()));
      if (!frames) throw Error("ERR_NO_MEMORY", "capabilities", "out of memory");
      auto* fc = reinterpret_cast<AVHWFramesContext*>(frames->data);
      fc->format = AV_PIX_FMT_VAAPI;
      fc->sw_format = AV_PIX_FMT_NV12;
      fc->width = kTestSize;
      fc->height = kTestSize;
      fc->initial_pool_size = 4;
      if (av_hwframe_ctx_init(frames.get()) >= 0) {
        ctx->pix_fmt = AV_PIX_FMT_VAAPI;
        ctx->hw_frames_ctx = av_buffer_ref(frames.get());
      }
    } else if (device) {
      ctx->hw_device_ctx = av_buffer_ref(device->ctx.get());
    }
    AVDictionary* opts = nullptr;
    quietOptions(encoderName, &opts);
    LogCapture log(16);
    const int ret = avcodec_open2(ctx.get(), codec, &opts);
    av_dict_free(&opts);
    works = ret >= 0;
    if (!works) why = explain(log, ret);
  }
  std::lock_guard<std::mutex> lock(cache.mutex);
  cache.encoders[key] = {works, why};
  if (error) *error = why;
  return works;
}

Capabilities capabilities(bool refresh) {
  static std::mutex mutex;
  static std::optional<Capabilities> cached;
  std::lock_guard<std::mutex> lock(mutex);
  if (cached && !refresh) return *cached;
  Capabilities caps;
  caps.ffmpeg = av_version_info();
  PathCapabilities cpu;
  cpu.name = "cpu";
  cpu.available = true;
  cpu.decoders = cpuDecoders();
  cpu.scale = true;
  for (const char* name : {"libx264", "libx265"}) {
    std::string err;
    if (encoderWorks(name, nullptr, &err)) cpu.encoders.push_back(name);
    else cpu.notes.push_back(std::string("encode ") + name + ": " + err);
  }
  caps.paths.push_back(std::move(cpu));
  caps.paths.push_back(probeDevicePath(AV_HWDEVICE_TYPE_CUDA, {"h264_nvenc", "hevc_nvenc"}));
  caps.paths.push_back(probeDevicePath(AV_HWDEVICE_TYPE_VAAPI, {"h264_vaapi", "hevc_vaapi"}));
  cached = caps;
  return caps;
}

namespace {

struct NvdecSupport {
  AVCodecID codec;
  AVPixelFormat formats[8];  // ends at AV_PIX_FMT_NONE
  int maxWidth;
  int maxHeight;
};

// One row per codec: the software formats NVDEC outputs for and the largest coded size.
const NvdecSupport kNvdecSupport[] = {
    {AV_CODEC_ID_H264, {AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUVJ420P, AV_PIX_FMT_NONE}, 4096, 4096},
    {AV_CODEC_ID_HEVC,
     {AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUVJ420P, AV_PIX_FMT_YUV420P10, AV_PIX_FMT_YUV420P12, AV_PIX_FMT_YUV444P, AV_PIX_FMT_YUV444P10,
      AV_PIX_FMT_YUV444P12, AV_PIX_FMT_NONE},
     8192, 8192},
    {AV_CODEC_ID_MPEG2VIDEO, {AV_PIX_FMT_YUV420P, AV_PIX_FMT_NONE}, 4080, 4080},
    {AV_CODEC_ID_MPEG4, {AV_PIX_FMT_YUV420P, AV_PIX_FMT_NONE}, 2032, 2032},
    {AV_CODEC_ID_VP9, {AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUV420P10, AV_PIX_FMT_YUV420P12, AV_PIX_FMT_NONE}, 8192, 8192},
    {AV_CODEC_ID_AV1, {AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUV420P10, AV_PIX_FMT_NONE}, 8192, 8192},
};

}  // namespace

std::string nvdecRefusal(const HwSource& source) {
  const std::string codec = avcodec_get_name(source.codec);
  for (const NvdecSupport& row : kNvdecSupport) {
    if (row.codec != source.codec) continue;
    if (source.width > row.maxWidth || source.height > row.maxHeight)
      return "NVDEC decodes " + codec + " up to " + std::to_string(row.maxWidth) + "x" + std::to_string(row.maxHeight) + ", this stream is " +
             std::to_string(source.width) + "x" + std::to_string(source.height);
    if (source.pixelFormat < 0) return {};
    for (const AVPixelFormat* f = row.formats; *f != AV_PIX_FMT_NONE; ++f)
      if (*f == source.pixelFormat) return {};
    const char* name = av_get_pix_fmt_name(static_cast<AVPixelFormat>(source.pixelFormat));
    return "NVDEC does not decode " + codec + " in " + (name ? name : "this pixel format");
  }
  return "NVDEC does not decode " + codec;
}

namespace {

const char* cpuEncoderFor(VideoCodec c) { return c == VideoCodec::Hevc ? "libx265" : "libx264"; }

// NVDEC decode; NVENC when this GPU has it, else the CPU encoder (recorded as a fallback).
void planCuda(const IngestJob& job, const HwSource& source, HwPlan& plan) {
  HwDevice device = acquireDevice(AV_HWDEVICE_TYPE_CUDA, job.hwDevice);
  if (hwDecodeFormat(source.codec, AV_HWDEVICE_TYPE_CUDA) == AV_PIX_FMT_NONE)
    throw Error("ERR_HW_INIT", "hwaccel", std::string("NVDEC cannot decode ") + avcodec_get_name(source.codec) + " in this FFmpeg build");
  plan.used = "cuda";
  const std::string nvenc = job.codec == VideoCodec::Hevc ? "hevc_nvenc" : "h264_nvenc";
  std::string why;
  if (encoderWorks(nvenc, &device, &why)) {
    plan.encoder = nvenc;
    plan.encoderTakesDeviceFrames = true;
    plan.scaleOnDevice = true;
    plan.reason = "cuda: NVDEC decode, scale_cuda, " + nvenc + " encode";
  } else {
    plan.encoder = cpuEncoderFor(job.codec);
    plan.scaleOnDevice = source.height >= kAutoGpuMinHeight;
    plan.fallback = true;
    plan.reason = "cuda: NVDEC decode, " + planReasonForScale(plan.scaleOnDevice) + ", " + plan.encoder + " encode: this GPU has no usable NVENC (" + nvenc +
                  ": " + why + ")";
  }
  plan.device.emplace(std::move(device));
}

// VAAPI decode and scale; VAAPI encode when the driver has it, else the CPU encoder after a download.
void planVaapi(const IngestJob& job, const HwSource& source, HwPlan& plan) {
  HwDevice device = acquireDevice(AV_HWDEVICE_TYPE_VAAPI, job.hwDevice);
  if (hwDecodeFormat(source.codec, AV_HWDEVICE_TYPE_VAAPI) == AV_PIX_FMT_NONE)
    throw Error("ERR_HW_INIT", "hwaccel", std::string("VAAPI cannot decode ") + avcodec_get_name(source.codec) + " in this FFmpeg build");
  plan.used = "vaapi";
  plan.scaleOnDevice = true;
  const std::string enc = job.codec == VideoCodec::Hevc ? "hevc_vaapi" : "h264_vaapi";
  std::string why;
  if (encoderWorks(enc, &device, &why)) {
    plan.encoder = enc;
    plan.encoderTakesDeviceFrames = true;
    plan.reason = "vaapi: decode, scale_vaapi, " + enc + " encode";
  } else {
    plan.encoder = cpuEncoderFor(job.codec);
    plan.fallback = true;
    plan.reason = "vaapi: decode and scale_vaapi, " + plan.encoder + " encode: the VAAPI driver has no usable " + enc + " (" + why + ")";
  }
  plan.device.emplace(std::move(device));
}

}  // namespace

HwPlan planHardware(const IngestJob& job, const HwSource& source) {
  HwPlan plan;
  plan.requested = toString(job.hwaccel);
  plan.used = "cpu";
  plan.encoder = cpuEncoderFor(job.codec);
  switch (job.hwaccel) {
    case HwAccel::Cpu:
      plan.reason = "cpu requested";
      return plan;
    case HwAccel::Cuda:
      planCuda(job, source, plan);
      return plan;
    case HwAccel::Vaapi:
      planVaapi(job, source, plan);
      return plan;
    case HwAccel::Auto:
      break;
  }
  const std::string size = std::to_string(source.height) + "p";
  if (source.height < kAutoGpuMinHeight) {
    plan.reason = "auto: cpu for a " + size +
                  " source; below 2160p the CPU ladder measured faster than NVDEC + scale_cuda (0.69x at 1080p on an H200), so no GPU was tried";
    return plan;
  }
  if (const std::string why = nvdecRefusal(source); !why.empty()) {
    plan.reason = "auto: cpu for a " + size + " source: " + why + " (it would decode in software on one thread)";
    return plan;
  }
  try {
    HwPlan gpu;
    gpu.requested = plan.requested;
    planCuda(job, source, gpu);
    gpu.reason = "auto: cuda for a " + size + " source (the NVDEC + scale_cuda ladder measured 1.18x the CPU path at 2160p on an H200); " + gpu.reason;
    return gpu;
  } catch (const Error& e) {
    plan.fallback = true;
    plan.reason = "auto: cuda was tried for a " + size + " source and could not run (" + e.what() + "); cpu path used";
  }
  return plan;
}

}  // namespace fmv
