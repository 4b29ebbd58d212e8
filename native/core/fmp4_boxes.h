// The few ISO BMFF boxes we write or look for ourselves around what libavformat writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fmv {

// ISO/IEC 23009-1 DASHEventMessageBox, version 1 (absolute presentation time, 90 kHz), carrying
// one KLV unit under the scheme urn:misb:KLV:bin:1910.1.
void appendKlvEmsg(std::vector<uint8_t>& out, uint32_t id, int64_t pts90k, const std::vector<uint8_t>& data);
// Offset of the first top-level 'moof' box, or 0 when there is none.
size_t firstMoof(const uint8_t* data, size_t size);
// The 'sidx' boxes before the first 'moof' point at it through first_offset (bytes from the end of
// the sidx to the first referenced byte): inserting `delta` bytes of emsg in between moves it.
void shiftSidxOffsets(uint8_t* data, size_t moof, uint64_t delta);

}  // namespace fmv
