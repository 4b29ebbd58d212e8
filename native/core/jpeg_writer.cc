#include "core/jpeg_writer.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "core/av_holders.h"
#include "core/error.h"

extern "C" {
#include <libavutil/error.h>
}

namespace fmv {
namespace {

// mjpeg takes a fixed quantiser scale: 2 (best) .. 31 (worst).
int qscaleFor(int quality) {
  const int q = quality < 1 ? 1 : (quality > 100 ? 100 : quality);
  return static_cast<int>(std::lround(2.0 + (100 - q) * 29.0 / 99.0));
}

struct FileClose {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

[[noreturn]] void throwErrno(const char* code, const char* step, const std::string& what, int err) {
  throw Error(code, step, what + ": " + std::strerror(err), AVERROR(err));
}

}  // namespace

std::vector<uint8_t> encodeJpeg(const AVFrame* frame, int quality, const char* code, const char* step) {
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  if (!codec) throw Error(code, step, "this FFmpeg build has no mjpeg encoder", AVERROR_ENCODER_NOT_FOUND);
  CodecContextPtr ctx = makeCodecContext(codec, step, "the JPEG encoder");
  ctx->width = frame->width;
  ctx->height = frame->height;
  ctx->pix_fmt = AV_PIX_FMT_YUVJ420P;
  ctx->color_range = AVCOL_RANGE_JPEG;
  ctx->time_base = AVRational{1, 25};
  ctx->flags |= AV_CODEC_FLAG_QSCALE;
  ctx->global_quality = qscaleFor(quality) * FF_QP2LAMBDA;
  checkAv(avcodec_open2(ctx.get(), codec, nullptr), code, step, "cannot open the JPEG encoder");

  // With a fixed quantiser the encoder reads the quality from the frame itself.
  FramePtr input = makeFrame();
  checkAv(av_frame_ref(input.get(), frame), code, step, "cannot reference the frame to encode");
  input->quality = ctx->global_quality;
  input->pict_type = AV_PICTURE_TYPE_NONE;
  input->pts = 0;
  checkAv(avcodec_send_frame(ctx.get(), input.get()), code, step, "cannot encode the JPEG image");
  checkAv(avcodec_send_frame(ctx.get(), nullptr), code, step, "cannot finish the JPEG image");

  PacketPtr pkt = makePacket();
  std::vector<uint8_t> out;
  for (;;) {
    const int ret = avcodec_receive_packet(ctx.get(), pkt.get());
    if (ret == AVERROR_EOF) break;
    checkAv(ret, code, step, "cannot encode the JPEG image");
    out.insert(out.end(), pkt->data, pkt->data + pkt->size);
    av_packet_unref(pkt.get());
  }
  if (out.empty()) throw Error(code, step, "the JPEG encoder produced no image");
  return out;
}

void writeFileAtomically(const std::string& path, const std::vector<uint8_t>& data, const char* code, const char* step) {
  const std::string tmp = path + ".tmp";
  {
    std::unique_ptr<std::FILE, FileClose> f(std::fopen(tmp.c_str(), "wb"));
    if (!f) throwErrno(code, step, "cannot create " + tmp, errno);
    const bool written = std::fwrite(data.data(), 1, data.size(), f.get()) == data.size();
    const int writeErr = errno;
    // fclose flushes: its failure means the data did not reach the file.
    const bool closed = std::fclose(f.release()) == 0;
    if (!written || !closed) {
      const int err = written ? errno : writeErr;
      std::remove(tmp.c_str());
      throwErrno(code, step, "cannot write " + tmp, err ? err : EIO);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throwErrno(code, step, "cannot rename " + tmp + " to " + path, err);
  }
}

}  // namespace fmv
