// The scratch output directory of one ingest: remembers what was there before, lists what the job
// wrote, and removes it again when the job fails or is cancelled.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace fmv {

class OutputDirGuard {
 public:
  // Throws ERR_OUTPUT (step "output") when dir does not exist or is not a directory.
  explicit OutputDirGuard(std::string dir);
  // Removes every entry created since construction unless commit() was called.
  ~OutputDirGuard();
  OutputDirGuard(const OutputDirGuard&) = delete;
  OutputDirGuard& operator=(const OutputDirGuard&) = delete;

  void commit() { committed_ = true; }
  // Files created since construction, relative to the directory, sorted.
  std::vector<std::string> newFiles() const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::set<std::string> before_;
  bool committed_ = false;
};

}  // namespace fmv
