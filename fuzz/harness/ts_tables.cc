// The TS carriage tap: raw transport-stream bytes fed to TsProgramTables in varying chunks
// (as the input's read callback hands them over). Checks that the tables it keeps are sane.
#include "core/ts_psi.h"
#include "memfile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t chunk = 1 + data[0] * 7;
  fmv::TsProgramTables tables;
  for (size_t at = 1; at < size; at += chunk) tables.feed(data + at, std::min(chunk, size - at));
  for (const auto& [pid, st] : tables.streams()) {
    FUZZ_CHECK(pid >= 0 && pid < 0x2000);
    FUZZ_CHECK(st.pid == pid);
    FUZZ_CHECK(st.registration.empty() || st.registration.size() == 4);
    FUZZ_CHECK(st.metadataFormat.empty() || st.metadataFormat.size() == 4);
    FUZZ_CHECK(tables.stream(pid) == &st);
  }
  (void)tables.complete();
  return 0;
}
