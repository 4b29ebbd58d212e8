#include "core/ingest_timeline.h"

#include <algorithm>

namespace fmv {
namespace {

constexpr int64_t kForwardJumpUs = 10 * AV_TIME_BASE;  // as the ffmpeg command's dts_delta_threshold
constexpr int64_t kBackwardSlackUs = AV_TIME_BASE / 10;

}  // namespace

TimelineMender::TimelineMender(const AVFormatContext* fmt, const std::vector<int>& referenceStreams)
    : enabled_(fmt && fmt->iformat && (fmt->iformat->flags & AVFMT_TS_DISCONT)),
      reference_(fmt ? fmt->nb_streams : 0, false),
      nextDts_(fmt ? fmt->nb_streams : 0, AV_NOPTS_VALUE),
      lastDts_(fmt ? fmt->nb_streams : 0, AV_NOPTS_VALUE) {
  for (int i : referenceStreams)
    if (i >= 0 && static_cast<size_t>(i) < reference_.size()) reference_[static_cast<size_t>(i)] = true;
}

double TimelineMender::mend(AVPacket* packet, const AVStream* stream) {
  if ((!enabled_ && gapUs_ == 0) || !stream) return 0;
  const size_t i = static_cast<size_t>(stream->index);
  if (i >= reference_.size()) {
    // A stream that appeared after the header: grows the tables, not a reference.
    reference_.resize(i + 1, false);
    nextDts_.resize(i + 1, AV_NOPTS_VALUE);
    lastDts_.resize(i + 1, AV_NOPTS_VALUE);
  }
  const int64_t raw = packet->dts != AV_NOPTS_VALUE ? packet->dts : packet->pts;
  double jump = 0;
  if (raw != AV_NOPTS_VALUE && gapUs_ > 0 && !reference_[i]) {
    // Before the first reference packet after a break, the new clock's place is not known yet (and
    // the demuxer may still hand over what it held from before the break): KLV and other streams
    // are placed where the references will resume, so their times never run backwards.
    int64_t heading = AV_NOPTS_VALUE;
    for (size_t k = 0; k < reference_.size(); ++k)
      if (reference_[k] && nextDts_[k] != AV_NOPTS_VALUE) heading = heading == AV_NOPTS_VALUE ? nextDts_[k] : std::max(heading, nextDts_[k]);
    if (heading != AV_NOPTS_VALUE) {
      const int64_t at = av_rescale_q(heading + gapUs_, AV_TIME_BASE_Q, stream->time_base);
      packet->pts = packet->pts != AV_NOPTS_VALUE ? at : AV_NOPTS_VALUE;
      packet->dts = packet->dts != AV_NOPTS_VALUE ? at : AV_NOPTS_VALUE;
      lastDts_[i] = heading + gapUs_;
      return 0;
    }
  }
  if (raw != AV_NOPTS_VALUE && reference_[i]) {
    int64_t dts = av_rescale_q(raw, stream->time_base, AV_TIME_BASE_Q) + offset_;
    if (gapUs_ > 0 && nextDts_[i] != AV_NOPTS_VALUE) {
      offset_ += nextDts_[i] + gapUs_ - dts;
      dts = nextDts_[i] + gapUs_;
      gapUs_ = 0;
    } else if (enabled_ && nextDts_[i] != AV_NOPTS_VALUE) {
      const int64_t delta = dts - nextDts_[i];
      if (delta > kForwardJumpUs || delta < -kForwardJumpUs || (lastDts_[i] != AV_NOPTS_VALUE && dts + kBackwardSlackUs < lastDts_[i])) {
        offset_ -= delta;
        dts -= delta;
        jump = static_cast<double>(delta) / AV_TIME_BASE;
      }
    }
    const int64_t duration = packet->duration > 0 ? av_rescale_q(packet->duration, stream->time_base, AV_TIME_BASE_Q) : 0;
    lastDts_[i] = dts;
    nextDts_[i] = dts + duration;
  }
  if (offset_ != 0) {
    const int64_t shift = av_rescale_q(offset_, AV_TIME_BASE_Q, stream->time_base);
    if (packet->pts != AV_NOPTS_VALUE) packet->pts += shift;
    if (packet->dts != AV_NOPTS_VALUE) packet->dts += shift;
  }
  if (!reference_[i] && packet->pts != AV_NOPTS_VALUE) {
    // Around a break the demuxer hands over packets it held from before it, and the offset settles
    // on the new clock a few packets late: a stream's own times still never run backwards.
    const int64_t t = av_rescale_q(packet->pts, stream->time_base, AV_TIME_BASE_Q);
    if (broken_ && lastDts_[i] != AV_NOPTS_VALUE && t < lastDts_[i]) {
      packet->pts = av_rescale_q(lastDts_[i], AV_TIME_BASE_Q, stream->time_base);
      if (packet->dts != AV_NOPTS_VALUE) packet->dts = packet->pts;
    }
    lastDts_[i] = std::max(lastDts_[i] == AV_NOPTS_VALUE ? t : lastDts_[i], t);
  }
  return jump;
}

}  // namespace fmv
