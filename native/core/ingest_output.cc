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
}

OutputDirGuard::~OutputDirGuard() {
  if (committed_) return;
  std::error_code ec;
  std::vector<fs::path> created;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    if (claimed(it->path().filename().string())) created.push_back(it->path());
  }
  for (const fs::path& p : created) fs::remove_all(p, ec);
}

bool OutputDirGuard::claimed(const std::string& entry) const {
  if (std::find(names_.begin(), names_.end(), entry) != names_.end()) return true;
  return std::any_of(prefixes_.begin(), prefixes_.end(), [&](const std::string& p) { return entry.compare(0, p.size(), p) == 0; });
}

void OutputDirGuard::claim(const std::string& name) {
  const bool prefix = !name.empty() && name.back() == '*';
  const std::string stem = prefix ? name.substr(0, name.size() - 1) : name;
  std::error_code ec;
  std::string taken;
  if (prefix) {
    for (fs::directory_iterator it(dir_, ec), end; !ec && it != end && taken.empty(); it.increment(ec)) {
      const std::string entry = it->path().filename().string();
      if (entry.compare(0, stem.size(), stem) == 0) taken = entry;
    }
    if (ec) throw Error("ERR_OUTPUT", "output", "cannot list the output directory " + dir_ + ": " + ec.message());
  } else if (fs::exists(fs::symlink_status(fs::path(dir_) / stem, ec))) {
    taken = stem;
  }
  if (!taken.empty()) {
    throw Error("ERR_OUTPUT_EXISTS", "output",
                (fs::path(dir_) / taken).string() + " already exists: an ingest writes only names that are free, so nothing there is overwritten");
  }
  (prefix ? prefixes_ : names_).push_back(stem);
}

std::vector<std::string> OutputDirGuard::newFiles() const {
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    if (!claimed(it->path().filename().string())) continue;
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
