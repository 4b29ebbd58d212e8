// One HLS muxer per rendition (FFmpeg 5.1's hls muxer refuses data streams in var_stream_map):
// MPEG-TS segments that keep every KLV PID (stream_type 0x06 + KLVA registration, PES with PTS),
// or fMP4 segments whose KLV travels as DASH 'emsg' boxes (scheme urn:misb:KLV:bin:1910.1) before
// each segment's first 'moof' (the mp4 muxer refuses KLV data streams). VOD or sliding-window
// media playlists.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/av_holders.h"
#include "core/cancel.h"
#include "core/error.h"
#include "core/fmp4_boxes.h"
#include "core/ingest_options.h"
#include "core/live_playlist.h"
#include "core/rendition_output.h"

namespace fmv {

class RenditionMuxer : public RenditionOutput {
 public:
  // Files go to outDir/name/: name.m3u8 and name_00000.ts (or .m4s + name_init.mp4).
  RenditionMuxer(const std::string& outDir, const std::string& name, const HlsSettings& settings, CancelToken& cancel);
  ~RenditionMuxer() override;
  RenditionMuxer(const RenditionMuxer&) = delete;
  RenditionMuxer& operator=(const RenditionMuxer&) = delete;

  // Adds the streams and writes the header. audio may be null.
  void open(const AVCodecContext* video, const AVCodecParameters* audio, AVRational audioTimeBase, const std::vector<KlvOutput>& klv) override;
  bool isOpen() const override { return opened_; }

  // The packet is referenced, not taken; tb is the time base of its timestamps.
  void writeVideo(const AVPacket* packet, AVRational tb) override;
  void writeAudio(const AVPacket* packet, AVRational tb) override;
  void writeKlv(size_t klvIndex, const AVPacket* packet, AVRational tb) override;
  // Flushes the interleaving queue and writes the trailer (final segment and playlist).
  void finish() override;
  // Live: the next segment follows a break in the input (EXT-X-DISCONTINUITY before it).
  void markDiscontinuity() override { pendingDiscontinuity_ = true; }
  // Live: segments listed so far (finished).
  int64_t liveSegments() const override { return liveSegments_; }

  const std::string& name() const override { return name_; }
  const AVCodecParameters* videoParameters() const override;
  const AVCodecParameters* audioParameters() const override;
  int64_t klvPackets() const override { return klvPackets_; }

 private:
  static int ioOpen(AVFormatContext* s, AVIOContext** pb, const char* url, int flags, AVDictionary** options);
  static int ioClose(AVFormatContext* s, AVIOContext* pb);
  // fMP4: a segment is gathered in memory and written at close, with the emsg boxes of the KLV
  // units due before the packet that started the next segment.
  int closeSegment(AVIOContext* pb, const std::string& url);
  // Live: the muxer's own playlist, captured in memory, tells which segment it finished.
  int closeMuxerPlaylist(AVIOContext* pb);
  void write(int streamIndex, const AVPacket* packet, AVRational tb);
  void throwIfLiveFailed();

  std::string outDir_;
  std::string name_;
  std::string dir_;
  HlsSettings settings_;
  CancelToken& cancel_;
  OutputContextPtr ctx_;
  PacketPtr packet_;
  int videoIndex_ = -1;
  int audioIndex_ = -1;
  std::vector<int> klvIndexes_;
  std::set<AVIOContext*> openFiles_;
  std::map<AVIOContext*, std::string> segmentBuffers_;
  std::set<AVIOContext*> playlistBuffers_;
  std::string playlistPath_;
  std::unique_ptr<LivePlaylist> live_;
  LiveSegmenter segmenter_;
  std::optional<Error> liveError_;  // raised inside an FFmpeg callback, thrown after it returns
  bool pendingDiscontinuity_ = false;
  int64_t liveSegments_ = 0;
  KlvEmsgQueue pendingKlv_;
  int64_t videoPts90k_ = AV_NOPTS_VALUE;  // latest video packet handed to the muxer
  bool fmp4Klv_ = false;
  bool finishing_ = false;
  bool opened_ = false;
  bool finished_ = false;
  int64_t klvPackets_ = 0;
};

}  // namespace fmv
