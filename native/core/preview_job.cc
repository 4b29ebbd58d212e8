#include "core/preview_job.h"

#include <cmath>
#include <optional>

#include "core/error.h"
#include "core/preview_deinterlace.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

namespace fmv {
namespace {

constexpr const char* kStep = "previews";
constexpr int kMaxErrorsInARow = 16;

bool isInterlaced(AVFieldOrder order) { return order == AV_FIELD_TT || order == AV_FIELD_BB || order == AV_FIELD_TB || order == AV_FIELD_BT; }

double secondsOf(int64_t ts, AVRational tb) { return ts == AV_NOPTS_VALUE ? NAN : ts * av_q2d(tb); }

CodecContextPtr openDecoder(const AVStream* st) {
  const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
  if (!codec) {
    const AVCodecDescriptor* d = avcodec_descriptor_get(st->codecpar->codec_id);
    throw Error("ERR_DECODER_NOT_FOUND", "decode", std::string("no decoder for video codec ") + (d ? d->name : "unknown"), AVERROR_DECODER_NOT_FOUND);
  }
  CodecContextPtr ctx = makeCodecContext(codec, "decode", "the video decoder");
  checkAv(avcodec_parameters_to_context(ctx.get(), st->codecpar), "ERR_DECODE", "decode", "cannot set up the video decoder");
  ctx->pkt_timebase = st->time_base;
  // Slice threads add no frame delay; two cores is plenty for preview-sized work.
  ctx->thread_count = 2;
  ctx->thread_type = FF_THREAD_SLICE;
  checkAv(avcodec_open2(ctx.get(), codec, nullptr), "ERR_DECODE", "decode", std::string("cannot open the ") + codec->name + " decoder");
  return ctx;
}

class DecodeLoop {
 public:
  DecodeLoop(const AVStream* st, PreviewSink& sink, PreviewJobResult& result)
      : st_(st), decoder_(openDecoder(st)), frame_(makeFrame()), sink_(sink), result_(result) {
    if (isInterlaced(st->codecpar->field_order)) {
      deinterlacer_.emplace(st->time_base);
      result_.deinterlaced = true;
    }
  }

  void setSampleAspect(AVRational sar) { sar_ = sar; }

  // pkt: nullptr drains the decoder at the end of the input.
  void decode(const AVPacket* pkt) {
    int sent = avcodec_send_packet(decoder_.get(), pkt);
    if (sent == AVERROR(EAGAIN)) {
      // Output left over from an earlier error: take it, then the decoder accepts the packet.
      receiveAll();
      sent = avcodec_send_packet(decoder_.get(), pkt);
    }
    if (sent < 0 && sent != AVERROR_EOF) noteError(sent);
    receiveAll();
    if (!pkt && deinterlacer_) deinterlacer_->push(nullptr, [this](const AVFrame* f, double s) { emit(f, s); });
  }

  double lastSeconds() const { return lastSeconds_; }
  int lastError() const { return lastError_; }

 private:
  void receiveAll() {
    // A decoder reports a bad frame once and then moves on; the cap guards against one that does not.
    for (int errorsInARow = 0; errorsInARow < kMaxErrorsInARow;) {
      const int ret = avcodec_receive_frame(decoder_.get(), frame_.get());
      if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return;
      if (ret < 0) {
        noteError(ret);
        ++errorsInARow;
        continue;
      }
      errorsInARow = 0;
      ++result_.framesDecoded;
      // A frame the decoder had to patch up is still shown, but it is worth a warning.
      if (frame_->decode_error_flags || (frame_->flags & AV_FRAME_FLAG_CORRUPT)) {
        ++result_.damagedFrames;
        result_.lastDecodeError = "a frame decoded with errors and was concealed";
      }
      frame_->pts = frame_->best_effort_timestamp;
      if (sar_.num > 0 && sar_.den > 0) frame_->sample_aspect_ratio = sar_;
      deliver(frame_.get());
      av_frame_unref(frame_.get());
    }
  }

  void deliver(const AVFrame* f) {
    if (deinterlacer_) deinterlacer_->push(f, [this](const AVFrame* out, double s) { emit(out, s); });
    else emit(f, secondsOf(f->pts, st_->time_base));
  }
  void emit(const AVFrame* f, double seconds) {
    // Frames without timestamps (raw elementary streams) follow the frame rate from the last known time.
    if (!std::isfinite(seconds)) {
      const AVRational rate = st_->avg_frame_rate.num > 0 ? st_->avg_frame_rate : st_->r_frame_rate;
      const double step = rate.num > 0 && rate.den > 0 ? 1.0 / av_q2d(rate) : 0.04;
      seconds = std::isfinite(lastSeconds_) ? lastSeconds_ + step : 0.0;
    }
    lastSeconds_ = seconds;
    sink_.onFrame(f, seconds);
  }
  void noteError(int err) {
    ++result_.decodeErrors;
    result_.lastDecodeError = avErrorText(err);
    lastError_ = err;
  }

  const AVStream* st_;
  CodecContextPtr decoder_;
  FramePtr frame_;
  std::optional<Deinterlacer> deinterlacer_;
  PreviewSink& sink_;
  AVRational sar_{0, 1};
  PreviewJobResult& result_;
  double lastSeconds_ = NAN;
  int lastError_ = 0;
};

}  // namespace

PreviewJobResult runPreviewJob(const std::string& url, const PreviewJobOptions& options, CancelToken& cancel) {
  MediaInput input(url, options.input, cancel);
  AVFormatContext* fmt = input.ctx();
  const int index = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (index < 0) throw Error("ERR_NO_VIDEO_STREAM", "probe", "input has no video stream: " + url, index);
  AVStream* st = fmt->streams[index];
  for (unsigned i = 0; i < fmt->nb_streams; ++i) fmt->streams[i]->discard = static_cast<int>(i) == index ? AVDISCARD_DEFAULT : AVDISCARD_ALL;

  PreviewOptions previews = options.previews;
  if (!previews.startTime) {
    const double start = fmt->start_time != AV_NOPTS_VALUE ? fmt->start_time / static_cast<double>(AV_TIME_BASE) : secondsOf(st->start_time, st->time_base);
    if (std::isfinite(start)) previews.startTime = start;
  }
  if (previews.durationHint < 0) {
    if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0) previews.durationHint = fmt->duration / static_cast<double>(AV_TIME_BASE);
    else if (st->duration != AV_NOPTS_VALUE && st->duration > 0) previews.durationHint = st->duration * av_q2d(st->time_base);
  }
  if (options.durationLimit > 0 && (previews.durationHint < 0 || previews.durationHint > options.durationLimit)) previews.durationHint = options.durationLimit;

  PreviewJobResult result;
  PreviewSink sink(previews);
  DecodeLoop loop(st, sink, result);
  // The container or codec pixel aspect, applied to each frame at its own size (a fixed display
  // aspect from the opening size would stretch pictures after a resolution change).
  loop.setSampleAspect(av_guess_sample_aspect_ratio(fmt, st, nullptr));
  PacketPtr pkt = makePacket();
  // Counted from the start time, or from the first frame when the input gives none.
  double limitEnd = options.durationLimit > 0 && previews.startTime ? *previews.startTime + options.durationLimit : INFINITY;
  for (;;) {
    cancel.throwIfStopped(kStep);
    const int ret = input.readFrame(pkt.get());
    if (ret == AVERROR_EOF) break;
    if (ret < 0) {
      cancel.throwIfStopped(kStep);
      // A damaged or truncated tail ends the input; what decoded so far still counts.
      ++result.decodeErrors;
      result.lastDecodeError = "reading the input: " + avErrorText(ret);
      break;
    }
    if (pkt->stream_index == index) loop.decode(pkt.get());
    av_packet_unref(pkt.get());
    if (options.durationLimit > 0 && !std::isfinite(limitEnd) && sink.result().frames > 0) limitEnd = sink.result().startTime + options.durationLimit;
    if (loop.lastSeconds() >= limitEnd) {
      result.stoppedAtLimit = true;
      break;
    }
  }
  cancel.throwIfStopped(kStep);
  loop.decode(nullptr);
  if (result.framesDecoded == 0) {
    const std::string why = result.lastDecodeError.empty() ? "" : " (" + result.lastDecodeError + ")";
    throw Error("ERR_DECODE", "decode", "no video frame could be decoded from " + url + why, loop.lastError());
  }
  sink.finish();
  result.previews = sink.result();
  return result;
}

}  // namespace fmv
