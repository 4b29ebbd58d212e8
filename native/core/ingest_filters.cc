#include "core/ingest_filters.h"

#include "core/error.h"

extern "C" {
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

namespace fmv {
namespace {

struct BufferSrcParamsFree {
  void operator()(AVBufferSrcParameters* p) const { av_free(p); }
};

std::string rationalText(AVRational r) { return std::to_string(r.num) + "/" + std::to_string(r.den); }

AVFilterContext* createFilter(AVFilterGraph* g, const char* filterName, const char* name, const std::string& args, const char* step) {
  const AVFilter* f = avfilter_get_by_name(filterName);
  if (!f) throw Error("ERR_FILTER", step, std::string("FFmpeg was built without the ") + filterName + " filter");
  AVFilterContext* ctx = nullptr;
  checkAv(avfilter_graph_create_filter(&ctx, f, name, args.empty() ? nullptr : args.c_str(), nullptr, g), "ERR_FILTER", step,
          std::string("cannot create the ") + filterName + " filter (" + args + ")");
  return ctx;
}

}  // namespace

VideoFilterInput describeFrame(const AVFrame* frame, AVRational timeBase, AVRational frameRate) {
  VideoFilterInput in;
  in.width = frame->width;
  in.height = frame->height;
  in.format = frame->format;
  in.timeBase = timeBase;
  in.sampleAspect = frame->sample_aspect_ratio.num > 0 ? frame->sample_aspect_ratio : AVRational{1, 1};
  in.frameRate = frameRate;
  in.hwFrames = frame->hw_frames_ctx;
  in.hwFramesId = frame->hw_frames_ctx ? frame->hw_frames_ctx->data : nullptr;
  return in;
}

bool sameInput(const VideoFilterInput& a, const VideoFilterInput& b) {
  return a.width == b.width && a.height == b.height && a.format == b.format && a.hwFramesId == b.hwFramesId &&
         av_cmp_q(a.timeBase, b.timeBase) == 0;
}

FilterGraph FilterGraph::video(const VideoFilterInput& in, const std::string& description, AVBufferRef* hwDevice, const char* step) {
  FilterGraph fg;
  fg.step_ = step;
  fg.graph_ = makeFilterGraph(step);
  const char* pix = av_get_pix_fmt_name(static_cast<AVPixelFormat>(in.format));
  if (!pix) throw Error("ERR_FILTER", step, "decoded frames have an unknown pixel format");
  std::string args = "video_size=" + std::to_string(in.width) + "x" + std::to_string(in.height) + ":pix_fmt=" + pix +
                     ":time_base=" + rationalText(in.timeBase) + ":pixel_aspect=" + rationalText(in.sampleAspect);
  if (in.frameRate.num > 0 && in.frameRate.den > 0) args += ":frame_rate=" + rationalText(in.frameRate);
  fg.src_ = createFilter(fg.graph_.get(), "buffer", "in", args, step);
  if (in.hwFrames) {
    std::unique_ptr<AVBufferSrcParameters, BufferSrcParamsFree> par(av_buffersrc_parameters_alloc());
    if (!par) throw Error("ERR_NO_MEMORY", step, "out of memory configuring a filter graph");
    par->format = in.format;
    par->hw_frames_ctx = in.hwFrames;  // av_buffersrc_parameters_set takes its own reference
    checkAv(av_buffersrc_parameters_set(fg.src_, par.get()), "ERR_FILTER", step, "cannot hand device frames to the filter graph");
  }
  fg.sink_ = createFilter(fg.graph_.get(), "buffersink", "out", "", step);
  fg.finish(description.empty() ? "null" : description, hwDevice, step);
  return fg;
}

FilterGraph FilterGraph::audio(const AudioFilterInput& in, const std::string& description, int frameSize, const char* step) {
  FilterGraph fg;
  fg.step_ = step;
  fg.graph_ = makeFilterGraph(step);
  char layout[128] = {0};
  if (av_channel_layout_describe(&in.layout, layout, sizeof layout) < 0) throw Error("ERR_FILTER", step, "audio has an unusable channel layout");
  const char* fmt = av_get_sample_fmt_name(static_cast<AVSampleFormat>(in.format));
  if (!fmt) throw Error("ERR_FILTER", step, "decoded audio has an unknown sample format");
  const std::string args = "time_base=" + rationalText(in.timeBase) + ":sample_rate=" + std::to_string(in.sampleRate) + ":sample_fmt=" + fmt +
                           ":channel_layout=" + layout;
  fg.src_ = createFilter(fg.graph_.get(), "abuffer", "in", args, step);
  fg.sink_ = createFilter(fg.graph_.get(), "abuffersink", "out", "", step);
  fg.finish(description.empty() ? "anull" : description, nullptr, step);
  if (frameSize > 0) av_buffersink_set_frame_size(fg.sink_, static_cast<unsigned>(frameSize));
  return fg;
}

void FilterGraph::finish(const std::string& description, AVBufferRef* hwDevice, const char* step) {
  description_ = description;
  AVFilterInOut* outputs = avfilter_inout_alloc();
  FilterInOutPtr outputsHolder(outputs);
  AVFilterInOut* inputs = avfilter_inout_alloc();
  FilterInOutPtr inputsHolder(inputs);
  if (!outputs || !inputs) throw Error("ERR_NO_MEMORY", step, "out of memory configuring a filter graph");
  outputs->name = av_strdup("in");
  outputs->filter_ctx = src_;
  inputs->name = av_strdup("out");
  inputs->filter_ctx = sink_;
  AVFilterInOut* outs = outputsHolder.release();
  AVFilterInOut* ins = inputsHolder.release();
  const int ret = avfilter_graph_parse_ptr(graph_.get(), description.c_str(), &ins, &outs, nullptr);
  avfilter_inout_free(&ins);
  avfilter_inout_free(&outs);
  checkAv(ret, "ERR_FILTER", step, "cannot build the filter graph '" + description + "'");
  if (hwDevice) {
    for (unsigned i = 0; i < graph_->nb_filters; ++i) {
      AVFilterContext* f = graph_->filters[i];
      if (f->hw_device_ctx) continue;
      f->hw_device_ctx = av_buffer_ref(hwDevice);
      if (!f->hw_device_ctx) throw Error("ERR_NO_MEMORY", step, "out of memory configuring a filter graph");
    }
  }
  checkAv(avfilter_graph_config(graph_.get(), nullptr), "ERR_FILTER", step, "cannot configure the filter graph '" + description + "'");
}

void FilterGraph::push(const AVFrame* frame) {
  // KEEP_REF: the same decoded frame feeds several graphs (one per rung).
  const int ret = av_buffersrc_add_frame_flags(src_, const_cast<AVFrame*>(frame), AV_BUFFERSRC_FLAG_KEEP_REF);
  if (ret == AVERROR_EOF && !frame) return;
  checkAv(ret, "ERR_FILTER", step_.c_str(), "filter graph '" + description_ + "' refused a frame");
}

bool FilterGraph::pull(AVFrame* out) {
  const int ret = av_buffersink_get_frame(sink_, out);
  if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return false;
  checkAv(ret, "ERR_FILTER", step_.c_str(), "filter graph '" + description_ + "' failed");
  return true;
}

AVRational FilterGraph::outputTimeBase() const { return av_buffersink_get_time_base(sink_); }
int FilterGraph::outputFormat() const { return av_buffersink_get_format(sink_); }
int FilterGraph::outputWidth() const { return av_buffersink_get_w(sink_); }
int FilterGraph::outputHeight() const { return av_buffersink_get_h(sink_); }
int FilterGraph::outputSampleRate() const { return av_buffersink_get_sample_rate(sink_); }
AVBufferRef* FilterGraph::outputHwFrames() const { return av_buffersink_get_hw_frames_ctx(sink_); }

}  // namespace fmv
