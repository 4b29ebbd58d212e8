#include "core/klv_framing.h"

#include <algorithm>
#include <cstring>

namespace fmv {
namespace {

constexpr uint8_t kKeyPrefix[4] = {0x06, 0x0E, 0x2B, 0x34};
constexpr size_t kKeySize = 16;
constexpr size_t kAuCellHeader = 5;
// No real KLV unit comes near this; a larger declared length is garbage that happens to follow a key prefix.
constexpr uint64_t kMaxUnitLength = 1 << 20;

bool keyPrefixAt(const std::vector<uint8_t>& b, size_t at) {
  return b.size() >= at + 4 && std::memcmp(b.data() + at, kKeyPrefix, 4) == 0;
}

size_t findKeyPrefix(const std::vector<uint8_t>& b, size_t from) {
  for (size_t i = from; i + 4 <= b.size(); ++i) {
    if (b[i] == 0x06 && b[i + 1] == 0x0E && b[i + 2] == 0x2B && b[i + 3] == 0x34) return i;
  }
  // Keep a possible partial prefix at the end for the next packet.
  return b.size() >= 3 ? b.size() - 3 : 0;
}

enum class Ber { Ok, NeedMore, Invalid };

Ber readBerLength(const std::vector<uint8_t>& b, size_t at, uint64_t& length, size_t& lengthBytes) {
  if (at >= b.size()) return Ber::NeedMore;
  const uint8_t first = b[at];
  if (first < 0x80) {
    length = first;
    lengthBytes = 1;
    return Ber::Ok;
  }
  const size_t n = first & 0x7f;
  if (n == 0 || n > 8) return Ber::Invalid;
  if (at + 1 + n > b.size()) return Ber::NeedMore;
  length = 0;
  for (size_t i = 0; i < n; ++i) length = (length << 8) | b[at + 1 + i];
  lengthBytes = 1 + n;
  return Ber::Ok;
}

}  // namespace

void KlvFramer::push(const KlvPacketInfo& info, const uint8_t* data, size_t size, std::vector<KlvUnit>& out) {
  if (buffer_.empty()) {
    current_ = info;
    starts_.clear();
  } else {
    starts_.emplace_back(buffer_.size(), info);
  }
  buffer_.insert(buffer_.end(), data, data + size);
  extract(out);
}

void KlvFramer::extract(std::vector<KlvUnit>& out) {
  size_t pos = 0;
  auto advanceTo = [&](size_t to) {
    pos = to;
    // The unit starting at pos takes the info of the last packet that began at or before it.
    while (!starts_.empty() && starts_.front().first <= pos) {
      current_ = starts_.front().second;
      starts_.pop_front();
    }
  };

  while (pos < buffer_.size()) {
    if (!keyPrefixAt(buffer_, pos)) {
      if (buffer_.size() - pos < 4) break;  // wait for the rest of a possible prefix
      // A sync stream's second and later AU cells keep their 5-byte header: skip it without calling it garbage.
      if (current_.sync && keyPrefixAt(buffer_, pos + kAuCellHeader)) {
        advanceTo(pos + kAuCellHeader);
        continue;
      }
      const size_t next = findKeyPrefix(buffer_, pos + 1);
      garbageBytes_ += next - pos;
      advanceTo(next);
      continue;
    }
    if (buffer_.size() - pos < kKeySize + 1) break;
    uint64_t length = 0;
    size_t lengthBytes = 0;
    const Ber ber = readBerLength(buffer_, pos + kKeySize, length, lengthBytes);
    if (ber == Ber::NeedMore) break;
    if (ber == Ber::Invalid || length > kMaxUnitLength) {
      ++garbageBytes_;
      advanceTo(pos + 1);
      continue;
    }
    const size_t total = kKeySize + lengthBytes + static_cast<size_t>(length);
    // A unit may continue into later packets, but a later packet that itself begins with a unit
    // means this length is damaged: count the unit as cut short and carry on from that packet,
    // rather than swallow what follows into one bogus unit.
    size_t overrun = 0;
    for (const auto& [start, info] : starts_) {
      if (start >= pos + total) break;  // starts_ is in buffer order
      if (start > pos && (keyPrefixAt(buffer_, start) || (info.sync && keyPrefixAt(buffer_, start + kAuCellHeader)))) {
        overrun = start;
        break;
      }
    }
    if (overrun != 0) {
      ++truncatedUnits_;
      advanceTo(overrun);
      continue;
    }
    if (buffer_.size() - pos < total) break;
    KlvUnit unit;
    unit.stream = current_.stream;
    unit.pid = current_.pid;
    unit.sync = current_.sync;
    unit.hasPts = current_.hasPts;
    unit.pts = current_.pts;
    unit.ptsInferred = current_.ptsInferred;
    unit.byteOffset = current_.byteOffset;
    unit.data.assign(buffer_.begin() + static_cast<std::ptrdiff_t>(pos), buffer_.begin() + static_cast<std::ptrdiff_t>(pos + total));
    out.push_back(std::move(unit));
    advanceTo(pos + total);
  }

  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(pos));
  for (auto& s : starts_) s.first -= pos;
}

void KlvFramer::flush(std::vector<KlvUnit>& out) {
  extract(out);
  if (!buffer_.empty()) {
    if (keyPrefixAt(buffer_, 0)) ++truncatedUnits_;
    else garbageBytes_ += buffer_.size();
  }
  buffer_.clear();
  starts_.clear();
}

}  // namespace fmv
