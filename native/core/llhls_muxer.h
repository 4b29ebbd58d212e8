// Low-latency HLS for one rendition (RFC 8216bis §4.4.4.9): FFmpeg 5.1's hls muxer writes no
// parts, so libavformat's mp4 muxer writes the fragments (frag_custom: one moof+mdat each time we
// flush) into memory and we cut them: a part every partTarget seconds, a segment (its parts
// joined) at the first keyframe past segmentSeconds, each written under its own name as soon as it
// is complete, listed in our LivePlaylist with a preload hint for the next part. The KLV units due
// before a part's end travel in it as 'emsg' boxes ahead of its moof, as in whole fMP4 segments.
#pragma once

#include <string>
#include <vector>

#include "core/av_holders.h"
#include "core/cancel.h"
#include "core/fmp4_boxes.h"
#include "core/live_playlist.h"
#include "core/rendition_output.h"

namespace fmv {

class LowLatencyMuxer : public RenditionOutput {
 public:
  // Files go to outDir/name/: name.m3u8, name_init.mp4, name_00000.m4s and its parts
  // name_00000.0.m4s, name_00000.1.m4s, …
  LowLatencyMuxer(const std::string& outDir, const std::string& name, const HlsSettings& settings, CancelToken& cancel);
  ~LowLatencyMuxer() override = default;
  LowLatencyMuxer(const LowLatencyMuxer&) = delete;
  LowLatencyMuxer& operator=(const LowLatencyMuxer&) = delete;

  void open(const AVCodecContext* video, const AVCodecParameters* audio, AVRational audioTimeBase, const std::vector<KlvOutput>& klv) override;
  bool isOpen() const override { return opened_; }
  void writeVideo(const AVPacket* packet, AVRational tb) override;
  void writeAudio(const AVPacket* packet, AVRational tb) override;
  void writeKlv(size_t klvIndex, const AVPacket* packet, AVRational tb) override;
  void finish() override;
  void markDiscontinuity() override { pendingDiscontinuity_ = true; }
  int64_t liveSegments() const override { return segmentsListed_; }
  const std::string& name() const override { return name_; }
  const AVCodecParameters* videoParameters() const override;
  const AVCodecParameters* audioParameters() const override;
  int64_t klvPackets() const override { return klvPackets_; }
  // What the mp4 muxer writes (through its AVIO callback).
  void appendWritten(const uint8_t* data, int size);

 private:
  void write(int streamIndex, const AVPacket* packet, AVRational tb);
  // Flushes the fragment written since the last cut and lists it as a part; nextPts90k is the time
  // of the packet that starts the next part (KLV before it goes in this one).
  void closePart(int64_t nextPts90k, bool lastOfSegment);
  void closeSegment(int64_t nextPts90k);
  void flushFragment();
  std::string segmentUri(int64_t index) const;
  std::string partUri(int64_t index, int part) const;
  std::string pathOf(const std::string& uri) const;

  std::string name_;
  std::string dir_;
  HlsSettings settings_;
  CancelToken& cancel_;
  std::vector<uint8_t> written_;  // what the mp4 muxer wrote since the last cut
  IoContextPtr io_;               // declared before ctx_: freed after it
  OutputContextPtr ctx_;
  PacketPtr packet_;
  std::unique_ptr<LivePlaylist> playlist_;
  int videoIndex_ = -1;
  int audioIndex_ = -1;
  int64_t lastDts_[2] = {AV_NOPTS_VALUE, AV_NOPTS_VALUE};  // per stream, in its time base
  bool fmp4Klv_ = false;
  double frameDuration_ = 1.0 / 30;

  KlvEmsgQueue pendingKlv_;
  int64_t videoPts90k_ = AV_NOPTS_VALUE;

  bool initWritten_ = false;
  bool segmentOpen_ = false;
  bool partOpen_ = false;
  int64_t segmentIndex_ = 0;
  int partIndex_ = 0;
  double segmentStart_ = 0;
  double partStart_ = 0;
  bool partIndependent_ = false;
  double mediaEnd_ = 0;
  std::vector<uint8_t> segmentBytes_;
  int64_t segmentArrivalMs_ = 0;
  bool segmentDiscontinuity_ = false;
  bool pendingDiscontinuity_ = false;

  int64_t segmentsListed_ = 0;
  int64_t klvPackets_ = 0;
  bool opened_ = false;
  bool finished_ = false;
};

}  // namespace fmv
