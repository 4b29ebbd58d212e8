#include "core/ingest_video_decode.h"

#include "core/error.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace fmv {
namespace {
constexpr int kMaxDrainFailures = 64;
}  // namespace

VideoDecoder::VideoDecoder(const AVStream* stream, const HwDevice* device, bool lowDelay) : frame_(makeFrame()), device_(device), timeBase_(stream->time_base) {
  const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
  if (!codec)
    throw Error("ERR_DECODER_NOT_FOUND", "decode", std::string("no decoder for video codec ") + avcodec_get_name(stream->codecpar->codec_id));
  ctx_ = makeCodecContext(codec, "decode", "the video decoder");
  checkAv(avcodec_parameters_to_context(ctx_.get(), stream->codecpar), "ERR_DECODE", "decode", "cannot configure the video decoder");
  ctx_->pkt_timebase = stream->time_base;
  ctx_->opaque = this;
  if (device_) {
    hwFormat_ = hwDecodeFormat(codec->id, device_->type);
    if (hwFormat_ == AV_PIX_FMT_NONE)
      throw Error("ERR_HW_INIT", "hwaccel", device_->name + " cannot decode " + codec->name + " in this FFmpeg build");
    ctx_->hw_device_ctx = av_buffer_ref(device_->ctx.get());
    if (!ctx_->hw_device_ctx) throw Error("ERR_NO_MEMORY", "decode", "out of memory referencing the device");
    ctx_->get_format = &VideoDecoder::chooseFormat;
    // VAAPI decodes into a fixed surface pool that the deinterlacer, the rung graphs and encoder
    // lookahead also hold on to. NVDEC copies each picture out into a growing pool instead, and
    // extra frames there would only add decode surfaces (more than 32 fail).
    if (device_->type == AV_HWDEVICE_TYPE_VAAPI) ctx_->extra_hw_frames = 16;
  } else {
    ctx_->thread_count = 0;
    // Frame threads hold back one frame per thread; live up to 1080p decodes fast enough on slice
    // threads alone, which hold back none.
    ctx_->thread_type = lowDelay && stream->codecpar->height <= 1088 ? FF_THREAD_SLICE : FF_THREAD_FRAME | FF_THREAD_SLICE;
  }
  const int ret = avcodec_open2(ctx_.get(), codec, nullptr);
  if (ret < 0) {
    if (device_) throw Error("ERR_HW_INIT", "hwaccel", "cannot open the " + device_->name + " decoder for " + codec->name + ": " + avErrorText(ret), ret);
    throw Error("ERR_DECODE", "decode", std::string("cannot open the ") + codec->name + " decoder: " + avErrorText(ret), ret);
  }
}

AVPixelFormat VideoDecoder::chooseFormat(AVCodecContext* ctx, const AVPixelFormat* formats) {
  auto* self = static_cast<VideoDecoder*>(ctx->opaque);
  for (const AVPixelFormat* p = formats; *p != AV_PIX_FMT_NONE; ++p)
    if (*p == self->hwFormat_) return *p;
  // FFmpeg offers the device format only when the device can decode this profile (NVDEC has no
  // H.264 4:4:4, for instance); say so rather than let the decode quietly go to software.
  for (const AVPixelFormat* p = formats; *p != AV_PIX_FMT_NONE; ++p) {
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(*p);
    if (d && !(d->flags & AV_PIX_FMT_FLAG_HWACCEL)) {
      if (!self->fellBack_) {
        self->fellBack_ = true;
        const char* profile = avcodec_profile_name(ctx->codec_id, ctx->profile);
        self->fallbackReason_ = self->device_->name + " cannot decode this " + avcodec_get_name(ctx->codec_id) + (profile ? std::string(" ") + profile : "") +
                                " stream (" + (av_get_pix_fmt_name(ctx->sw_pix_fmt) ? av_get_pix_fmt_name(ctx->sw_pix_fmt) : "?") + "); decoded in software";
      }
      return *p;
    }
  }
  return AV_PIX_FMT_NONE;
}

void VideoDecoder::countError(int ret) {
  ++errors_;
  lastError_ = avErrorText(ret);
}

void VideoDecoder::decode(const AVPacket* packet, const FrameFn& onFrame) {
  int ret = avcodec_send_packet(ctx_.get(), packet);
  if (ret < 0 && ret != AVERROR_EOF && ret != AVERROR(EAGAIN)) countError(ret);
  int failures = 0;
  for (;;) {
    ret = avcodec_receive_frame(ctx_.get(), frame_.get());
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return;
    if (ret < 0) {
      countError(ret);
      // One failed frame; a drain keeps going, a packet has nothing more to give.
      if (packet || ++failures > kMaxDrainFailures) return;
      continue;
    }
    if (frame_->decode_error_flags || (frame_->flags & AV_FRAME_FLAG_CORRUPT)) ++damagedFrames_;
    frame_->pts = frame_->best_effort_timestamp;
    onFrame(frame_.get());
    av_frame_unref(frame_.get());
  }
}

std::string VideoDecoder::description() const {
  std::string name = ctx_->codec ? ctx_->codec->name : "?";
  if (onDevice()) name += device_->type == AV_HWDEVICE_TYPE_CUDA ? " (nvdec)" : " (" + device_->name + ")";
  return name;
}

}  // namespace fmv
