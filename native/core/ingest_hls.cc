#include "core/ingest_hls.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "core/error.h"
#include "core/fmp4_boxes.h"

extern "C" {
#include <libavutil/opt.h>
}

namespace fmv {
namespace {

constexpr const char* kStep = "hls";

bool isMediaSegment(const std::string& url) {
  auto endsWith = [&](const char* tail) {
    const std::string t(tail);
    return url.size() >= t.size() && url.compare(url.size() - t.size(), t.size(), t) == 0;
  };
  return endsWith(".m4s") || endsWith(".m4s.tmp");
}

std::string secondsText(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", s);
  return buf;
}

}  // namespace

RenditionMuxer::RenditionMuxer(const std::string& outDir, const std::string& name, const HlsSettings& settings, CancelToken& cancel)
    : outDir_(outDir), name_(name), dir_((std::filesystem::path(outDir) / name).string()), settings_(settings), cancel_(cancel), packet_(makePacket()) {}

RenditionMuxer::~RenditionMuxer() {
  // A muxer abandoned mid-segment (failure, cancel) still holds the segment's file and its
  // in-memory buffer, which the hls muxer frees only in its trailer: write it (errors no longer
  // matter, the files are about to be removed). Then free the muxer, whose deinit may still close
  // files through ioClose, and close whatever is left.
  if (opened_ && !finished_) av_write_trailer(ctx_.get());
  ctx_.reset();
  for (AVIOContext* pb : openFiles_) {
    AVIOContext* p = pb;
    avio_closep(&p);
  }
  openFiles_.clear();
  for (auto& [pb, url] : segmentBuffers_) {
    uint8_t* bytes = nullptr;
    avio_close_dyn_buf(pb, &bytes);
    av_free(bytes);
  }
  segmentBuffers_.clear();
}

int RenditionMuxer::ioOpen(AVFormatContext* s, AVIOContext** pb, const char* url, int flags, AVDictionary** options) {
  auto* self = static_cast<RenditionMuxer*>(s->opaque);
  if (self->live_ && (flags & AVIO_FLAG_WRITE) && (self->playlistPath_ == url || self->playlistPath_ + ".tmp" == url)) {
    const int ret = avio_open_dyn_buf(pb);
    if (ret >= 0) self->playlistBuffers_.insert(*pb);
    return ret;
  }
  if (self->fmp4Klv_ && (flags & AVIO_FLAG_WRITE) && isMediaSegment(url)) {
    const int ret = avio_open_dyn_buf(pb);
    if (ret >= 0) self->segmentBuffers_[*pb] = url;
    return ret;
  }
  const int ret = avio_open2(pb, url, flags, &s->interrupt_callback, options);
  if (ret >= 0) self->openFiles_.insert(*pb);
  return ret;
}

int RenditionMuxer::ioClose(AVFormatContext* s, AVIOContext* pb) {
  auto* self = static_cast<RenditionMuxer*>(s->opaque);
  if (self->playlistBuffers_.erase(pb)) return self->closeMuxerPlaylist(pb);
  auto segment = self->segmentBuffers_.find(pb);
  if (segment != self->segmentBuffers_.end()) {
    const std::string url = segment->second;
    self->segmentBuffers_.erase(segment);
    return self->closeSegment(pb, url);
  }
  self->openFiles_.erase(pb);
  AVIOContext* p = pb;
  return avio_closep(&p);
}

int RenditionMuxer::closeSegment(AVIOContext* pb, const std::string& url) {
  uint8_t* raw = nullptr;
  const int size = avio_close_dyn_buf(pb, &raw);
  std::unique_ptr<uint8_t, decltype(&av_free)> bytes(raw, &av_free);
  if (size < 0) return size;
  // The units due before the packet that started the next segment; at the trailer, all of them.
  std::vector<uint8_t> events;
  klvPackets_ += pendingKlv_.takeBefore(finishing_ ? AV_NOPTS_VALUE : videoPts90k_, events);
  AVIOContext* file = nullptr;
  int ret = avio_open2(&file, url.c_str(), AVIO_FLAG_WRITE, nullptr, nullptr);
  if (ret < 0) return ret;
  const size_t moof = firstMoof(bytes.get(), static_cast<size_t>(size));
  if (!events.empty()) shiftSidxOffsets(bytes.get(), moof, events.size());
  avio_write(file, bytes.get(), static_cast<int>(moof));
  if (!events.empty()) avio_write(file, events.data(), static_cast<int>(events.size()));
  avio_write(file, bytes.get() + moof, size - static_cast<int>(moof));
  avio_flush(file);
  ret = file->error;
  const int closed = avio_closep(&file);
  return ret < 0 ? ret : closed;
}

int RenditionMuxer::closeMuxerPlaylist(AVIOContext* pb) {
  uint8_t* raw = nullptr;
  const int size = avio_close_dyn_buf(pb, &raw);
  std::unique_ptr<uint8_t, decltype(&av_free)> bytes(raw, &av_free);
  if (size < 0) return size;
  if (liveError_) return AVERROR(EIO);
  try {
    std::optional<LiveSegment> segment = segmenter_.onMuxerPlaylist(std::string(reinterpret_cast<const char*>(bytes.get()), static_cast<size_t>(size)));
    if (!segment) return 0;
    std::error_code ec;
    const auto path = std::filesystem::path(dir_) / segment->uri;
    const auto fileSize = std::filesystem::file_size(path, ec);
    segment->bytes = ec ? 0 : static_cast<int64_t>(fileSize);
    for (const std::string& gone : live_->add(*segment)) std::filesystem::remove(std::filesystem::path(dir_) / gone, ec);
    ++liveSegments_;
    return 0;
  } catch (const Error& e) {
    liveError_ = e;
    return AVERROR(EIO);
  }
}

void RenditionMuxer::throwIfLiveFailed() {
  if (liveError_) throw *liveError_;
}

void RenditionMuxer::open(const AVCodecContext* video, const AVCodecParameters* audio, AVRational audioTimeBase, const std::vector<KlvOutput>& klv) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw Error("ERR_OUTPUT", kStep, "cannot create " + dir_ + ": " + ec.message());

  const bool fmp4 = settings_.format == SegmentFormat::Fmp4;
  const std::string playlist = (std::filesystem::path(dir_) / (name_ + ".m3u8")).string();
  AVFormatContext* raw = nullptr;
  checkAv(avformat_alloc_output_context2(&raw, nullptr, "hls", playlist.c_str()), "ERR_MUX", kStep, "cannot create the HLS muxer for " + name_);
  ctx_.reset(raw);
  ctx_->opaque = this;
  ctx_->io_open = &RenditionMuxer::ioOpen;
  ctx_->io_close2 = &RenditionMuxer::ioClose;
  ctx_->interrupt_callback = cancel_.interruptCallback();
  // Live: a segment is cut when its next keyframe reaches the muxer, and the interleaving queue
  // would hold that keyframe until every other stream (audio in PES of several frames, KLV) has
  // caught up with it; 50 ms is all it may wait.
  if (settings_.live) ctx_->max_interleave_delta = 50000;

  const LadderStreams streams = addLadderStreams(ctx_.get(), video, audio, audioTimeBase, name_);
  videoIndex_ = streams.video;
  audioIndex_ = streams.audio;


  fmp4Klv_ = fmp4 && !klv.empty();
  if (!fmp4) {
    for (size_t i = 0; i < klv.size(); ++i) {
      AVStream* ks = avformat_new_stream(ctx_.get(), nullptr);
      if (!ks) throw Error("ERR_NO_MEMORY", kStep, "out of memory adding a stream");
      ks->codecpar->codec_type = AVMEDIA_TYPE_DATA;
      ks->codecpar->codec_id = AV_CODEC_ID_SMPTE_KLV;
      // The profile stays unknown: FFmpeg then writes stream_type 0x06 with the KLVA registration
      // descriptor (its sync 0x15 output lacks AU cell headers and reads back 5 bytes short).
      ks->time_base = AVRational{1, 90000};
      klvIndexes_.push_back(ks->index);
    }
  }

  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "hls_time", secondsText(settings_.segmentSeconds).c_str(), 0);
  const std::string ext = fmp4 ? ".m4s" : ".ts";
  // The segment name is a printf-style pattern: a '%' in the directory must not count as one.
  std::string pattern;
  for (char c : dir_) pattern += c == '%' ? std::string("%%") : std::string(1, c);
  pattern += "/" + name_ + "_%05d" + ext;
  av_dict_set(&opts, "hls_segment_filename", pattern.c_str(), 0);
  av_dict_set(&opts, "hls_segment_type", fmp4 ? "fmp4" : "mpegts", 0);
  if (fmp4) av_dict_set(&opts, "hls_fmp4_init_filename", (name_ + "_init.mp4").c_str(), 0);
  if (settings_.live) {
    // The muxer lists only its latest segment, in memory: our LivePlaylist writes the real one and
    // removes old segments itself.
    playlistPath_ = playlist;
    LivePlaylistSettings ps = settings_.playlist;
    ps.segmentSeconds = settings_.segmentSeconds;
    ps.fmp4 = fmp4;
    if (fmp4) ps.initSegment = name_ + "_init.mp4";
    live_ = std::make_unique<LivePlaylist>(playlist, ps);
    if (video->framerate.num > 0 && video->framerate.den > 0) segmenter_.setFrameDuration(av_q2d(av_inv_q(video->framerate)));
    av_dict_set_int(&opts, "hls_list_size", 1, 0);
    av_dict_set(&opts, "hls_flags", "independent_segments", 0);
  } else {
    av_dict_set(&opts, "hls_playlist_type", "vod", 0);
    av_dict_set_int(&opts, "hls_list_size", 0, 0);
    av_dict_set(&opts, "hls_flags", "independent_segments", 0);
  }
  const int ret = avformat_write_header(ctx_.get(), &opts);
  av_dict_free(&opts);
  // Opened before any throw: a cancel that lands right after the header must still see the trailer
  // written on teardown, or the hls muxer's in-memory buffers leak.
  if (ret >= 0) opened_ = true;
  cancel_.throwIfStopped(kStep);
  checkAv(ret, "ERR_MUX", kStep, "cannot start the HLS output of " + name_);
  // An empty live playlist at once: the master playlist names it before the first segment is done.
  if (live_) live_->publish();
}

void RenditionMuxer::write(int streamIndex, const AVPacket* packet, AVRational tb) {
  checkAv(av_packet_ref(packet_.get(), packet), "ERR_NO_MEMORY", kStep, "cannot reference a packet");
  packet_->stream_index = streamIndex;
  av_packet_rescale_ts(packet_.get(), tb, ctx_->streams[streamIndex]->time_base);
  packet_->pos = -1;
  const int ret = av_interleaved_write_frame(ctx_.get(), packet_.get());  // takes the reference
  av_packet_unref(packet_.get());
  if (ret < 0) {
    cancel_.throwIfStopped(kStep);
    throwIfLiveFailed();
    throw Error("ERR_MUX", kStep, "cannot write to the HLS output of " + name_ + ": " + avErrorText(ret), ret);
  }
}

void RenditionMuxer::writeVideo(const AVPacket* packet, AVRational tb) {
  if (live_ && packet->pts != AV_NOPTS_VALUE) {
    const double pts = static_cast<double>(packet->pts) * av_q2d(tb);
    if (packet->flags & AV_PKT_FLAG_KEY) {
      segmenter_.onKeyframe(pts, settings_.arrivalMs ? settings_.arrivalMs(pts) : wallClockMs(), pendingDiscontinuity_);
      pendingDiscontinuity_ = false;
    }
    segmenter_.onVideo(pts, packet->duration > 0 ? static_cast<double>(packet->duration) * av_q2d(tb) : 0);
  }
  if (fmp4Klv_ && packet->pts != AV_NOPTS_VALUE) videoPts90k_ = av_rescale_q(packet->pts, tb, AVRational{1, 90000});
  write(videoIndex_, packet, tb);
}

void RenditionMuxer::writeAudio(const AVPacket* packet, AVRational tb) {
  if (audioIndex_ >= 0) write(audioIndex_, packet, tb);
}

void RenditionMuxer::writeKlv(size_t klvIndex, const AVPacket* packet, AVRational tb) {
  if (fmp4Klv_) {
    pendingKlv_.push(packet, tb, videoPts90k_);
    return;
  }
  if (klvIndex >= klvIndexes_.size()) return;
  write(klvIndexes_[klvIndex], packet, tb);
  ++klvPackets_;
}

void RenditionMuxer::finish() {
  if (!opened_ || finished_) return;
  finished_ = true;
  finishing_ = true;
  const int ret = av_write_trailer(ctx_.get());
  cancel_.throwIfStopped(kStep);
  throwIfLiveFailed();
  checkAv(ret, "ERR_MUX", kStep, "cannot finish the HLS output of " + name_);
  if (live_) live_->end();
}

const AVCodecParameters* RenditionMuxer::videoParameters() const { return ctx_ && videoIndex_ >= 0 ? ctx_->streams[videoIndex_]->codecpar : nullptr; }
const AVCodecParameters* RenditionMuxer::audioParameters() const { return ctx_ && audioIndex_ >= 0 ? ctx_->streams[audioIndex_]->codecpar : nullptr; }

}  // namespace fmv
