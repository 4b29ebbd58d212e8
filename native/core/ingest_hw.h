// Hardware paths: one device context per process and device kept warm across jobs, what this
// machine can really do (each path opened, not assumed), and the plan of one job (which path runs
// and why). Nothing falls back silently: every choice carries its reason.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/av_holders.h"
#include "core/ingest_options.h"

extern "C" {
#include <libavutil/hwcontext.h>
}

namespace fmv {

struct HwDevice {
  AVHWDeviceType type = AV_HWDEVICE_TYPE_NONE;
  std::string name;    // cuda | vaapi
  std::string device;  // as opened: "0", "/dev/dri/renderD128"
  BufferRefPtr ctx;    // our reference to the cached device context
};

// Opens (once per process) or reuses the device; device "" means CUDA device 0, or for VAAPI the
// first /dev/dri render node that opens. Throws Error(ERR_HW_INIT, "hwaccel") with FFmpeg's
// explanation when it cannot be opened.
HwDevice acquireDevice(AVHWDeviceType type, const std::string& device);
const char* defaultDeviceName(AVHWDeviceType type);

// The pixel format a decoder produces on this device type, or AV_PIX_FMT_NONE when the FFmpeg
// decoder for codecId has no such hardware configuration.
AVPixelFormat hwDecodeFormat(AVCodecID codecId, AVHWDeviceType type);

struct PathCapabilities {
  std::string name;        // cpu | cuda | vaapi
  bool available = false;  // the device opened (always true for cpu)
  std::string device;
  std::string reason;      // why unavailable, or what is missing
  std::vector<std::string> decoders;  // codecs that really decoded a test frame on this path
  bool scale = false;                  // the path's scaler ran on a test frame
  std::vector<std::string> encoders;  // encoders that opened
  std::vector<std::string> notes;
};

struct Capabilities {
  std::string ffmpeg;  // av_version_info()
  std::vector<PathCapabilities> paths;  // cpu, cuda, vaapi
};

// Probed once per process (each path opened and exercised on a small frame); refresh re-probes.
Capabilities capabilities(bool refresh = false);

// Opens an encoder once per process to learn whether this machine can run it (NVENC is absent on
// H100/H200/A100 although the driver and FFmpeg support it). error receives FFmpeg's reason.
bool encoderWorks(const std::string& encoderName, const HwDevice* device, std::string* error);

struct HwPlan {
  std::string requested;  // auto | cpu | cuda | vaapi
  std::string used;       // cpu | cuda | vaapi
  std::string reason;
  bool fallback = false;
  std::optional<HwDevice> device;  // decode (and maybe scale/encode) device
  bool scaleOnDevice = false;
  std::string encoder;            // libx264 | libx265 | h264_nvenc | hevc_vaapi | ...
  bool encoderTakesDeviceFrames = false;
};

struct HwSource {
  AVCodecID codec = AV_CODEC_ID_NONE;
  int width = 0;
  int height = 0;
  int pixelFormat = -1;  // AVPixelFormat of the coded stream; -1 when the demuxer did not say
};

// Why NVDEC would refuse this stream ("" when it takes it): codecs, chroma layouts, bit depths and
// sizes from NVIDIA's decoder support matrix (Turing and later). A refused stream would decode in
// software on one thread, since the device decoder is opened without frame threads.
std::string nvdecRefusal(const HwSource& source);

// Chooses the path of one job. Explicit cuda/vaapi that cannot run throws ERR_HW_INIT; auto
// chooses from measurements (below 2160p the CPU path was faster) and the stream (nvdecRefusal),
// and records why.
HwPlan planHardware(const IngestJob& job, const HwSource& source);

// Source height from which 'auto' tries CUDA: on the H200 the NVDEC + scale_cuda ladder won only at
// 2160p (1.18× the CPU path) and lost at 1080p (0.69×).
constexpr int kAutoGpuMinHeight = 2160;

}  // namespace fmv
