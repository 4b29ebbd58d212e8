// probe() of an in-memory input: open, stream info, the TS tables, the KLV packet look-ahead.
#include "core/error.h"
#include "core/probe.h"
#include "memfile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::MemFile file;
  if (size < 1) return 0;
  const std::string& path = file.set(data + 1, size - 1);
  fmv::ProbeOptions options;
  options.requireVideo = data[0] & 1;
  options.klvScanBytes = 256 * 1024;
  options.input.probeSize = 64 * 1024;
  fmv::CancelToken cancel;
  try {
    const fmv::ProbeResult r = fmv::probe(path, options, cancel);
    FUZZ_CHECK(!options.requireVideo || r.video.has_value());
    for (const auto& k : r.klv) FUZZ_CHECK(k.index >= 0 && k.packets >= 0 && k.bytes >= 0);
  } catch (const fmv::Error& e) {
    FUZZ_CHECK(!e.code().empty() && !e.step().empty());
  }
  return 0;
}
