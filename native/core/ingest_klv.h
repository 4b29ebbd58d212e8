// The KLV of an ingest: every KLV data stream is framed into whole units (AU cells stripped,
// split units joined), each unit becomes one packet muxed unchanged into every rendition with its
// PTS (units without one borrow the latest video PTS, since players drop KLV PES without PTS),
// and the units are handed to the observer in batches for decoding.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <vector>

#include "core/av_holders.h"
#include "core/ingest_result.h"
#include "core/klv_framing.h"
#include "core/klv_scan.h"

namespace fmv {

class KlvPath {
 public:
  struct Stream {
    int inputIndex = -1;
    int pid = -1;
    bool sync = false;
    AVRational timeBase{1, 90000};
  };
  // (output KLV index, packet with pts/dts in tb, tb)
  using UnitFn = std::function<void(size_t, const AVPacket*, AVRational)>;

  // observer null: units are muxed but not handed out.
  KlvPath(const AVFormatContext* fmt, const ProbeResult& source, IngestObserver* observer, int batchUnits, int batchMs);
  KlvPath(const KlvPath&) = delete;
  KlvPath& operator=(const KlvPath&) = delete;

  const std::vector<Stream>& streams() const { return streams_; }
  bool handles(int inputIndex) const { return outputIndex_.count(inputIndex) != 0; }

  // fallbackSeconds: the time used before any video packet was seen (the video start).
  void push(const AVStream* stream, const AVPacket* packet, const VideoClock& clock, double fallbackSeconds, const UnitFn& onUnit);
  // End of input: a trailing partial unit is dropped (counted); the last batch is delivered.
  void finish(const UnitFn& onUnit);
  // Hands the pending batch to the observer when it is full or old enough (or always with force).
  void deliver(bool force);

  int64_t packets() const { return packets_; }
  int64_t units() const { return units_; }
  int64_t bytes() const { return bytes_; }
  int64_t inferred() const { return inferred_; }
  int64_t garbageBytes() const;
  int64_t truncatedUnits() const;

 private:
  void emit(std::vector<KlvUnit>& framed, const UnitFn& onUnit);

  std::vector<Stream> streams_;
  std::map<int, size_t> outputIndex_;  // input stream index → output KLV index
  std::map<int, KlvFramer> framers_;
  std::map<int, int64_t> lastPts_;
  IngestObserver* observer_;
  size_t batchUnits_;
  std::chrono::milliseconds batchAge_;
  std::chrono::steady_clock::time_point lastDelivery_;
  std::vector<KlvUnit> batch_;
  PacketPtr packet_;
  int64_t packets_ = 0;
  int64_t units_ = 0;
  int64_t bytes_ = 0;
  int64_t inferred_ = 0;
};

}  // namespace fmv
