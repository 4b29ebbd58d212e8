#include "core/ingest_output.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"

namespace fs = std::filesystem;

namespace fmv {

OutputDirGuard::OutputDirGuard(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) throw Error("ERR_OUTPUT", "output", "output directory does not exist or is not a directory: " + dir_);
  // FFmpeg's hls muxer expands '%' sequences in the whole segment path and cannot escape them.
  if (dir_.find('%') != std::string::npos) throw Error("ERR_OUTPUT", "output", "the output directory path must not contain '%': " + dir_);
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) before_.insert(it->path().filename().string());
  if (ec) throw Error("ERR_OUTPUT", "output", "cannot list the output directory " + dir_ + ": " + ec.message());
}

OutputDirGuard::~OutputDirGuard() {
  if (committed_) return;
  std::error_code ec;
  std::vector<fs::path> created;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    if (!before_.count(it->path().filename().string())) created.push_back(it->path());
  }
  for (const fs::path& p : created) fs::remove_all(p, ec);
}

std::vector<std::string> OutputDirGuard::newFiles() const {
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    if (before_.count(it->path().filename().string())) continue;
    if (it->is_directory(ec)) {
      for (fs::recursive_directory_iterator r(it->path(), ec), rend; !ec && r != rend; r.increment(ec)) {
        if (r->is_regular_file(ec)) files.push_back(fs::relative(r->path(), dir_, ec).generic_string());
      }
    } else {
      files.push_back(it->path().filename().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace fmv
