#include "core/rendition_output.h"

#include "core/error.h"

namespace fmv {

LadderStreams addLadderStreams(AVFormatContext* ctx, const AVCodecContext* video, const AVCodecParameters* audio, AVRational audioTimeBase, const std::string& name) {
  constexpr const char* kStep = "hls";
  LadderStreams out;
  AVStream* vs = avformat_new_stream(ctx, nullptr);
  if (!vs) throw Error("ERR_NO_MEMORY", kStep, "out of memory adding a stream");
  checkAv(avcodec_parameters_from_context(vs->codecpar, video), "ERR_MUX", kStep, "cannot describe the video stream of " + name);
  vs->time_base = video->time_base;
  vs->avg_frame_rate = video->framerate;
  vs->r_frame_rate = video->framerate;
  out.video = vs->index;
  if (audio) {
    AVStream* as = avformat_new_stream(ctx, nullptr);
    if (!as) throw Error("ERR_NO_MEMORY", kStep, "out of memory adding a stream");
    checkAv(avcodec_parameters_copy(as->codecpar, audio), "ERR_MUX", kStep, "cannot describe the audio stream of " + name);
    as->codecpar->codec_tag = 0;
    as->time_base = audioTimeBase;
    out.audio = as->index;
  }
  return out;
}

}  // namespace fmv
