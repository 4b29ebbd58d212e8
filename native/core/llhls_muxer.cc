#include "core/llhls_muxer.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "core/fmp4_boxes.h"
#include "core/jpeg_writer.h"

extern "C" {
#include <libavutil/opt.h>
}

namespace fmv {
namespace {

constexpr const char* kStep = "hls";
constexpr int kIoBufferSize = 64 * 1024;

// FFmpeg 6.1 made the AVIO write callback's buffer const.
#if LIBAVFORMAT_VERSION_MAJOR < 61
int collectWritten(void* opaque, uint8_t* data, int size) {
#else
int collectWritten(void* opaque, const uint8_t* data, int size) {
#endif
  static_cast<LowLatencyMuxer*>(opaque)->appendWritten(data, size);
  return size;
}

}  // namespace

LowLatencyMuxer::LowLatencyMuxer(const std::string& outDir, const std::string& name, const HlsSettings& settings, CancelToken& cancel)
    : name_(name), dir_((std::filesystem::path(outDir) / name).string()), settings_(settings), cancel_(cancel), packet_(makePacket()) {}

void LowLatencyMuxer::appendWritten(const uint8_t* data, int size) { written_.insert(written_.end(), data, data + size); }

std::string LowLatencyMuxer::segmentUri(int64_t index) const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "_%05lld.m4s", static_cast<long long>(index));
  return name_ + buf;
}

std::string LowLatencyMuxer::partUri(int64_t index, int part) const {
  char buf[48];
  std::snprintf(buf, sizeof buf, "_%05lld.%d.m4s", static_cast<long long>(index), part);
  return name_ + buf;
}

std::string LowLatencyMuxer::pathOf(const std::string& uri) const { return (std::filesystem::path(dir_) / uri).string(); }

void LowLatencyMuxer::open(const AVCodecContext* video, const AVCodecParameters* audio, AVRational audioTimeBase, const std::vector<KlvOutput>& klv) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw Error("ERR_OUTPUT", kStep, "cannot create " + dir_ + ": " + ec.message());

  AVFormatContext* raw = nullptr;
  checkAv(avformat_alloc_output_context2(&raw, nullptr, "mp4", nullptr), "ERR_MUX", kStep, "cannot create the fMP4 muxer for " + name_);
  ctx_.reset(raw);
  auto* buffer = static_cast<unsigned char*>(av_malloc(kIoBufferSize));
  if (!buffer) throw Error("ERR_NO_MEMORY", kStep, "out of memory for the fMP4 output of " + name_);
  io_.reset(avio_alloc_context(buffer, kIoBufferSize, 1, this, nullptr, &collectWritten, nullptr));
  if (!io_) {
    av_free(buffer);
    throw Error("ERR_NO_MEMORY", kStep, "out of memory for the fMP4 output of " + name_);
  }
  ctx_->pb = io_.get();
  ctx_->flags |= AVFMT_FLAG_CUSTOM_IO;
  ctx_->interrupt_callback = cancel_.interruptCallback();

  const LadderStreams streams = addLadderStreams(ctx_.get(), video, audio, audioTimeBase, name_);
  videoIndex_ = streams.video;
  audioIndex_ = streams.audio;
  if (video->framerate.num > 0 && video->framerate.den > 0) frameDuration_ = av_q2d(av_inv_q(video->framerate));
  fmp4Klv_ = !klv.empty();

  AVDictionary* opts = nullptr;
  // Fragments only when we flush; the moov waits for the first one, as the hls muxer's fMP4 does.
  av_dict_set(&opts, "movflags", "+frag_custom+empty_moov+delay_moov+default_base_moof+skip_trailer", 0);
  const int ret = avformat_write_header(ctx_.get(), &opts);
  av_dict_free(&opts);
  cancel_.throwIfStopped(kStep);
  checkAv(ret, "ERR_MUX", kStep, "cannot start the fMP4 output of " + name_);

  LivePlaylistSettings ps = settings_.playlist;
  ps.segmentSeconds = settings_.segmentSeconds;
  ps.fmp4 = true;
  ps.initSegment = name_ + "_init.mp4";
  playlist_ = std::make_unique<LivePlaylist>(pathOf(name_ + ".m3u8"), ps);
  opened_ = true;
  // An empty live playlist at once: the master playlist names it before the first part is done.
  playlist_->publish();
}

void LowLatencyMuxer::write(int streamIndex, const AVPacket* packet, AVRational tb) {
  checkAv(av_packet_ref(packet_.get(), packet), "ERR_NO_MEMORY", kStep, "cannot reference a packet");
  packet_->stream_index = streamIndex;
  // The fragment's last sample takes its length from the packet: encoders often leave it 0.
  if (streamIndex == videoIndex_ && packet_->duration <= 0) packet_->duration = std::max<int64_t>(1, std::llround(frameDuration_ / av_q2d(tb)));
  av_packet_rescale_ts(packet_.get(), tb, ctx_->streams[streamIndex]->time_base);
  packet_->pos = -1;
  // The mp4 muxer takes each stream's times strictly increasing; the interleaving hls muxer let
  // a repeated time (an audio frame rounded onto its neighbour, a feed's restart) pass.
  int64_t& last = lastDts_[streamIndex];
  if (packet_->dts != AV_NOPTS_VALUE) {
    if (last != AV_NOPTS_VALUE && packet_->dts <= last) {
      const int64_t shift = last + 1 - packet_->dts;
      packet_->dts += shift;
      if (packet_->pts != AV_NOPTS_VALUE) packet_->pts = std::max(packet_->pts + shift, packet_->dts);
    }
    last = packet_->dts;
  }
  const int ret = av_write_frame(ctx_.get(), packet_.get());
  av_packet_unref(packet_.get());
  if (ret < 0) {
    cancel_.throwIfStopped(kStep);
    throw Error("ERR_MUX", kStep, "cannot write to the fMP4 output of " + name_ + ": " + avErrorText(ret), ret);
  }
}

void LowLatencyMuxer::writeVideo(const AVPacket* packet, AVRational tb) {
  if (packet->pts == AV_NOPTS_VALUE) throw Error("ERR_MUX", kStep, "a video packet without a time reached the low-latency output of " + name_);
  const double pts = static_cast<double>(packet->pts) * av_q2d(tb);
  const double duration = packet->duration > 0 ? static_cast<double>(packet->duration) * av_q2d(tb) : frameDuration_;
  const int64_t pts90k = av_rescale_q(packet->pts, tb, AVRational{1, 90000});
  const bool key = (packet->flags & AV_PKT_FLAG_KEY) != 0;
  if (segmentOpen_ && key && (pendingDiscontinuity_ || pts - segmentStart_ >= settings_.segmentSeconds - frameDuration_ / 2)) closeSegment(pts90k);
  else if (partOpen_ && pts + duration - partStart_ > settings_.playlist.partTarget + 1e-3) closePart(pts90k, false);
  if (!segmentOpen_) {
    // Every segment starts on a keyframe (the ladder's cut points force one in every rung).
    if (!key) return;
    segmentOpen_ = true;
    segmentStart_ = pts;
    partIndex_ = 0;
    segmentBytes_.clear();
    segmentArrivalMs_ = settings_.arrivalMs ? settings_.arrivalMs(pts) : wallClockMs();
    segmentDiscontinuity_ = pendingDiscontinuity_ && segmentsListed_ > 0;
    pendingDiscontinuity_ = false;
    playlist_->openSegment(segmentArrivalMs_, segmentDiscontinuity_);
  }
  if (!partOpen_) {
    partOpen_ = true;
    partStart_ = pts;
    partIndependent_ = key;
  }
  videoPts90k_ = pts90k;
  mediaEnd_ = std::max(mediaEnd_, pts + duration);
  write(videoIndex_, packet, tb);
}

void LowLatencyMuxer::writeAudio(const AVPacket* packet, AVRational tb) {
  // Audio before the first keyframe has no segment to go in.
  if (audioIndex_ >= 0 && segmentOpen_) write(audioIndex_, packet, tb);
}

void LowLatencyMuxer::writeKlv(size_t, const AVPacket* packet, AVRational tb) {
  if (!fmp4Klv_) return;
  pendingKlv_.push(packet, tb, videoPts90k_);
}

void LowLatencyMuxer::flushFragment() {
  const int ret = av_write_frame(ctx_.get(), nullptr);  // frag_custom: write the fragment now
  if (ret < 0) {
    cancel_.throwIfStopped(kStep);
    throw Error("ERR_MUX", kStep, "cannot cut a part of the fMP4 output of " + name_ + ": " + avErrorText(ret), ret);
  }
  avio_flush(io_.get());
}

void LowLatencyMuxer::closePart(int64_t nextPts90k, bool lastOfSegment) {
  if (!partOpen_) return;
  partOpen_ = false;
  flushFragment();
  size_t from = 0;
  if (!initWritten_) {
    // delay_moov: the first flush writes ftyp+moov only; the fragment comes with the next.
    from = firstMoof(written_.data(), written_.size());
    if (from == 0) {
      from = written_.size();
      flushFragment();
    }
    if (from == 0 || from >= written_.size()) throw Error("ERR_MUX", kStep, "the fMP4 muxer of " + name_ + " wrote no fragment");
    writeFileAtomically(pathOf(name_ + "_init.mp4"), std::vector<uint8_t>(written_.begin(), written_.begin() + static_cast<std::ptrdiff_t>(from)), "ERR_OUTPUT", kStep);
    initWritten_ = true;
  }
  std::vector<uint8_t> part;
  klvPackets_ += pendingKlv_.takeBefore(nextPts90k, part);
  part.insert(part.end(), written_.begin() + static_cast<std::ptrdiff_t>(from), written_.end());
  written_.clear();
  const std::string uri = partUri(segmentIndex_, partIndex_);
  writeFileAtomically(pathOf(uri), part, "ERR_OUTPUT", kStep);
  segmentBytes_.insert(segmentBytes_.end(), part.begin(), part.end());
  // The media written so far ends the part: after a break the next frame comes much later.
  const double end = mediaEnd_;
  LivePart lp;
  lp.uri = uri;
  lp.duration = std::max(0.0, end - partStart_);
  lp.independent = partIndependent_;
  ++partIndex_;
  // The next part is this segment's next one, or the next segment's first.
  playlist_->addPart(lp, finished_ ? std::string() : lastOfSegment ? partUri(segmentIndex_ + 1, 0) : partUri(segmentIndex_, partIndex_));
}

void LowLatencyMuxer::closeSegment(int64_t nextPts90k) {
  if (!segmentOpen_) return;
  closePart(nextPts90k, true);
  segmentOpen_ = false;
  const std::string uri = segmentUri(segmentIndex_);
  writeFileAtomically(pathOf(uri), segmentBytes_, "ERR_OUTPUT", kStep);
  LiveSegment s;
  s.uri = uri;
  s.duration = std::max(0.0, mediaEnd_ - segmentStart_);
  s.programDateTimeMs = segmentArrivalMs_;
  s.discontinuity = segmentDiscontinuity_;
  s.bytes = static_cast<int64_t>(segmentBytes_.size());
  segmentBytes_.clear();
  std::error_code ec;
  for (const std::string& gone : playlist_->add(s)) std::filesystem::remove(pathOf(gone), ec);
  ++segmentIndex_;
  ++segmentsListed_;
}

void LowLatencyMuxer::finish() {
  if (!opened_ || finished_) return;
  finished_ = true;
  closeSegment(AV_NOPTS_VALUE);
  const int ret = av_write_trailer(ctx_.get());  // skip_trailer: frees the muxer's state, writes nothing we keep
  cancel_.throwIfStopped(kStep);
  checkAv(ret, "ERR_MUX", kStep, "cannot finish the fMP4 output of " + name_);
  playlist_->end();
}

const AVCodecParameters* LowLatencyMuxer::videoParameters() const { return ctx_ && videoIndex_ >= 0 ? ctx_->streams[videoIndex_]->codecpar : nullptr; }
const AVCodecParameters* LowLatencyMuxer::audioParameters() const { return ctx_ && audioIndex_ >= 0 ? ctx_->streams[audioIndex_]->codecpar : nullptr; }

}  // namespace fmv
