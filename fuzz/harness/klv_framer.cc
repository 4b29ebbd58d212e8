// KLV framing of data-stream packets: the fuzz bytes are cut into packets (sizes and carriage
// taken from the bytes themselves) and pushed through KlvFramer, then flushed.
// Checks: every unit starts with the 06 0E 2B 34 prefix and its BER length matches its size.
#include <cstring>
#include <vector>

#include "core/klv_framing.h"
#include "memfile.h"

namespace {

size_t berTotal(const std::vector<uint8_t>& d) {
  const uint8_t first = d[16];
  if (first < 0x80) return 17 + first;
  const size_t n = first & 0x7f;
  uint64_t len = 0;
  for (size_t i = 0; i < n; ++i) len = (len << 8) | d[17 + i];
  return 17 + n + static_cast<size_t>(len);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const bool sync = data[0] & 1;
  // Packet sizes come from a small cycle of lengths in the second byte; 0 means one packet.
  const size_t step = data[1] == 0 ? size : 1 + data[1];
  data += 2;
  size -= 2;
  fmv::KlvFramer framer;
  std::vector<fmv::KlvUnit> out;
  size_t offset = 0;
  while (offset < size) {
    const size_t n = std::min(step + (offset % 7), size - offset);
    fmv::KlvPacketInfo info;
    info.stream = 1;
    info.sync = sync;
    info.byteOffset = static_cast<int64_t>(offset);
    framer.push(info, data + offset, n, out);
    offset += n;
  }
  framer.flush(out);
  size_t unitBytes = 0;
  for (const auto& u : out) {
    FUZZ_CHECK(u.data.size() >= 17);
    FUZZ_CHECK(std::memcmp(u.data.data(), "\x06\x0e\x2b\x34", 4) == 0);
    FUZZ_CHECK(berTotal(u.data) == u.data.size());
    FUZZ_CHECK(u.byteOffset >= 0 && static_cast<size_t>(u.byteOffset) < size);
    unitBytes += u.data.size();
  }
  FUZZ_CHECK(unitBytes <= size);
  return 0;
}
