#include "core/live_playlist.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace fmv {

std::string isoTimeMs(int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

int64_t wallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

LivePlaylist::LivePlaylist(std::string path, LivePlaylistSettings settings) : path_(std::move(path)), settings_(std::move(settings)) {
  // The target duration may not change in a live playlist: segments are cut at this length.
  targetDuration_ = std::max(1, static_cast<int>(std::ceil(settings_.segmentSeconds - 1e-9)));
}

double LivePlaylist::listedSeconds() const {
  double s = 0;
  for (const LiveSegment& seg : listed_) s += seg.duration;
  return s;
}

int64_t LivePlaylist::listedBytes() const {
  int64_t b = 0;
  for (const LiveSegment& seg : listed_) b += seg.bytes;
  return b;
}

bool LivePlaylist::overBound() const {
  if (listed_.size() <= 1) return false;
  if (settings_.kind == LivePlaylistSettings::Kind::Window) return static_cast<int>(listed_.size()) > settings_.windowSegments;
  if (settings_.maxSeconds > 0 && listedSeconds() > settings_.maxSeconds) return true;
  return settings_.maxBytes > 0 && listedBytes() > settings_.maxBytes;
}

std::vector<std::string> LivePlaylist::add(LiveSegment segment) {
  // A segment longer than declared (it cannot happen with cut points at the segment length, but a
  // source without a steady frame rate could) raises the target rather than break the rule that
  // EXTINF rounded may not exceed it.
  targetDuration_ = std::max(targetDuration_, static_cast<int>(std::floor(segment.duration + 0.5)));
  totalSeconds_ += segment.duration;
  if (settings_.partTarget > 0) {
    segment.parts = std::move(open_.parts);
    segmentOpen_ = false;
    open_ = LiveSegment{};
    // Parts stop being listed three target durations back; their files stay a while longer for
    // players that are still fetching them.
    for (const LivePart& part : segment.parts) retiredParts_.push_back(Retired{part.uri, totalSeconds_ + 6.0 * targetDuration_});
  }
  listed_.push_back(std::move(segment));
  while (overBound()) {
    const LiveSegment& old = listed_.front();
    if (listed_.size() > 1 && listed_[1].discontinuity) ++discontinuitySequence_;
    retired_.push_back(Retired{old.uri, totalSeconds_ + old.duration + listedSeconds()});
    listed_.pop_front();
    ++mediaSequence_;
  }
  write();
  std::vector<std::string> gone;
  while (!retired_.empty() && retired_.front().deleteAfter <= totalSeconds_) {
    gone.push_back(retired_.front().uri);
    retired_.pop_front();
  }
  while (!retiredParts_.empty() && retiredParts_.front().deleteAfter <= totalSeconds_) {
    gone.push_back(retiredParts_.front().uri);
    retiredParts_.pop_front();
  }
  return gone;
}

void LivePlaylist::openSegment(int64_t programDateTimeMs, bool discontinuity) {
  open_ = LiveSegment{};
  open_.programDateTimeMs = programDateTimeMs;
  open_.discontinuity = discontinuity;
  segmentOpen_ = true;
}

void LivePlaylist::addPart(LivePart part, std::string nextPartUri) {
  open_.parts.push_back(std::move(part));
  preloadHint_ = std::move(nextPartUri);
  write();
}

void LivePlaylist::renderParts(std::ostream& o, const std::vector<LivePart>& parts) const {
  char line[64];
  for (const LivePart& part : parts) {
    std::snprintf(line, sizeof line, "#EXT-X-PART:DURATION=%.5f,URI=\"", part.duration);
    o << line << part.uri << '"' << (part.independent ? ",INDEPENDENT=YES" : "") << "\n";
  }
}

void LivePlaylist::end() {
  ended_ = true;
  preloadHint_.clear();
  write();
}

std::string LivePlaylist::render() const {
  std::ostringstream o;
  o << "#EXTM3U\n#EXT-X-VERSION:" << (settings_.fmp4 ? 7 : 3) << "\n#EXT-X-TARGETDURATION:" << targetDuration_ << "\n";
  const bool ll = settings_.partTarget > 0;
  if (ll) {
    char control[160];
    // A player holds back three part targets from the live edge; it may block on a reload.
    std::snprintf(control, sizeof control, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=%.3f\n#EXT-X-PART-INF:PART-TARGET=%.3f\n",
                  3 * settings_.partTarget, settings_.partTarget);
    o << control;
  }
  o << "#EXT-X-MEDIA-SEQUENCE:" << mediaSequence_ << "\n";
  if (discontinuitySequence_ > 0) o << "#EXT-X-DISCONTINUITY-SEQUENCE:" << discontinuitySequence_ << "\n";
  const bool bounded = settings_.kind == LivePlaylistSettings::Kind::Window || settings_.maxSeconds > 0 || settings_.maxBytes > 0;
  if (!bounded) o << "#EXT-X-PLAYLIST-TYPE:EVENT\n";
  o << "#EXT-X-INDEPENDENT-SEGMENTS\n";
  if (settings_.fmp4 && !settings_.initSegment.empty()) o << "#EXT-X-MAP:URI=\"" << settings_.initSegment << "\"\n";
  char extinf[48];
  // LL-HLS: parts are listed for the segments that end within three target durations of the end.
  size_t partsFrom = listed_.size();
  if (ll) {
    double fromEnd = 0;
    for (const LivePart& part : open_.parts) fromEnd += part.duration;
    while (partsFrom > 0 && fromEnd < 3.0 * targetDuration_) fromEnd += listed_[--partsFrom].duration;
  }
  for (size_t i = 0; i < listed_.size(); ++i) {
    const LiveSegment& s = listed_[i];
    // The first listed segment's break is counted in DISCONTINUITY-SEQUENCE once it leaves.
    if (s.discontinuity && i > 0) o << "#EXT-X-DISCONTINUITY\n";
    o << "#EXT-X-PROGRAM-DATE-TIME:" << isoTimeMs(s.programDateTimeMs) << "\n";
    if (i >= partsFrom) renderParts(o, s.parts);
    std::snprintf(extinf, sizeof extinf, "#EXTINF:%.6f,\n", s.duration);
    o << extinf << s.uri << "\n";
  }
  if (ll && segmentOpen_ && !ended_) {
    if (!open_.parts.empty()) {
      if (open_.discontinuity && !listed_.empty()) o << "#EXT-X-DISCONTINUITY\n";
      o << "#EXT-X-PROGRAM-DATE-TIME:" << isoTimeMs(open_.programDateTimeMs) << "\n";
      renderParts(o, open_.parts);
    }
  }
  if (ll && !ended_ && !preloadHint_.empty()) o << "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"" << preloadHint_ << "\"\n";
  if (ended_) o << "#EXT-X-ENDLIST\n";
  return o.str();
}

void LivePlaylist::write() const {
  // Written beside and renamed over, so a player never reads half a playlist.
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    const std::string text = render();
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw Error("ERR_OUTPUT", "hls", "cannot write the live playlist " + path_ + " (disk full or not writable)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path_, ec);
  if (ec) throw Error("ERR_OUTPUT", "hls", "cannot replace the live playlist " + path_ + ": " + ec.message());
}

void ArrivalClock::note(double pts, int64_t wallMs) {
  // A few seconds of frames: encoders and the muxer's interleaving hold frames for well under that.
  constexpr size_t kKept = 1024;
  frames_.emplace_back(pts, wallMs);
  if (frames_.size() > kKept) frames_.pop_front();
}

int64_t ArrivalClock::at(double pts) const {
  // Decode order is not display order: look for the closest time not after pts.
  const std::pair<double, int64_t>* best = nullptr;
  for (const auto& f : frames_)
    if (f.first <= pts + 1e-3 && (!best || f.first > best->first)) best = &f;
  return best ? best->second : wallClockMs();
}

void LiveSegmenter::onKeyframe(double pts, int64_t arrivalMs, bool discontinuity) {
  keys_.push_back(Key{pts, anyMedia_ ? mediaEnd_ : pts, arrivalMs, discontinuity});
}

void LiveSegmenter::onVideo(double pts, double duration) {
  if (duration <= 0) duration = frameDuration_;
  mediaEnd_ = anyMedia_ ? std::max(mediaEnd_, pts + duration) : pts + duration;
  anyMedia_ = true;
}

std::optional<LiveSegment> LiveSegmenter::onMuxerPlaylist(const std::string& text) {
  // The muxer lists only its latest segment (hls_list_size 1): its EXTINF and URI.
  double extinf = -1;
  std::string uri;
  std::istringstream in(text);
  std::string line;
  double pending = -1;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("#EXTINF:", 0) == 0) pending = std::strtod(line.c_str() + 8, nullptr);
    else if (!line.empty() && line[0] != '#' && pending >= 0) {
      extinf = pending;
      uri = line;
      pending = -1;
    }
  }
  if (uri.empty() || uri == lastUri_ || keys_.empty()) return std::nullopt;
  lastUri_ = uri;
  const Key first = keys_.front();
  keys_.pop_front();
  // The next segment starts at the keyframe the muxer cut at: extinf after this one's start.
  double end = mediaEnd_;
  while (!keys_.empty()) {
    const Key& k = keys_.front();
    if (k.pts + 1e-3 >= first.pts + extinf) {
      end = k.prevEnd;
      break;
    }
    keys_.pop_front();  // a keyframe the muxer did not cut at
  }
  LiveSegment s;
  s.uri = std::filesystem::path(uri).filename().string();
  s.duration = std::max(0.0, end - first.pts);
  s.programDateTimeMs = first.arrivalMs;
  s.discontinuity = first.discontinuity;
  return s;
}

}  // namespace fmv
