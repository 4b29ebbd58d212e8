// ABR files written by us: measured per-rendition statistics from the media playlists, RFC 6381
// CODECS strings, the master playlist ABR.m3u8 and the ABR info JSON.
#pragma once

#include <string>
#include <vector>

#include "core/ingest_result.h"

extern "C" {
#include <libavcodec/codec_par.h>
}

namespace fmv {

struct MediaPlaylistStats {
  int segments = 0;
  double duration = 0;
  int64_t bytes = 0;          // segments plus the init segment
  // RFC 8216 §4.3.4.2: the largest bit rate of any run of consecutive segments lasting 0.5 to 1.5
  // target durations (the whole-playlist rate when no run is that long).
  int64_t peakBitrate = 0;
  int64_t averageBitrate = 0; // all segment bytes × 8 / duration
  int declaredTargetDuration = 0;  // #EXT-X-TARGETDURATION as written
  int targetDuration = 0;          // what RFC 8216 §4.3.3.1 needs: every EXTINF rounded half up
  std::vector<std::string> files;  // segment (and init) file names, relative to the playlist
};

// Reads a media playlist written by the hls muxer and sizes its segments on disk.
MediaPlaylistStats readMediaPlaylist(const std::string& playlistPath);

// Rewrites #EXT-X-TARGETDURATION of a finished (VOD) media playlist to `seconds`. FFmpeg rounds
// the longest segment with lrint, which takes 2.5 s to 2; the RFC needs 3.
void rewriteTargetDuration(const std::string& playlistPath, int seconds);

// "avc1.640028", "hvc1.1.6.L93.B0"; from the encoder's parameter sets when present.
std::string videoCodecString(const AVCodecParameters* par);
// "mp4a.40.2" (AAC LC), "mp4a.40.5" (HE-AAC), ...
std::string audioCodecString(const AVCodecParameters* par);

// ABR.m3u8: one EXT-X-STREAM-INF per rendition (highest first) with BANDWIDTH, AVERAGE-BANDWIDTH,
// RESOLUTION, CODECS and FRAME-RATE. Written to a temporary name and renamed.
void writeMasterPlaylist(const std::string& path, const std::vector<RenditionResult>& renditions, bool fmp4);

class JsonWriter;

// One rendition and the hardware path as JSON objects: the shapes of abr.json, which the fmv-core
// command prints too.
void writeRenditionJson(JsonWriter& j, const RenditionResult& r);
void writeHardwareJson(JsonWriter& j, const HardwareResult& h);

struct AbrInfo {
  std::string master;
  double segmentSeconds = 4;
  std::string segmentFormat;  // ts | fmp4
  std::string codec;          // h264 | hevc
  std::string audio;
  KlvCarriage klv;
  double duration = 0;
  const ProbeResult* source = nullptr;
  const HardwareResult* hardware = nullptr;
  const std::vector<RenditionResult>* renditions = nullptr;
};

void writeAbrInfo(const std::string& path, const AbrInfo& info);

// Writes text to path through a temporary file and a rename; throws ERR_OUTPUT (step).
void writeFileAtomically(const std::string& path, const std::string& text, const char* step);

}  // namespace fmv
