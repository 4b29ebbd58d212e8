#include "core/ingest_rung_encoder.h"

#include <cmath>

#include "core/error.h"

extern "C" {
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

namespace fmv {
namespace {

bool isNvenc(const std::string& e) { return e.find("_nvenc") != std::string::npos; }
bool isVaapi(const std::string& e) { return e.find("_vaapi") != std::string::npos; }

// Frames per segment; the GOP never spans a boundary because boundaries force an IDR.
int gopFrames(double segmentSeconds, AVRational frameRate) {
  const double fps = frameRate.num > 0 && frameRate.den > 0 ? av_q2d(frameRate) : 30.0;
  return std::max(1, static_cast<int>(std::ceil(segmentSeconds * fps - 1e-6)));
}

}  // namespace

int64_t SegmentClock::segmentOf(double seconds) const {
  // A small epsilon keeps a frame exactly on a boundary in the segment it starts.
  return base + static_cast<int64_t>(std::floor((seconds - origin) / length + 1e-6));
}

void SegmentClock::restartAt(double at, double previous) {
  const int64_t next = segmentOf(previous) + 1;
  origin = at;
  base = next;
}

const char* nvencPreset(const std::string& p) {
  if (p == "ultrafast") return "p1";
  if (p == "superfast") return "p2";
  if (p == "veryfast") return "p3";
  if (p == "faster" || p == "fast") return "p4";
  if (p == "medium") return "p5";
  if (p == "slow") return "p6";
  return "p7";
}

RungEncoder::RungEncoder(Rung rung, EncoderSettings settings, const SegmentClock& clock)
    : rung_(std::move(rung)), settings_(std::move(settings)), clock_(clock), scaled_(makeFrame()), packet_(makePacket()) {}

AVRational RungEncoder::timeBase() const { return enc_ ? enc_->time_base : AVRational{1, 90000}; }

std::string RungEncoder::describeFilter(const VideoFilterInput& in) const {
  const std::string w = std::to_string(rung_.width);
  const std::string h = std::to_string(rung_.height);
  const bool vaapiEncoder = isVaapi(settings_.encoder);
  std::string f;
  if (in.format == AV_PIX_FMT_CUDA) {
    f = "scale_cuda=w=" + w + ":h=" + h + ":format=yuv420p";
    if (!settings_.takesDeviceFrames) f += ",hwdownload,format=yuv420p";
  } else if (in.format == AV_PIX_FMT_VAAPI) {
    f = "scale_vaapi=w=" + w + ":h=" + h + ":format=nv12";
    if (!settings_.takesDeviceFrames) f += ",hwdownload,format=nv12,scale,format=yuv420p";
  } else if (vaapiEncoder && settings_.takesDeviceFrames) {
    f = "scale=w=" + w + ":h=" + h + ":flags=bicubic,format=nv12,hwupload";
  } else {
    // Any depth or chroma layout in, 8-bit 4:2:0 out: browsers do not play High 4:4:4 or 10-bit H.264.
    f = "scale=w=" + w + ":h=" + h + ":flags=bicubic,format=yuv420p";
  }
  return f + ",setsar=1";
}

void RungEncoder::encode(const AVFrame* frame, const VideoFilterInput& input, const OpenFn& onOpen, const PacketFn& onPacket, const FrameFn& tap) {
  if (!graph_ || !sameInput(graphInput_, input)) {
    // A new graph for a new input geometry; the old one is drained first so no frame is lost.
    if (graph_) {
      graph_->push(nullptr);
      drainGraph(onOpen, onPacket, tap);
    }
    graphInput_ = input;
    graphInput_.hwFrames = nullptr;  // borrowed from this frame; only the identity is compared later
    filter_ = describeFilter(input);
    graph_ = std::make_unique<FilterGraph>(FilterGraph::video(input, filter_, settings_.hwDevice, "encode"));
  }
  graph_->push(frame);
  drainGraph(onOpen, onPacket, tap);
}

void RungEncoder::finish(const OpenFn& onOpen, const PacketFn& onPacket, const FrameFn& tap) {
  if (graph_) {
    graph_->push(nullptr);
    drainGraph(onOpen, onPacket, tap);
  }
  if (enc_) send(nullptr, onPacket);
}

void RungEncoder::drainGraph(const OpenFn& onOpen, const PacketFn& onPacket, const FrameFn& tap) {
  while (graph_->pull(scaled_.get())) {
    if (!enc_) {
      open(scaled_.get());
      if (onOpen) onOpen(enc_.get());
    }
    if (tap) tap(scaled_.get());
    // The decoder's picture types must not reach the encoder; only segment boundaries force an IDR.
    scaled_->pict_type = AV_PICTURE_TYPE_NONE;
    if (scaled_->pts != AV_NOPTS_VALUE) {
      const int64_t segment = clock_.segmentOf(static_cast<double>(scaled_->pts) * av_q2d(enc_->time_base));
      if (segment > lastSegment_) {
        scaled_->pict_type = AV_PICTURE_TYPE_I;
        lastSegment_ = segment;
      }
      // Encoders need strictly increasing timestamps; a repeated one (damaged input) is dropped.
      if (lastPts_ != AV_NOPTS_VALUE && scaled_->pts <= lastPts_) {
        av_frame_unref(scaled_.get());
        continue;
      }
      lastPts_ = scaled_->pts;
    }
    send(scaled_.get(), onPacket);
    av_frame_unref(scaled_.get());
  }
}

void RungEncoder::open(const AVFrame* first) {
  const std::string& name = settings_.encoder;
  const AVCodec* codec = avcodec_find_encoder_by_name(name.c_str());
  if (!codec) throw Error("ERR_ENCODER_NOT_FOUND", "encode", "this FFmpeg was built without the " + name + " encoder");
  enc_ = makeCodecContext(codec, "encode", "the " + name + " encoder");
  AVCodecContext* c = enc_.get();
  c->width = graph_->outputWidth();
  c->height = graph_->outputHeight();
  c->pix_fmt = static_cast<AVPixelFormat>(graph_->outputFormat());
  if (AVBufferRef* frames = graph_->outputHwFrames()) {
    c->hw_frames_ctx = av_buffer_ref(frames);
    if (!c->hw_frames_ctx) throw Error("ERR_NO_MEMORY", "encode", "out of memory referencing device frames");
  }
  c->time_base = graph_->outputTimeBase();
  if (settings_.frameRate.num > 0) c->framerate = settings_.frameRate;
  c->sample_aspect_ratio = AVRational{1, 1};
  c->color_range = first->color_range;
  c->color_primaries = first->color_primaries;
  c->color_trc = first->color_trc;
  c->colorspace = first->colorspace;
  c->chroma_sample_location = first->chroma_location;
  c->bit_rate = rung_.videoBitrate;
  c->rc_max_rate = rung_.maxBitrate;
  c->rc_buffer_size = static_cast<int>(std::min<int64_t>(rung_.bufferSize, INT32_MAX));
  const int gop = gopFrames(clock_.length, settings_.frameRate);
  c->gop_size = gop;
  c->flags |= AV_CODEC_FLAG_CLOSED_GOP;
  if (settings_.globalHeader) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  if (settings_.codec == VideoCodec::Hevc && settings_.fmp4) c->codec_tag = MKTAG('h', 'v', 'c', '1');

  AVDictionary* opts = nullptr;
  const bool hevc = settings_.codec == VideoCodec::Hevc;
  if (name == "libx264") {
    av_dict_set(&opts, "preset", settings_.preset.c_str(), 0);
    av_dict_set(&opts, "profile", "high", 0);
    // Live: frames leave the encoder as they enter it (no lookahead, no B-frames, sliced threads).
    if (settings_.lowDelay) av_dict_set(&opts, "tune", "zerolatency", 0);
    av_dict_set(&opts, "forced-idr", "1", 0);
    // No scene-cut keyframes: IDRs fall on segment boundaries only, the same frames in every rung.
    av_dict_set(&opts, "x264-params", "scenecut=0:open_gop=0", 0);
  } else if (name == "libx265") {
    av_dict_set(&opts, "preset", settings_.preset.c_str(), 0);
    av_dict_set(&opts, "profile", "main", 0);
    if (settings_.lowDelay) av_dict_set(&opts, "tune", "zerolatency", 0);
    av_dict_set(&opts, "forced-idr", "1", 0);
    const std::string params = "scenecut=0:open-gop=0:keyint=" + std::to_string(gop) + ":min-keyint=" + std::to_string(gop) + ":log-level=error";
    av_dict_set(&opts, "x265-params", params.c_str(), 0);
  } else if (isNvenc(name)) {
    av_dict_set(&opts, "preset", nvencPreset(settings_.preset), 0);
    av_dict_set(&opts, "tune", settings_.lowDelay ? "ll" : "hq", 0);
    av_dict_set(&opts, "rc", "vbr", 0);
    av_dict_set(&opts, "profile", hevc ? "main" : "high", 0);
    av_dict_set(&opts, "forced-idr", "1", 0);
    av_dict_set(&opts, "no-scenecut", "1", 0);
    av_dict_set(&opts, "strict_gop", "1", 0);
    if (settings_.lowDelay) {
      av_dict_set(&opts, "zerolatency", "1", 0);
      av_dict_set(&opts, "delay", "0", 0);
    }
  } else if (isVaapi(name)) {
    av_dict_set(&opts, "rc_mode", "VBR", 0);
    av_dict_set(&opts, "profile", hevc ? "main" : "high", 0);
  }
  const int ret = avcodec_open2(c, codec, &opts);
  av_dict_free(&opts);
  checkAv(ret, "ERR_ENCODE", "encode", "cannot open the " + name + " encoder for " + rung_.name + " (" + std::to_string(c->width) + "x" + std::to_string(c->height) + ")");
}

void RungEncoder::send(AVFrame* frame, const PacketFn& onPacket) {
  int ret = avcodec_send_frame(enc_.get(), frame);
  if (ret == AVERROR_EOF) return;
  checkAv(ret, "ERR_ENCODE", "encode", settings_.encoder + " refused a frame for " + rung_.name);
  if (frame) ++frames_;
  for (;;) {
    ret = avcodec_receive_packet(enc_.get(), packet_.get());
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return;
    checkAv(ret, "ERR_ENCODE", "encode", settings_.encoder + " failed for " + rung_.name);
    onPacket(packet_.get());
    av_packet_unref(packet_.get());
  }
}

}  // namespace fmv
