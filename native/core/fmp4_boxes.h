// The few ISO BMFF boxes we write or look for ourselves around what libavformat writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

extern "C" {
#include <libavcodec/packet.h>
#include <libavutil/avutil.h>
}

namespace fmv {

// ISO/IEC 23009-1 DASHEventMessageBox, version 1 (absolute presentation time, 90 kHz), carrying
// one KLV unit under the scheme urn:misb:KLV:bin:1910.1.
void appendKlvEmsg(std::vector<uint8_t>& out, uint32_t id, int64_t pts90k, const std::vector<uint8_t>& data);
// Offset of the first top-level 'moof' box, or 0 when there is none.
size_t firstMoof(const uint8_t* data, size_t size);
// The 'sidx' boxes before the first 'moof' point at it through first_offset (bytes from the end of
// the sidx to the first referenced byte): inserting `delta` bytes of emsg in between moves it.
void shiftSidxOffsets(uint8_t* data, size_t moof, uint64_t delta);

// KLV units waiting to travel as emsg boxes ahead of the fragment they fall in (the mp4 muxer
// refuses KLV data streams), numbered in the order they are written.
class KlvEmsgQueue {
 public:
  // A unit at its packet's time (tb), or at fallbackPts90k (the latest video time) when it has none.
  void push(const AVPacket* packet, AVRational tb, int64_t fallbackPts90k);
  // Appends the boxes of the units due before beforePts90k (all of them for AV_NOPTS_VALUE) and
  // returns how many.
  int64_t takeBefore(int64_t beforePts90k, std::vector<uint8_t>& out);

 private:
  struct Unit {
    int64_t pts90k;
    std::vector<uint8_t> data;
  };
  std::deque<Unit> units_;
  uint32_t nextId_ = 0;
};

}  // namespace fmv
