// KLV extraction from an input in one demux pass: every KLV unit of every KLV data stream, with
// stream index, PID, carriage, time and byte offset. Also reads raw KLV byte streams (.klv/.bin).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/cancel.h"
#include "core/input.h"
#include "core/klv_framing.h"

namespace fmv {

struct KlvScanOptions {
  InputOptions input;
  // Units handed over per batch (at most); a batch is also flushed when the input ends.
  size_t batchSize = 1024;
  // Treat the input as a raw KLV byte stream; otherwise decided from the extension (.klv/.bin)
  // or from the bytes when libavformat does not recognise the input.
  bool raw = false;
};

struct KlvScanStats {
  uint64_t units = 0;
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t garbageBytes = 0;
  uint64_t truncatedUnits = 0;
  uint64_t inferredPts = 0;
  bool rawInput = false;
  int klvStreams = 0;
  bool damagedTail = false;  // the demuxer stopped on an error before the end
  std::string damagedTailText;
};

using KlvBatchHandler = std::function<void(std::vector<KlvUnit>&& batch)>;

// Runs the scan, calling onBatch from the calling thread. Throws fmv::Error (step "klv").
KlvScanStats scanKlv(const std::string& url, const KlvScanOptions& options, CancelToken& cancel, const KlvBatchHandler& onBatch);

// Tracks the time to borrow for KLV packets without PTS: the latest video frame time.
class VideoClock {
 public:
  void observe(double seconds) { latest_ = seconds; known_ = true; }
  bool known() const { return known_; }
  double latest() const { return latest_; }

 private:
  double latest_ = 0;
  bool known_ = false;
};

// Fills packet info for a KLV packet, inferring its time from the video clock when it has none.
KlvPacketInfo klvPacketInfo(const AVStream* stream, const AVPacket* packet, bool sync, const VideoClock& clock);

}  // namespace fmv
