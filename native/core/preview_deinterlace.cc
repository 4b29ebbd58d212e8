#include "core/preview_deinterlace.h"

#include <cmath>
#include <string>

#include "core/error.h"

extern "C" {
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/pixdesc.h>
}

namespace fmv {
namespace {
constexpr const char* kCode = "ERR_FILTER";
constexpr const char* kStep = "deinterlace";
}  // namespace

void Deinterlacer::build(const AVFrame* frame) {
  graph_ = makeFilterGraph(kStep);
  // One thread: the graph runs beside the decoder's own threads.
  graph_->nb_threads = 1;
  const char* pix = av_get_pix_fmt_name(static_cast<AVPixelFormat>(frame->format));
  if (!pix) throw Error(kCode, kStep, "frame has an unknown pixel format", AVERROR(EINVAL));
  const AVRational sar = frame->sample_aspect_ratio.num > 0 ? frame->sample_aspect_ratio : AVRational{1, 1};
  const std::string args = "video_size=" + std::to_string(frame->width) + "x" + std::to_string(frame->height) + ":pix_fmt=" + pix +
                           ":time_base=" + std::to_string(timeBase_.num) + "/" + std::to_string(timeBase_.den) + ":pixel_aspect=" + std::to_string(sar.num) + "/" +
                           std::to_string(sar.den);
  const AVFilter* buffer = avfilter_get_by_name("buffer");
  const AVFilter* bwdif = avfilter_get_by_name("bwdif");
  const AVFilter* buffersink = avfilter_get_by_name("buffersink");
  if (!buffer || !bwdif || !buffersink) throw Error(kCode, kStep, "this FFmpeg build lacks the buffer, bwdif or buffersink filter", AVERROR_FILTER_NOT_FOUND);

  AVFilterContext* deint = nullptr;
  checkAv(avfilter_graph_create_filter(&source_, buffer, "in", args.c_str(), nullptr, graph_.get()), kCode, kStep, "cannot create the filter source");
  // One output frame per input frame, every frame treated as interlaced: the container said so.
  checkAv(avfilter_graph_create_filter(&deint, bwdif, "deinterlace", "mode=send_frame:parity=auto:deint=all", nullptr, graph_.get()), kCode, kStep,
          "cannot create the bwdif filter");
  checkAv(avfilter_graph_create_filter(&sink_, buffersink, "out", nullptr, nullptr, graph_.get()), kCode, kStep, "cannot create the filter sink");
  checkAv(avfilter_link(source_, 0, deint, 0), kCode, kStep, "cannot link the deinterlacer");
  checkAv(avfilter_link(deint, 0, sink_, 0), kCode, kStep, "cannot link the filter sink");
  checkAv(avfilter_graph_config(graph_.get(), nullptr), kCode, kStep, "cannot configure the deinterlacing graph");
  width_ = frame->width;
  height_ = frame->height;
  format_ = frame->format;
}

void Deinterlacer::send(const AVFrame* frame) {
  // KEEP_REF: the filter takes its own reference and leaves the caller's frame alone.
  checkAv(av_buffersrc_add_frame_flags(source_, const_cast<AVFrame*>(frame), frame ? AV_BUFFERSRC_FLAG_KEEP_REF : 0), kCode, kStep,
          "cannot feed the deinterlacer");
}

bool Deinterlacer::receive(AVFrame* out, double& seconds) {
  const int ret = av_buffersink_get_frame(sink_, out);
  if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return false;
  checkAv(ret, kCode, kStep, "cannot read from the deinterlacer");
  seconds = out->pts == AV_NOPTS_VALUE ? NAN : out->pts * av_q2d(av_buffersink_get_time_base(sink_));
  return true;
}

}  // namespace fmv
