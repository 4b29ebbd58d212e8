#include "core/ingest_klv.h"

#include <cmath>
#include <cstring>

#include "core/error.h"

namespace fmv {

KlvPath::KlvPath(const AVFormatContext* fmt, const ProbeResult& source, IngestObserver* observer, int batchUnits, int batchMs)
    : observer_(observer),
      batchUnits_(static_cast<size_t>(std::max(1, batchUnits))),
      batchAge_(std::max(0, batchMs)),
      lastDelivery_(std::chrono::steady_clock::now()),
      packet_(makePacket()) {
  for (const KlvStreamInfo& k : source.klv) {
    Stream s;
    s.inputIndex = k.index;
    s.pid = k.pid;
    s.sync = k.carriage == "sync";
    s.timeBase = fmt->streams[k.index]->time_base;
    outputIndex_[k.index] = streams_.size();
    streams_.push_back(s);
    framers_[k.index];
  }
}

void KlvPath::push(const AVStream* stream, const AVPacket* packet, const VideoClock& clock, double fallbackSeconds, const UnitFn& onUnit) {
  const size_t out = outputIndex_.at(stream->index);
  KlvPacketInfo info = klvPacketInfo(stream, packet, streams_[out].sync, clock);
  if (!info.hasPts) {
    // Before the first video packet: the video start is the best time there is.
    info.hasPts = true;
    info.pts = fallbackSeconds;
    info.ptsInferred = true;
  }
  ++packets_;
  bytes_ += packet->size;
  std::vector<KlvUnit> framed;
  framers_[stream->index].push(info, packet->data, static_cast<size_t>(packet->size), framed);
  emit(framed, onUnit);
}

void KlvPath::emit(std::vector<KlvUnit>& framed, const UnitFn& onUnit) {
  for (KlvUnit& unit : framed) {
    const size_t out = outputIndex_.at(unit.stream);
    const AVRational tb = streams_[out].timeBase;
    int64_t ts = static_cast<int64_t>(std::llround(unit.pts / av_q2d(tb)));
    // The muxer needs non-decreasing times per stream; a unit stamped earlier than the previous
    // one (a late PTS after borrowed ones) goes out at the previous time.
    auto last = lastPts_.find(unit.stream);
    if (last != lastPts_.end() && ts < last->second) ts = last->second;
    lastPts_[unit.stream] = ts;

    checkAv(av_new_packet(packet_.get(), static_cast<int>(unit.data.size())), "ERR_NO_MEMORY", "klv", "cannot allocate a KLV packet");
    std::memcpy(packet_->data, unit.data.data(), unit.data.size());
    packet_->pts = ts;
    packet_->dts = ts;
    packet_->flags |= AV_PKT_FLAG_KEY;
    onUnit(out, packet_.get(), tb);
    av_packet_unref(packet_.get());

    ++units_;
    if (unit.ptsInferred) ++inferred_;
    if (observer_) batch_.push_back(std::move(unit));
  }
  deliver(false);
}

void KlvPath::finish(const UnitFn& onUnit) {
  for (auto& [index, framer] : framers_) {
    std::vector<KlvUnit> framed;
    framer.flush(framed);
    emit(framed, onUnit);
  }
  deliver(true);
}

void KlvPath::deliver(bool force) {
  if (!observer_ || batch_.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && batch_.size() < batchUnits_ && now - lastDelivery_ < batchAge_) return;
  lastDelivery_ = now;
  std::vector<KlvUnit> out;
  out.swap(batch_);
  observer_->onKlv(std::move(out));
}

int64_t KlvPath::garbageBytes() const {
  int64_t n = 0;
  for (const auto& [i, f] : framers_) n += static_cast<int64_t>(f.garbageBytes());
  return n;
}

int64_t KlvPath::truncatedUnits() const {
  int64_t n = 0;
  for (const auto& [i, f] : framers_) n += static_cast<int64_t>(f.truncatedUnits());
  return n;
}

}  // namespace fmv
