// The audio of an ingest: AAC is copied untouched; anything else is decoded and encoded to AAC
// once, and the same packets go to every rendition.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/av_holders.h"
#include "core/ingest_filters.h"

extern "C" {
#include <libavcodec/bsf.h>
}

namespace fmv {

class AudioPath {
 public:
  using PacketFn = std::function<void(AVPacket*)>;

  // Throws ERR_DECODER_NOT_FOUND / ERR_DECODE / ERR_ENCODE (step "audio") when a transcode cannot be set up.
  // rawAac: the output container wants raw AAC with an AudioSpecificConfig (fMP4), so copied ADTS
  // frames lose their headers on the way.
  AudioPath(const AVStream* stream, int64_t bitrate, bool globalHeader, bool rawAac);
  AudioPath(const AudioPath&) = delete;
  AudioPath& operator=(const AudioPath&) = delete;

  bool copies() const { return !decoder_; }
  int streamIndex() const { return streamIndex_; }
  // Codec parameters and time base of the packets handed out (for the muxers' audio stream).
  const AVCodecParameters* parameters() const { return params_.get(); }
  AVRational timeBase() const { return timeBase_; }
  int64_t bitrate() const;
  // "copy aac" | "mp2 → aac 128 kb/s"
  std::string description() const;

  // One input packet (nullptr at the end): packets for the muxers go to onPacket.
  void push(const AVPacket* packet, const PacketFn& onPacket);

  int64_t decodeErrors() const { return decodeErrors_; }

 private:
  struct ParamsFree {
    void operator()(AVCodecParameters* p) const { avcodec_parameters_free(&p); }
  };
  struct BsfFree {
    void operator()(AVBSFContext* b) const { av_bsf_free(&b); }
  };

  void setUpAdtsToAsc();
  void copy(const AVPacket* packet, const PacketFn& onPacket);

  void filterAndEncode(const AVFrame* frame, const PacketFn& onPacket);
  void encode(AVFrame* frame, const PacketFn& onPacket);

  int streamIndex_ = -1;
  AVRational inputTimeBase_{1, 90000};
  AVRational timeBase_{1, 90000};
  std::unique_ptr<AVCodecParameters, ParamsFree> params_;
  std::unique_ptr<AVBSFContext, BsfFree> adtsToAsc_;
  CodecContextPtr decoder_;
  CodecContextPtr encoder_;
  std::unique_ptr<FilterGraph> graph_;
  FramePtr decoded_;
  FramePtr filtered_;
  PacketPtr packet_;
  int64_t decodeErrors_ = 0;
  int64_t lastDts_ = AV_NOPTS_VALUE;
};

}  // namespace fmv
