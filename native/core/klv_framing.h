// KLV framing: turns the payloads of KLV data packets (one AVPacket per PES) into whole KLV units.
// Handles several units per PES, units split across PES, the 5-byte metadata AU cell headers of
// sync (0x15) streams (libavformat strips only the first per PES), and re-syncs on the
// 06 0E 2B 34 key prefix after garbage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace fmv {

struct KlvUnit {
  int stream = -1;            // input stream index
  int pid = -1;               // MPEG-TS PID, -1 outside TS
  bool sync = false;          // carriage: true for 0x15 sync metadata, false for async
  bool hasPts = false;        // false when neither the packet nor a video frame gave a time
  double pts = 0;             // seconds on the input's own clock (packet PTS × time base)
  bool ptsInferred = false;   // the time was borrowed from the latest video frame
  int64_t byteOffset = -1;    // input byte position of the packet the unit started in, -1 unknown
  std::vector<uint8_t> data;  // the whole unit: 16-byte key + BER length + value
};

struct KlvPacketInfo {
  int stream = -1;
  int pid = -1;
  bool sync = false;
  bool hasPts = false;
  double pts = 0;
  bool ptsInferred = false;
  int64_t byteOffset = -1;
};

class KlvFramer {
 public:
  // Appends one packet's payload; complete units are appended to out.
  void push(const KlvPacketInfo& info, const uint8_t* data, size_t size, std::vector<KlvUnit>& out);
  // At end of stream: a trailing partial unit is dropped and counted.
  void flush(std::vector<KlvUnit>& out);

  uint64_t garbageBytes() const { return garbageBytes_; }
  uint64_t truncatedUnits() const { return truncatedUnits_; }

 private:
  void extract(std::vector<KlvUnit>& out);

  std::vector<uint8_t> buffer_;
  KlvPacketInfo current_;  // packet info of the unit that starts at buffer_[0]
  std::deque<std::pair<size_t, KlvPacketInfo>> starts_;  // buffer offsets where later packets begin
  uint64_t garbageBytes_ = 0;
  uint64_t truncatedUnits_ = 0;
};

}  // namespace fmv
