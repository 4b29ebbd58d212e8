// Shared by the harnesses: the fuzz bytes as an in-memory file (memfd), opened by the real
// MediaInput path (stat, avio_open2, the TS tap) as /proc/self/fd/N, with FFmpeg's log quiet.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" {
#include <libavutil/log.h>
}

namespace fuzz {

class MemFile {
 public:
  MemFile() {
    fd_ = memfd_create("fmv-fuzz", 0);
    if (fd_ < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemFile() { close(fd_); }
  // Replaces the file's contents with data.
  const std::string& set(const uint8_t* data, size_t size) {
    if (ftruncate(fd_, 0) != 0) std::abort();
    size_t done = 0;
    while (done < size) {
      const ssize_t n = pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
    return path_;
  }

 private:
  int fd_ = -1;
  std::string path_;
};


// Stops a harness loudly when an invariant it checks does not hold (libFuzzer records the input).
#define FUZZ_CHECK(cond)                                                      \
  do {                                                                        \
    if (!(cond)) {                                                            \
      std::fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                           \
    }                                                                         \
  } while (0)

}  // namespace fuzz

// Every harness binary includes this once: FFmpeg's log stays quiet unless FMV_FUZZ_VERBOSE is set.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  av_log_set_level(std::getenv("FMV_FUZZ_VERBOSE") ? AV_LOG_WARNING : AV_LOG_QUIET);
  return 0;
}
