#include "core/fmp4_boxes.h"

#include <cstring>

extern "C" {
#include <libavutil/avutil.h>
#include <libavutil/mathematics.h>
}

namespace fmv {
namespace {

constexpr char kKlvScheme[] = "urn:misb:KLV:bin:1910.1";

void put32(std::vector<uint8_t>& b, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<uint8_t>(v >> shift));
}

void put64(std::vector<uint8_t>& b, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) b.push_back(static_cast<uint8_t>(v >> shift));
}

}  // namespace

void appendKlvEmsg(std::vector<uint8_t>& out, uint32_t id, int64_t pts90k, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> box;
  put32(box, 0);  // size, set below
  box.insert(box.end(), {'e', 'm', 's', 'g', 1, 0, 0, 0});
  put32(box, 90000);
  put64(box, static_cast<uint64_t>(pts90k < 0 ? 0 : pts90k));
  put32(box, 0);  // event_duration
  put32(box, id);
  box.insert(box.end(), kKlvScheme, kKlvScheme + sizeof kKlvScheme);  // with its NUL
  box.push_back(0);  // value: ""
  box.insert(box.end(), data.begin(), data.end());
  const uint32_t size = static_cast<uint32_t>(box.size());
  for (int i = 0; i < 4; ++i) box[i] = static_cast<uint8_t>(size >> (24 - 8 * i));
  out.insert(out.end(), box.begin(), box.end());
}

size_t firstMoof(const uint8_t* data, size_t size) {
  size_t at = 0;
  while (at + 8 <= size) {
    uint64_t boxSize = (uint64_t(data[at]) << 24) | (uint64_t(data[at + 1]) << 16) | (uint64_t(data[at + 2]) << 8) | data[at + 3];
    if (std::memcmp(data + at + 4, "moof", 4) == 0) return at;
    if (boxSize == 1 && at + 16 <= size) {
      boxSize = 0;
      for (int i = 0; i < 8; ++i) boxSize = (boxSize << 8) | data[at + 8 + i];
    }
    if (boxSize < 8) break;
    at += boxSize;
  }
  return 0;
}

void shiftSidxOffsets(uint8_t* data, size_t moof, uint64_t delta) {
  size_t at = 0;
  while (at + 8 <= moof) {
    const uint64_t boxSize = (uint64_t(data[at]) << 24) | (uint64_t(data[at + 1]) << 16) | (uint64_t(data[at + 2]) << 8) | data[at + 3];
    if (boxSize < 8 || at + boxSize > moof) break;
    if (std::memcmp(data + at + 4, "sidx", 4) == 0 && boxSize >= 32) {
      const bool v1 = data[at + 8] == 1;
      // size, type, version+flags, reference_ID, timescale, earliest_presentation_time, first_offset
      const size_t field = at + 20 + (v1 ? 8 : 4);
      const size_t width = v1 ? 8 : 4;
      if (field + width <= at + boxSize) {
        uint64_t v = 0;
        for (size_t i = 0; i < width; ++i) v = (v << 8) | data[field + i];
        v += delta;
        for (size_t i = 0; i < width; ++i) data[field + width - 1 - i] = static_cast<uint8_t>(v >> (8 * i));
      }
    }
    at += boxSize;
  }
}

void KlvEmsgQueue::push(const AVPacket* packet, AVRational tb, int64_t fallbackPts90k) {
  const int64_t pts = packet->pts != AV_NOPTS_VALUE ? av_rescale_q(packet->pts, tb, AVRational{1, 90000}) : fallbackPts90k;
  units_.push_back(Unit{pts == AV_NOPTS_VALUE ? 0 : pts, std::vector<uint8_t>(packet->data, packet->data + packet->size)});
}

int64_t KlvEmsgQueue::takeBefore(int64_t beforePts90k, std::vector<uint8_t>& out) {
  int64_t taken = 0;
  while (!units_.empty() && (beforePts90k == AV_NOPTS_VALUE || units_.front().pts90k < beforePts90k)) {
    appendKlvEmsg(out, nextId_++, units_.front().pts90k, units_.front().data);
    units_.pop_front();
    ++taken;
  }
  return taken;
}

}  // namespace fmv
