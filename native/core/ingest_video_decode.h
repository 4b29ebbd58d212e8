// Video decoding for the ingest pass: software, or on a CUDA/VAAPI device. Decode errors are
// counted, not thrown: a damaged input yields what decodes.
#pragma once

#include <functional>
#include <string>

#include "core/av_holders.h"
#include "core/ingest_hw.h"
#include "core/ingest_log.h"

namespace fmv {

class VideoDecoder {
 public:
  using FrameFn = std::function<void(AVFrame*)>;

  // device: decode on it (nullptr: software). Throws ERR_DECODER_NOT_FOUND / ERR_DECODE (step
  // "decode") when the decoder cannot be opened, ERR_HW_INIT when the device decoder cannot.
  // lowDelay (live): frames leave the decoder as soon as they can.
  VideoDecoder(const AVStream* stream, const HwDevice* device, bool lowDelay = false);
  VideoDecoder(const VideoDecoder&) = delete;
  VideoDecoder& operator=(const VideoDecoder&) = delete;

  // Sends one packet (nullptr drains at the end) and hands each decoded frame, pts set from the
  // best-effort timestamp, to onFrame. The frame is unreferenced afterwards.
  void decode(const AVPacket* packet, const FrameFn& onFrame);

  int64_t errors() const { return errors_; }
  int64_t damagedFrames() const { return damagedFrames_; }
  const std::string& lastError() const { return lastError_; }
  // "h264 (nvdec)", "h264 (vaapi)", "h264"
  std::string description() const;
  // False when the device decoder refused the stream and FFmpeg decodes in software instead.
  bool onDevice() const { return device_ != nullptr && !fellBack_; }
  bool fellBack() const { return fellBack_; }
  const std::string& fallbackReason() const { return fallbackReason_; }
  AVRational timeBase() const { return timeBase_; }

 private:
  static AVPixelFormat chooseFormat(AVCodecContext* ctx, const AVPixelFormat* formats);
  void countError(int ret);

  // opaque is this decoder (chooseFormat finds it there); the claim routes the lines of the
  // decoder's frame threads, which share that opaque pointer.
  LogClaim logClaim_{this};
  CodecContextPtr ctx_;
  FramePtr frame_;
  const HwDevice* device_ = nullptr;
  AVPixelFormat hwFormat_ = AV_PIX_FMT_NONE;
  bool fellBack_ = false;
  std::string fallbackReason_;
  AVRational timeBase_{1, 90000};
  int64_t errors_ = 0;
  int64_t damagedFrames_ = 0;
  std::string lastError_;
};

}  // namespace fmv
