// probe: what an input holds (container, video, audio, KLV streams and their carriage).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/cancel.h"
#include "core/input.h"

namespace fmv {

struct Rational {
  int num = 0;
  int den = 1;
  double value() const { return den ? static_cast<double>(num) / den : 0.0; }
};

struct VideoStreamInfo {
  int index = -1;
  int pid = -1;  // MPEG-TS PID (AVStream.id), -1 outside TS
  std::string codec;
  std::string codecLongName;
  std::string profile;  // "" when unknown
  int level = -1;
  int width = 0;
  int height = 0;
  std::string pixelFormat;
  Rational frameRate;         // average frame rate
  Rational realFrameRate;     // r_frame_rate
  Rational sampleAspectRatio;
  Rational displayAspectRatio;
  std::string fieldOrder;  // progressive | tt | bb | tb | bt | unknown
  int64_t bitRate = 0;
  double duration = -1;    // seconds, -1 when unknown
  double startTime = 0;
  int64_t frames = 0;      // from the container, 0 when unknown
  Rational timeBase;
};

struct AudioStreamInfo {
  int index = -1;
  int pid = -1;
  std::string codec;
  std::string profile;
  int channels = 0;
  std::string channelLayout;
  int sampleRate = 0;
  std::string sampleFormat;
  int64_t bitRate = 0;
  std::string language;
};

struct KlvStreamInfo {
  int index = -1;
  int pid = -1;
  // From the PMT: 0x15 → "sync", 0x06 with a KLVA registration → "async"; "unknown" outside TS.
  std::string carriage = "unknown";
  int streamType = -1;           // PMT stream_type, -1 outside TS
  std::string registration;      // registration descriptor format identifier ("KLVA")
  int pesStreamId = -1;          // from the first packet; -1 when no packet was seen
  std::string pts = "unknown";   // present | absent | mixed | unknown (no packet within the probe limit)
  int packets = 0;               // packets seen within the probe limit
  int64_t bytes = 0;
  bool hybrid = false;           // 0x06 private data with PES stream id 0xFC (older FFmpeg muxers)
};

struct ProbeResult {
  std::string url;
  std::string format;          // short name, e.g. "mpegts"
  std::string formatLongName;
  double duration = -1;        // seconds, -1 when unknown
  double startTime = 0;
  int64_t bitRate = 0;
  int64_t size = -1;
  std::optional<VideoStreamInfo> video;
  std::vector<VideoStreamInfo> otherVideo;
  std::vector<AudioStreamInfo> audio;
  std::vector<KlvStreamInfo> klv;
  bool isTransportStream = false;
};

struct ProbeOptions {
  InputOptions input;
  // How far to read packets looking for KLV (bytes of input); the probe stops earlier once every
  // KLV stream has sent a few packets.
  int64_t klvScanBytes = 8 * 1024 * 1024;
  bool requireVideo = true;
};

// Fills the KLV stream entries of result from the input (program tables + packets read so far).
KlvStreamInfo describeKlvStream(const MediaInput& input, const AVStream* stream);
VideoStreamInfo describeVideoStream(const AVStream* stream, bool transportStream);
AudioStreamInfo describeAudioStream(const AVStream* stream, bool transportStream);
bool isKlvStream(const AVStream* stream);

ProbeResult probe(const std::string& url, const ProbeOptions& options, CancelToken& cancel);
// Describes an input that is already open (used by the ingest pipeline too); reads no packets.
ProbeResult describeInput(const MediaInput& input);

}  // namespace fmv
