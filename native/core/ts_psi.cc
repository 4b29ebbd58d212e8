#include "core/ts_psi.h"

#include <algorithm>

namespace fmv {
namespace {

constexpr uint8_t kSync = 0x47;
constexpr size_t kMaxPending = 1 << 20;  // stop looking for sync after 1 MiB of non-TS bytes

std::string fourcc(const std::vector<uint8_t>& d, size_t at) {
  if (d.size() < at + 4) return {};
  return std::string(reinterpret_cast<const char*>(d.data() + at), 4);
}

}  // namespace

void TsProgramTables::feed(const uint8_t* data, size_t size) {
  if (gaveUp_ || size == 0) return;
  pending_.insert(pending_.end(), data, data + size);
  if (packetSize_ == 0) {
    detectPacketSize();
    if (packetSize_ == 0) {
      if (pending_.size() > kMaxPending) {
        gaveUp_ = true;
        pending_.clear();
      }
      return;
    }
  }
  const size_t prefix = packetSize_ - 188;  // 192-byte M2TS packets carry a 4-byte timecode first
  size_t pos = 0;
  while (pending_.size() - pos >= packetSize_) {
    const uint8_t* p = pending_.data() + pos + prefix;
    if (p[0] != kSync) {
      // Lost sync: skip a byte and look again.
      ++pos;
      continue;
    }
    parsePacket(p);
    pos += packetSize_;
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(pos));
}

void TsProgramTables::detectPacketSize() {
  static const size_t sizes[] = {188, 192, 204};
  for (size_t start = 0; start < std::min<size_t>(pending_.size(), 204); ++start) {
    for (size_t size : sizes) {
      const size_t prefix = size - 188;
      if (pending_.size() < start + prefix + size * 4) continue;
      bool ok = true;
      for (int i = 0; i < 5 && ok; ++i) {
        const size_t at = start + prefix + size * static_cast<size_t>(i);
        if (at >= pending_.size()) break;
        ok = pending_[at] == kSync;
      }
      if (ok) {
        packetSize_ = size;
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(start));
        return;
      }
    }
  }
}

bool TsProgramTables::complete() const {
  if (pmtPids_.empty()) return false;
  for (const auto& entry : pmtPids_) {
    if (!pmtSeen_.count(entry.first)) return false;
  }
  return true;
}

const PmtStream* TsProgramTables::stream(int pid) const {
  auto it = streams_.find(pid);
  return it == streams_.end() ? nullptr : &it->second;
}

void TsProgramTables::parsePacket(const uint8_t* p) {
  const int pid = ((p[1] & 0x1f) << 8) | p[2];
  const bool unitStart = p[1] & 0x40;
  const int adaptation = (p[3] >> 4) & 0x3;
  if (pid != 0 && !pmtPids_.count(pid)) return;
  if (!(adaptation & 0x1)) return;  // no payload
  size_t offset = 4;
  if (adaptation & 0x2) offset += 1 + p[4];
  if (offset >= 188) return;
  const uint8_t* payload = p + offset;
  size_t len = 188 - offset;

  auto& buffer = sectionBuffers_[pid];
  if (unitStart) {
    const size_t pointer = payload[0];
    if (1 + pointer > len) return;
    // Bytes before the pointer finish the previous section.
    if (!buffer.empty()) {
      buffer.insert(buffer.end(), payload + 1, payload + 1 + pointer);
      parseSection(pid, buffer);
    }
    buffer.assign(payload + 1 + pointer, payload + len);
  } else {
    if (buffer.empty()) return;  // continuation of a section whose start we missed
    buffer.insert(buffer.end(), payload, payload + len);
  }
  // A section may already be whole.
  if (buffer.size() >= 3 && buffer[0] != 0xff) {
    const size_t sectionLength = ((buffer[1] & 0x0f) << 8) | buffer[2];
    if (buffer.size() >= 3 + sectionLength) {
      parseSection(pid, buffer);
      buffer.clear();
    }
  }
}

void TsProgramTables::parseSection(int pid, const std::vector<uint8_t>& s) {
  if (s.size() < 3 || s[0] == 0xff) return;
  const size_t sectionLength = ((s[1] & 0x0f) << 8) | s[2];
  if (s.size() < 3 + sectionLength || sectionLength < 9) return;
  std::vector<uint8_t> section(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(3 + sectionLength));
  if (pid == 0 && section[0] == 0x00) parsePat(section);
  else if (section[0] == 0x02) parsePmt(section);
}

void TsProgramTables::parsePat(const std::vector<uint8_t>& s) {
  const size_t end = s.size() - 4;  // CRC_32
  for (size_t i = 8; i + 4 <= end; i += 4) {
    const int program = (s[i] << 8) | s[i + 1];
    const int pid = ((s[i + 2] & 0x1f) << 8) | s[i + 3];
    if (program != 0) pmtPids_[pid] = program;
  }
}

void TsProgramTables::parsePmt(const std::vector<uint8_t>& s) {
  const int program = (s[3] << 8) | s[4];
  const size_t end = s.size() - 4;
  const size_t programInfoLength = ((s[10] & 0x0f) << 8) | s[11];
  size_t i = 12 + programInfoLength;
  for (auto& entry : pmtPids_) {
    if (entry.second == program) pmtSeen_[entry.first] = true;
  }
  while (i + 5 <= end) {
    PmtStream st;
    st.programNumber = program;
    st.streamType = s[i];
    st.pid = ((s[i + 1] & 0x1f) << 8) | s[i + 2];
    const size_t infoLength = ((s[i + 3] & 0x0f) << 8) | s[i + 4];
    size_t d = i + 5;
    const size_t dEnd = std::min(end, d + infoLength);
    while (d + 2 <= dEnd) {
      PmtDescriptor desc;
      desc.tag = s[d];
      const size_t len = s[d + 1];
      if (d + 2 + len > dEnd) break;
      desc.data.assign(s.begin() + static_cast<std::ptrdiff_t>(d + 2), s.begin() + static_cast<std::ptrdiff_t>(d + 2 + len));
      if (desc.tag == 0x05) st.registration = fourcc(desc.data, 0);
      // metadata_descriptor: application format (2), [app id (4) if 0xffff], format (1), [format id (4) if 0xff]
      if (desc.tag == 0x26 && desc.data.size() >= 3) {
        size_t at = 2;
        if (desc.data[0] == 0xff && desc.data[1] == 0xff) at += 4;
        if (at < desc.data.size() && desc.data[at] == 0xff) st.metadataFormat = fourcc(desc.data, at + 1);
      }
      st.descriptors.push_back(std::move(desc));
      d += 2 + len;
    }
    streams_[st.pid] = std::move(st);
    i += 5 + infoLength;
  }
}

}  // namespace fmv
