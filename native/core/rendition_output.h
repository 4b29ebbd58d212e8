// What the pipeline hands each rendition of the ladder, whichever way its files are written:
// FFmpeg's hls muxer (TS or fMP4 segments, VOD or live playlists) or, for low-latency live, our
// own fMP4 parts and LL-HLS playlists.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/av_holders.h"
#include "core/ingest_options.h"
#include "core/live_playlist.h"

namespace fmv {

struct HlsSettings {
  double segmentSeconds = 4;
  SegmentFormat format = SegmentFormat::Ts;
  // Live: our own media playlists (window or DVR, PROGRAM-DATE-TIME from arrivalMs,
  // discontinuities), rewritten as each segment is finished. Otherwise VOD, written by the muxer.
  bool live = false;
  LivePlaylistSettings playlist;
  // Wall clock (ms since 1970) at which the input frame of this time (seconds) arrived.
  std::function<int64_t(double)> arrivalMs;
};

struct KlvOutput {
  int inputIndex = -1;
  int pid = -1;  // source PID (output PIDs are numbered from 0x100: video, audio, then KLV)
};

// The video stream (and the audio stream, when there is one) of a rendition's muxer, as every
// rendition writes them; indexes of the streams added (audio -1 without).
struct LadderStreams {
  int video = -1;
  int audio = -1;
};
LadderStreams addLadderStreams(AVFormatContext* ctx, const AVCodecContext* video, const AVCodecParameters* audio, AVRational audioTimeBase, const std::string& name);

class RenditionOutput {
 public:
  virtual ~RenditionOutput() = default;

  // Adds the streams and writes the header. audio may be null.
  virtual void open(const AVCodecContext* video, const AVCodecParameters* audio, AVRational audioTimeBase, const std::vector<KlvOutput>& klv) = 0;
  virtual bool isOpen() const = 0;

  // The packet is referenced, not taken; tb is the time base of its timestamps.
  virtual void writeVideo(const AVPacket* packet, AVRational tb) = 0;
  virtual void writeAudio(const AVPacket* packet, AVRational tb) = 0;
  virtual void writeKlv(size_t klvIndex, const AVPacket* packet, AVRational tb) = 0;
  // Writes what is pending (final segment) and ends the playlist.
  virtual void finish() = 0;
  // Live: the next segment follows a break in the input (EXT-X-DISCONTINUITY before it).
  virtual void markDiscontinuity() = 0;
  // Live: segments listed so far (finished).
  virtual int64_t liveSegments() const = 0;

  virtual const std::string& name() const = 0;
  std::string playlistRelative() const { return name() + "/" + name() + ".m3u8"; }
  virtual const AVCodecParameters* videoParameters() const = 0;
  virtual const AVCodecParameters* audioParameters() const = 0;
  virtual int64_t klvPackets() const = 0;
};

}  // namespace fmv
