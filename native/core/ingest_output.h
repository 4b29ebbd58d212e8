// The scratch output directory of one ingest. The job claims each top-level name it will write
// before writing it; a name something already has is refused, so an earlier ingest or another
// program's files are never overwritten, and only claimed entries are listed and removed again
// when the job fails or is cancelled (another job writing to the same directory keeps its files).
#pragma once

#include <string>
#include <vector>

namespace fmv {

class OutputDirGuard {
 public:
  // Throws ERR_OUTPUT (step "output") when dir does not exist or is not a directory.
  explicit OutputDirGuard(std::string dir);
  // Removes every claimed entry unless commit() was called.
  ~OutputDirGuard();
  OutputDirGuard(const OutputDirGuard&) = delete;
  OutputDirGuard& operator=(const OutputDirGuard&) = delete;

  // Claims a top-level name ("720p", "ABR.m3u8"), or every name with a prefix ("sprite_*").
  // Throws ERR_OUTPUT_EXISTS (step "output") naming the path when an entry already has it.
  void claim(const std::string& name);
  void commit() { committed_ = true; }
  // Files under the claimed entries, relative to the directory, sorted.
  std::vector<std::string> newFiles() const;
  const std::string& dir() const { return dir_; }

 private:
  bool claimed(const std::string& entry) const;

  std::string dir_;
  std::vector<std::string> names_;
  std::vector<std::string> prefixes_;
  bool committed_ = false;
};

}  // namespace fmv
