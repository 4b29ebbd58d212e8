#include "core/ingest_abr.h"

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/ingest_json.h"

extern "C" {
#include <libavcodec/avcodec.h>
}

namespace fmv {
namespace {

// The hls muxer's trailer reports success even when it could not open the last segment file, so
// every file a playlist lists must be there.
int64_t listedFileSize(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw Error("ERR_MUX", "hls", "the HLS muxer did not write " + path + ": " + std::strerror(errno), AVERROR(errno));
  return static_cast<int64_t>(st.st_size);
}

std::string hex2(unsigned v) {
  char buf[4];
  std::snprintf(buf, sizeof buf, "%02X", v & 0xFF);
  return buf;
}

// NAL units of an Annex B buffer (start codes removed).
std::vector<std::vector<uint8_t>> annexBUnits(const uint8_t* d, size_t n) {
  std::vector<std::vector<uint8_t>> units;
  size_t i = 0;
  auto startAt = [&](size_t p) { return p + 3 <= n && d[p] == 0 && d[p + 1] == 0 && d[p + 2] == 1; };
  while (i + 3 <= n && !startAt(i)) ++i;
  while (i + 3 <= n) {
    const size_t begin = i + 3;
    size_t end = begin;
    while (end + 3 <= n && !startAt(end)) ++end;
    if (end + 3 > n) end = n;
    size_t trimmed = end;
    while (trimmed > begin && d[trimmed - 1] == 0) --trimmed;  // the next start code's leading zero
    units.emplace_back(d + begin, d + trimmed);
    i = end;
  }
  return units;
}

// RBSP without emulation prevention bytes.
std::vector<uint8_t> unescape(const std::vector<uint8_t>& nal) {
  std::vector<uint8_t> out;
  out.reserve(nal.size());
  int zeros = 0;
  for (uint8_t b : nal) {
    if (zeros >= 2 && b == 3) {
      zeros = 0;
      continue;
    }
    zeros = b == 0 ? zeros + 1 : 0;
    out.push_back(b);
  }
  return out;
}

std::string avcString(const AVCodecParameters* par) {
  const uint8_t* d = par->extradata;
  const size_t n = static_cast<size_t>(par->extradata_size);
  if (d && n >= 4 && d[0] == 1) return "avc1." + hex2(d[1]) + hex2(d[2]) + hex2(d[3]);  // avcC
  if (d && n > 4) {
    for (const auto& nal : annexBUnits(d, n)) {
      if (nal.size() >= 4 && (nal[0] & 0x1F) == 7) return "avc1." + hex2(nal[1]) + hex2(nal[2]) + hex2(nal[3]);
    }
  }
  const int profile = par->profile > 0 ? par->profile & 0xFF : 100;
  const int level = par->level > 0 ? par->level : 40;
  return "avc1." + hex2(static_cast<unsigned>(profile)) + "00" + hex2(static_cast<unsigned>(level));
}

// general_profile_space .. general_level_idc (12 bytes, the layout of hvcC bytes 1..12).
std::string hevcFromPtl(const uint8_t* p) {
  static const char* spaces[] = {"", "A", "B", "C"};
  const unsigned space = p[0] >> 6;
  const unsigned tier = (p[0] >> 5) & 1;
  const unsigned profile = p[0] & 0x1F;
  uint32_t compat = (uint32_t(p[1]) << 24) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 8) | p[4];
  uint32_t reversed = 0;
  for (int i = 0; i < 32; ++i) reversed |= ((compat >> i) & 1u) << (31 - i);
  char buf[96];
  std::snprintf(buf, sizeof buf, "hvc1.%s%u.%X.%c%u", spaces[space], profile, reversed, tier ? 'H' : 'L', p[11]);
  std::string s = buf;
  int last = 5;
  while (last >= 0 && p[5 + last] == 0) --last;
  for (int i = 0; i <= last; ++i) {
    std::snprintf(buf, sizeof buf, ".%X", p[5 + i]);
    s += buf;
  }
  return s;
}

std::string hevcString(const AVCodecParameters* par) {
  const uint8_t* d = par->extradata;
  const size_t n = static_cast<size_t>(par->extradata_size);
  if (d && n >= 13 && d[0] == 1) return hevcFromPtl(d + 1);  // hvcC
  if (d && n > 4) {
    for (const auto& nal : annexBUnits(d, n)) {
      if (nal.size() < 2 || ((nal[0] >> 1) & 0x3F) != 33) continue;  // SPS
      const std::vector<uint8_t> rbsp = unescape(nal);
      if (rbsp.size() >= 3 + 12) return hevcFromPtl(rbsp.data() + 3);
    }
  }
  return "hvc1.1.6.L" + std::to_string(par->level > 0 ? par->level : 120) + ".B0";
}

std::string frameRateText(double fps) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", fps);
  return buf;
}

}  // namespace

MediaPlaylistStats readMediaPlaylist(const std::string& playlistPath) {
  MediaPlaylistStats stats;
  std::ifstream in(playlistPath);
  if (!in) throw Error("ERR_OUTPUT", "hls", "cannot read the media playlist " + playlistPath);
  const std::filesystem::path dir = std::filesystem::path(playlistPath).parent_path();
  std::string line;
  double pendingDuration = -1;
  int64_t segmentBytes = 0;
  std::vector<std::pair<double, int64_t>> segments;  // duration, bytes
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("#EXTINF:", 0) == 0) {
      pendingDuration = std::strtod(line.c_str() + 8, nullptr);
    } else if (line.rfind("#EXT-X-TARGETDURATION:", 0) == 0) {
      stats.declaredTargetDuration = std::atoi(line.c_str() + 22);
    } else if (line.rfind("#EXT-X-MAP:", 0) == 0) {
      const auto q = line.find("URI=\"");
      if (q != std::string::npos) {
        const auto end = line.find('"', q + 5);
        const std::string uri = line.substr(q + 5, end - q - 5);
        stats.files.push_back(uri);
        stats.bytes += listedFileSize((dir / uri).string());
      }
    } else if (!line.empty() && line[0] != '#' && pendingDuration >= 0) {
      const int64_t size = listedFileSize((dir / line).string());
      stats.files.push_back(line);
      stats.bytes += size;
      segmentBytes += size;
      stats.duration += pendingDuration;
      ++stats.segments;
      segments.emplace_back(pendingDuration, size);
      stats.targetDuration = std::max(stats.targetDuration, static_cast<int>(std::floor(pendingDuration + 0.5)));
      pendingDuration = -1;
    }
  }
  if (stats.duration > 0) stats.averageBitrate = static_cast<int64_t>(std::llround(segmentBytes * 8.0 / stats.duration));
  // Peak over runs of segments lasting 0.5 to 1.5 target durations (two pointers: runs are short).
  const double target = std::max(1, stats.targetDuration);
  for (size_t i = 0; i < segments.size(); ++i) {
    double seconds = 0;
    int64_t bytes = 0;
    for (size_t j = i; j < segments.size(); ++j) {
      seconds += segments[j].first;
      bytes += segments[j].second;
      if (seconds > 1.5 * target) break;
      if (seconds >= 0.5 * target && seconds > 0)
        stats.peakBitrate = std::max<int64_t>(stats.peakBitrate, static_cast<int64_t>(std::llround(bytes * 8.0 / seconds)));
    }
  }
  stats.peakBitrate = std::max(stats.peakBitrate, stats.averageBitrate);
  return stats;
}

void rewriteTargetDuration(const std::string& playlistPath, int seconds) {
  std::ifstream in(playlistPath, std::ios::binary);
  if (!in) throw Error("ERR_OUTPUT", "hls", "cannot read the media playlist " + playlistPath);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string tag = "#EXT-X-TARGETDURATION:";
  const auto at = text.find(tag);
  if (at == std::string::npos) return;
  const auto end = text.find('\n', at);
  text.replace(at, (end == std::string::npos ? text.size() : end) - at, tag + std::to_string(seconds));
  writeFileAtomically(playlistPath, text, "hls");
}

std::string videoCodecString(const AVCodecParameters* par) {
  if (!par) return "";
  if (par->codec_id == AV_CODEC_ID_HEVC) return hevcString(par);
  return avcString(par);
}

std::string audioCodecString(const AVCodecParameters* par) {
  if (!par) return "";
  if (par->codec_id != AV_CODEC_ID_AAC) return avcodec_get_name(par->codec_id);
  // The MPEG-4 audio object type is the AAC profile + 1 (LC = 2, HE = 5, HE v2 = 29).
  const int aot = par->profile >= 0 ? par->profile + 1 : 2;
  return "mp4a.40." + std::to_string(aot);
}

void writeFileAtomically(const std::string& path, const std::string& text, const char* step) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("ERR_OUTPUT", step, "cannot write " + tmp + ": " + std::strerror(errno));
    out << text;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw Error("ERR_OUTPUT", step, "cannot write " + tmp + ": " + std::strerror(errno));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw Error("ERR_OUTPUT", step, "cannot rename " + tmp + " to " + path + ": " + std::strerror(err));
  }
}

void writeMasterPlaylist(const std::string& path, const std::vector<RenditionResult>& renditions, bool fmp4) {
  std::ostringstream m;
  m << "#EXTM3U\n#EXT-X-VERSION:" << (fmp4 ? 7 : 3) << "\n#EXT-X-INDEPENDENT-SEGMENTS\n";
  for (const RenditionResult& r : renditions) {
    m << "#EXT-X-STREAM-INF:BANDWIDTH=" << r.bandwidth << ",AVERAGE-BANDWIDTH=" << r.averageBandwidth << ",RESOLUTION=" << r.width << "x" << r.height
      << ",CODECS=\"" << r.codecs << "\"";
    if (r.frameRate > 0) m << ",FRAME-RATE=" << frameRateText(r.frameRate);
    m << "\n" << r.playlist << "\n";
  }
  writeFileAtomically(path, m.str(), "abr");
}

void writeRenditionJson(JsonWriter& j, const RenditionResult& r) {
  j.beginObject();
  j.key("name").value(r.name);
  j.key("playlist").value(r.playlist);
  j.key("width").value(r.width);
  j.key("height").value(r.height);
  j.key("frameRate").value(r.frameRate);
  j.key("codecs").value(r.codecs);
  j.key("videoEncoder").value(r.videoEncoder);
  j.key("videoBitrate").value(r.videoBitrate);
  j.key("maxBitrate").value(r.maxBitrate);
  j.key("audioBitrate").value(r.audioBitrate);
  j.key("bandwidth").value(r.bandwidth);
  j.key("averageBandwidth").value(r.averageBandwidth);
  j.key("segments").value(r.segments);
  j.key("duration").value(r.duration);
  j.key("bytes").value(r.bytes);
  j.key("frames").value(r.frames);
  j.key("klvUnits").value(r.klvPackets);
  j.endObject();
}

void writeHardwareJson(JsonWriter& j, const HardwareResult& h) {
  j.beginObject();
  j.key("requested").value(h.requested);
  j.key("used").value(h.used);
  j.key("fallback").value(h.fallback);
  j.key("device").value(h.device);
  j.key("decoder").value(h.decoder);
  j.key("scaler").value(h.scaler);
  j.key("encoder").value(h.encoder);
  j.key("reason").value(h.reason);
  j.endObject();
}

void writeAbrInfo(const std::string& path, const AbrInfo& info) {
  JsonWriter j;
  j.beginObject();
  j.key("version").value(1);
  j.key("master").value(info.master);
  j.key("segmentSeconds").value(info.segmentSeconds);
  j.key("segmentFormat").value(info.segmentFormat);
  j.key("codec").value(info.codec);
  j.key("audio").value(info.audio);
  j.key("duration").value(info.duration);
  j.key("klv").beginObject();
  j.key("inSegments").value(info.klv.inSegments);
  j.key("mode").value(info.klv.mode);
  if (!info.klv.reason.empty()) j.key("reason").value(info.klv.reason);
  j.endObject();
  if (info.source && info.source->video) {
    const VideoStreamInfo& v = *info.source->video;
    j.key("source").beginObject();
    j.key("codec").value(v.codec);
    j.key("width").value(v.width);
    j.key("height").value(v.height);
    j.key("frameRate").value(v.frameRate.value());
    j.key("displayAspectRatio").value(std::to_string(v.displayAspectRatio.num) + ":" + std::to_string(v.displayAspectRatio.den));
    j.key("fieldOrder").value(v.fieldOrder);
    j.endObject();
  }
  if (info.hardware) {
    j.key("hardware");
    writeHardwareJson(j, *info.hardware);
  }
  j.key("renditions").beginArray();
  if (info.renditions) {
    for (const RenditionResult& r : *info.renditions) writeRenditionJson(j, r);
  }
  j.endArray();
  j.endObject();
  writeFileAtomically(path, j.str() + "\n", "abr");
}

}  // namespace fmv
