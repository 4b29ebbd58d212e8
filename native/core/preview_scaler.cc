#include "core/preview_scaler.h"

#include <cmath>
#include <cstring>

#include "core/error.h"

extern "C" {
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

namespace fmv {
namespace {

int evenAtLeast2(double v) {
  const int even = 2 * static_cast<int>(std::lround(v / 2.0));
  return even < 2 ? 2 : even;
}

bool isFullRange(const AVFrame* f) {
  switch (f->format) {
    case AV_PIX_FMT_YUVJ420P:
    case AV_PIX_FMT_YUVJ422P:
    case AV_PIX_FMT_YUVJ444P:
    case AV_PIX_FMT_YUVJ440P:
    case AV_PIX_FMT_YUVJ411P:
      return true;
    default:
      return f->color_range == AVCOL_RANGE_JPEG;
  }
}

int swsColorspaceOf(const AVFrame* f) {
  switch (f->colorspace) {
    case AVCOL_SPC_BT709: return SWS_CS_ITU709;
    case AVCOL_SPC_FCC: return SWS_CS_FCC;
    case AVCOL_SPC_SMPTE240M: return SWS_CS_SMPTE240M;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL: return SWS_CS_BT2020;
    default: return SWS_CS_ITU601;
  }
}

// swscale wants the range as a flag, not as the deprecated J formats (same memory layout).
AVPixelFormat withoutJ(int format) {
  switch (format) {
    case AV_PIX_FMT_YUVJ420P: return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P: return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P: return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P: return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P: return AV_PIX_FMT_YUV411P;
    default: return static_cast<AVPixelFormat>(format);
  }
}

bool isYuv(int format) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(format));
  return d && !(d->flags & AV_PIX_FMT_FLAG_RGB) && d->nb_components >= 3;
}

}  // namespace

AVRational displayAspectOf(const AVFrame* frame, AVRational override) {
  if (override.num > 0 && override.den > 0) return override;
  AVRational sar = frame->sample_aspect_ratio;
  if (sar.num <= 0 || sar.den <= 0) sar = AVRational{1, 1};
  AVRational dar{1, 1};
  av_reduce(&dar.num, &dar.den, static_cast<int64_t>(frame->width) * sar.num, static_cast<int64_t>(frame->height) * sar.den, 1 << 20);
  return dar.num > 0 && dar.den > 0 ? dar : AVRational{frame->width, frame->height};
}

PictureSize displaySize(int codedHeight, AVRational dar, int maxWidth) {
  double width = codedHeight * av_q2d(dar);
  double height = codedHeight;
  if (maxWidth > 0 && width > maxWidth) {
    height = height * maxWidth / width;
    width = maxWidth;
  }
  return PictureSize{evenAtLeast2(width), evenAtLeast2(height)};
}

int heightForWidth(int width, AVRational dar) { return evenAtLeast2(width / av_q2d(dar)); }

FramePtr allocFrame(int width, int height, AVPixelFormat format, const char* code, const char* step) {
  FramePtr f = makeFrame();
  f->width = width;
  f->height = height;
  f->format = format;
  if (format == AV_PIX_FMT_YUVJ420P) f->color_range = AVCOL_RANGE_JPEG;
  checkAv(av_frame_get_buffer(f.get(), 0), code, step, "cannot allocate a " + std::to_string(width) + "x" + std::to_string(height) + " picture");
  return f;
}

void fillBlack(AVFrame* f) {
  const int chromaHeight = (f->height + 1) / 2;
  for (int y = 0; y < f->height; ++y) std::memset(f->data[0] + static_cast<ptrdiff_t>(y) * f->linesize[0], 0, f->width);
  for (int p = 1; p <= 2; ++p)
    for (int y = 0; y < chromaHeight; ++y) std::memset(f->data[p] + static_cast<ptrdiff_t>(y) * f->linesize[p], 128, (f->width + 1) / 2);
}

void FrameScaler::scale(const AVFrame* src, AVFrame* dst, const char* code, const char* step) {
  if (src->hw_frames_ctx) throw Error(code, step, "expected a software frame but received a hardware frame");
  if (src->width <= 0 || src->height <= 0 || src->format < 0) throw Error(code, step, "received a frame without a picture");
  // The ranges go in before swscale sets itself up: told afterwards (sws_setColorspaceDetails), a
  // same-size, same-format conversion keeps the plain copy path it chose and limited-range video
  // comes out washed out in a full-range JPEG.
  const bool srcFull = isYuv(src->format) && isFullRange(src);
  const bool dstFull = isYuv(dst->format) && isFullRange(dst);
  const int key[] = {src->width, src->height, withoutJ(src->format), srcFull, dst->width, dst->height, withoutJ(dst->format), dstFull};
  if (!ctx_ || std::memcmp(key, key_, sizeof key) != 0) {
    SwsPtr c(sws_alloc_context());
    if (!c) throw Error("ERR_NO_MEMORY", step, "out of memory allocating a scaler");
    const std::pair<const char*, int64_t> options[] = {
        {"srcw", src->width}, {"srch", src->height}, {"src_format", withoutJ(src->format)}, {"src_range", srcFull},
        {"dstw", dst->width}, {"dsth", dst->height}, {"dst_format", withoutJ(dst->format)}, {"dst_range", dstFull},
        {"sws_flags", flags_},
    };
    for (const auto& [name, value] : options) checkAv(av_opt_set_int(c.get(), name, value, 0), code, step, std::string("cannot set the scaler's ") + name);
    if (sws_init_context(c.get(), nullptr, nullptr) < 0) {
      const char* name = av_get_pix_fmt_name(static_cast<AVPixelFormat>(src->format));
      throw Error(code, step, std::string("cannot convert frames of pixel format ") + (name ? name : "unknown"), AVERROR(EINVAL));
    }
    ctx_ = std::move(c);
    std::memcpy(key_, key, sizeof key);
  }
  // Decoders tag range and matrix on the frame; swscale only knows them when told.
  if (isYuv(src->format)) {
    const int ret = sws_setColorspaceDetails(ctx_.get(), sws_getCoefficients(swsColorspaceOf(src)), srcFull ? 1 : 0, sws_getCoefficients(SWS_CS_ITU601),
                                             dstFull ? 1 : 0, 0, 1 << 16, 1 << 16);
    if (ret < 0) throw Error(code, step, "cannot set up colour conversion", AVERROR(EINVAL));
  }
  const int rows = sws_scale(ctx_.get(), src->data, src->linesize, 0, src->height, dst->data, dst->linesize);
  if (rows <= 0) throw Error(code, step, "cannot scale the frame", rows < 0 ? rows : AVERROR(EINVAL));
}

}  // namespace fmv
