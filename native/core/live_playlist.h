// Live media playlists written by us rather than by FFmpeg's hls muxer (which in 5.1 has no
// arrival-time PROGRAM-DATE-TIME, no discontinuities at our choosing and no bounded DVR): the
// muxer still cuts and writes the segments, and tells us about each finished one through the
// playlist it writes (captured in memory); the times, arrival clock and discontinuities come from
// the packets we hand it.
#pragma once

#include <cstdint>
#include <deque>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace fmv {

// How a live playlist keeps its segments.
struct LivePlaylistSettings {
  // Window: the latest windowSegments are listed. Dvr: every segment is kept, within maxSeconds
  // and maxBytes when set (the oldest go first); unbounded it is an EVENT playlist.
  enum class Kind { Window, Dvr } kind = Kind::Window;
  int windowSegments = 6;
  double maxSeconds = 0;
  int64_t maxBytes = 0;
  double segmentSeconds = 2;
  bool fmp4 = false;
  std::string initSegment;  // fMP4: the EXT-X-MAP URI
  // LL-HLS (RFC 8216bis §4.4.4.9): parts of at most this many seconds are listed as they are
  // written, with a preload hint for the next; 0 for none.
  double partTarget = 0;
};

struct LivePart {
  std::string uri;  // relative to the playlist
  double duration = 0;
  bool independent = false;  // starts with an IDR
};

struct LiveSegment {
  std::string uri;  // relative to the playlist
  double duration = 0;
  int64_t programDateTimeMs = 0;  // wall clock (ms since 1970) at which its first frame arrived
  bool discontinuity = false;     // the input broke off before this segment
  int64_t bytes = 0;
  std::vector<LivePart> parts;  // LL-HLS: the parts it was written as
};

class LivePlaylist {
 public:
  LivePlaylist(std::string path, LivePlaylistSettings settings);

  // Lists a finished segment and rewrites the playlist. Returns the files of segments that left the
  // playlist long enough ago to be deleted (RFC 8216 §6.2.2: a removed segment stays available for
  // its duration plus the playlist's).
  std::vector<std::string> add(LiveSegment segment);
  // LL-HLS: the segment being written starts (its first frame's arrival, a break before it), one
  // of its parts is finished (rewrites the playlist), and the part that will come next.
  void openSegment(int64_t programDateTimeMs, bool discontinuity);
  void addPart(LivePart part, std::string nextPartUri);
  // Writes the playlist as it is (an empty live playlist before the first segment).
  void publish() const { write(); }
  // Marks the playlist ended (EXT-X-ENDLIST) and rewrites it.
  void end();
  bool ended() const { return ended_; }

  std::string render() const;
  size_t listed() const { return listed_.size(); }

 private:
  void write() const;
  double listedSeconds() const;
  int64_t listedBytes() const;
  bool overBound() const;
  void renderParts(std::ostream& o, const std::vector<LivePart>& parts) const;

  std::string path_;
  LivePlaylistSettings settings_;
  std::deque<LiveSegment> listed_;
  struct Retired {
    std::string uri;
    double deleteAfter;  // total seconds added
  };
  std::deque<Retired> retired_;
  double totalSeconds_ = 0;
  int64_t mediaSequence_ = 0;
  int64_t discontinuitySequence_ = 0;
  int targetDuration_ = 1;
  bool ended_ = false;
  // LL-HLS: the segment being written, and part files kept a while after they stop being listed.
  LiveSegment open_;
  bool segmentOpen_ = false;
  std::string preloadHint_;
  std::deque<Retired> retiredParts_;
};

// Turns what FFmpeg's hls muxer says about each finished segment into LiveSegments with our own
// durations (media time, so a gap at a discontinuity is not counted), arrival times and
// discontinuity marks. One per rendition.
class LiveSegmenter {
 public:
  // Duration of a frame, for packets that carry none (encoders often leave it 0).
  void setFrameDuration(double seconds) { frameDuration_ = seconds; }
  // A keyframe handed to the muxer (every segment starts with one): its time in seconds, the end of
  // the media handed before it, the arrival wall clock of its frame, and whether it follows a break.
  void onKeyframe(double pts, int64_t arrivalMs, bool discontinuity);
  // Any video packet handed to the muxer: extends the media end.
  void onVideo(double pts, double duration);
  // The text of the playlist the muxer just wrote: returns the segment it finished, if any.
  std::optional<LiveSegment> onMuxerPlaylist(const std::string& text);

 private:
  struct Key {
    double pts;
    double prevEnd;
    int64_t arrivalMs;
    bool discontinuity;
  };
  std::deque<Key> keys_;
  double mediaEnd_ = 0;
  double frameDuration_ = 0;
  bool anyMedia_ = false;
  std::string lastUri_;
};

// When each input video frame arrived (wall clock), by its time on the mended timeline: the
// PROGRAM-DATE-TIME of a segment is the arrival of its first frame. Bounded to the latest frames.
class ArrivalClock {
 public:
  void note(double pts, int64_t wallMs);
  // Arrival of the latest frame at or before pts (within a millisecond); now when none is known.
  int64_t at(double pts) const;

 private:
  std::deque<std::pair<double, int64_t>> frames_;  // in arrival order
};

// ISO 8601 with milliseconds, UTC ("2026-12-07T16:20:00.123Z").
std::string isoTimeMs(int64_t msSinceEpoch);
// Wall clock now, ms since 1970.
int64_t wallClockMs();

}  // namespace fmv
