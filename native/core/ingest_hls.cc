#include "core/ingest_hls.h"

#include <cstdio>
#include <filesystem>

#include "core/error.h"

extern "C" {
#include <libavutil/opt.h>
}

namespace fmv {
namespace {

constexpr const char* kStep = "hls";

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
}

int RenditionMuxer::ioOpen(AVFormatContext* s, AVIOContext** pb, const char* url, int flags, AVDictionary** options) {
  auto* self = static_cast<RenditionMuxer*>(s->opaque);
  const int ret = avio_open2(pb, url, flags, &s->interrupt_callback, options);
  if (ret >= 0) self->openFiles_.insert(*pb);
  return ret;
}

int RenditionMuxer::ioClose(AVFormatContext* s, AVIOContext* pb) {
  auto* self = static_cast<RenditionMuxer*>(s->opaque);
  self->openFiles_.erase(pb);
  AVIOContext* p = pb;
  return avio_closep(&p);
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

  AVStream* vs = avformat_new_stream(ctx_.get(), nullptr);
  if (!vs) throw Error("ERR_NO_MEMORY", kStep, "out of memory adding a stream");
  checkAv(avcodec_parameters_from_context(vs->codecpar, video), "ERR_MUX", kStep, "cannot describe the video stream of " + name_);
  vs->time_base = video->time_base;
  vs->avg_frame_rate = video->framerate;
  vs->r_frame_rate = video->framerate;
  videoIndex_ = vs->index;

  if (audio) {
    AVStream* as = avformat_new_stream(ctx_.get(), nullptr);
    if (!as) throw Error("ERR_NO_MEMORY", kStep, "out of memory adding a stream");
    checkAv(avcodec_parameters_copy(as->codecpar, audio), "ERR_MUX", kStep, "cannot describe the audio stream of " + name_);
    as->codecpar->codec_tag = 0;
    as->time_base = audioTimeBase;
    audioIndex_ = as->index;
  }

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
  if (settings_.liveWindowSegments > 0) {
    av_dict_set_int(&opts, "hls_list_size", settings_.liveWindowSegments, 0);
    av_dict_set(&opts, "hls_flags", "independent_segments+delete_segments+temp_file", 0);
  } else {
    av_dict_set(&opts, "hls_playlist_type", "vod", 0);
    av_dict_set_int(&opts, "hls_list_size", 0, 0);
    av_dict_set(&opts, "hls_flags", "independent_segments", 0);
  }
  const int ret = avformat_write_header(ctx_.get(), &opts);
  av_dict_free(&opts);
  cancel_.throwIfStopped(kStep);
  checkAv(ret, "ERR_MUX", kStep, "cannot start the HLS output of " + name_);
  opened_ = true;
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
    throw Error("ERR_MUX", kStep, "cannot write to the HLS output of " + name_ + ": " + avErrorText(ret), ret);
  }
}

void RenditionMuxer::writeVideo(const AVPacket* packet, AVRational tb) { write(videoIndex_, packet, tb); }

void RenditionMuxer::writeAudio(const AVPacket* packet, AVRational tb) {
  if (audioIndex_ >= 0) write(audioIndex_, packet, tb);
}

void RenditionMuxer::writeKlv(size_t klvIndex, const AVPacket* packet, AVRational tb) {
  if (klvIndex >= klvIndexes_.size()) return;
  write(klvIndexes_[klvIndex], packet, tb);
  ++klvPackets_;
}

void RenditionMuxer::finish() {
  if (!opened_ || finished_) return;
  finished_ = true;
  const int ret = av_write_trailer(ctx_.get());
  cancel_.throwIfStopped(kStep);
  checkAv(ret, "ERR_MUX", kStep, "cannot finish the HLS output of " + name_);
}

const AVCodecParameters* RenditionMuxer::videoParameters() const { return ctx_ && videoIndex_ >= 0 ? ctx_->streams[videoIndex_]->codecpar : nullptr; }
const AVCodecParameters* RenditionMuxer::audioParameters() const { return ctx_ && audioIndex_ >= 0 ? ctx_->streams[audioIndex_]->codecpar : nullptr; }

}  // namespace fmv
