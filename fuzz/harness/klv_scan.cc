// The KLV scan (what extractKlv runs): demux of an in-memory input, the TS tap, the KLV framers,
// and the raw KLV path. A typed fmv::Error is an expected outcome; anything else is a finding.
#include "core/error.h"
#include "core/klv_scan.h"
#include "memfile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::MemFile file;
  if (size < 1) return 0;
  const std::string& path = file.set(data + 1, size - 1);
  fmv::KlvScanOptions options;
  options.raw = data[0] == 'R';
  options.batchSize = 1 + data[0] % 8;
  options.input.probeSize = 64 * 1024;
  fmv::CancelToken cancel;
  uint64_t seen = 0;
  try {
    const fmv::KlvScanStats stats = fmv::scanKlv(path, options, cancel, [&](std::vector<fmv::KlvUnit>&& batch) {
      FUZZ_CHECK(!batch.empty());
      seen += batch.size();
    });
    FUZZ_CHECK(stats.units == seen);
  } catch (const fmv::Error& e) {
    FUZZ_CHECK(!e.code().empty() && !e.step().empty());
  }
  return 0;
}
