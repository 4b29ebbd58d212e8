#include "core/synth.h"

#include <sys/stat.h>

#include <cstdio>
#include <functional>

#include "core/av_holders.h"
#include "core/error.h"

extern "C" {
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
}

namespace fmv {
namespace {

constexpr const char* kStep = "synthesize";

// A source-only filter graph ("testsrc2=..." or "sine=...") ending in a buffersink.
struct SourceGraph {
  FilterGraphPtr graph;
  AVFilterContext* sink = nullptr;
};

SourceGraph makeSourceGraph(const std::string& description, bool audio) {
  SourceGraph g;
  g.graph = makeFilterGraph(kStep);
  const AVFilter* sinkFilter = avfilter_get_by_name(audio ? "abuffersink" : "buffersink");
  checkAv(avfilter_graph_create_filter(&g.sink, sinkFilter, "out", nullptr, nullptr, g.graph.get()), "ERR_FILTER", kStep, "cannot create sink");
  FilterInOutPtr outputs;
  FilterInOutPtr inputs(avfilter_inout_alloc());
  if (!inputs) throw Error("ERR_NO_MEMORY", kStep, "out of memory");
  inputs->name = av_strdup("out");
  inputs->filter_ctx = g.sink;
  inputs->pad_idx = 0;
  inputs->next = nullptr;
  AVFilterInOut* in = inputs.release();
  AVFilterInOut* out = nullptr;
  const int ret = avfilter_graph_parse_ptr(g.graph.get(), description.c_str(), &in, &out, nullptr);
  inputs.reset(in);
  outputs.reset(out);
  checkAv(ret, "ERR_FILTER", kStep, "cannot parse filter graph '" + description + "'");
  checkAv(avfilter_graph_config(g.graph.get(), nullptr), "ERR_FILTER", kStep, "cannot configure filter graph '" + description + "'");
  return g;
}

CodecContextPtr openEncoder(const char* name, AVFormatContext* mux, const std::function<void(AVCodecContext*)>& configure, AVDictionary** opts) {
  const AVCodec* codec = avcodec_find_encoder_by_name(name);
  if (!codec) throw Error("ERR_ENCODER_UNAVAILABLE", kStep, std::string("encoder ") + name + " is not available in this FFmpeg build");
  CodecContextPtr ctx = makeCodecContext(codec, kStep, std::string("the ") + codec->name + " encoder");
  configure(ctx.get());
  if (mux->oformat->flags & AVFMT_GLOBALHEADER) ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  checkAv(avcodec_open2(ctx.get(), codec, opts), "ERR_ENCODE", kStep, std::string("cannot open encoder ") + name);
  return ctx;
}

void drainEncoder(AVCodecContext* enc, AVStream* st, AVFormatContext* mux, AVPacket* pkt, int64_t& count) {
  for (;;) {
    const int ret = avcodec_receive_packet(enc, pkt);
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return;
    checkAv(ret, "ERR_ENCODE", kStep, "encoding failed");
    av_packet_rescale_ts(pkt, enc->time_base, st->time_base);
    pkt->stream_index = st->index;
    checkAv(av_interleaved_write_frame(mux, pkt), "ERR_MUX", kStep, "cannot write packet");
    ++count;
  }
}

// One KLV unit as its own packet, with its PTS (hls.js drops KLV without one).
void writeKlvUnit(AVFormatContext* mux, const AVStream* st, const SynthKlvUnit& u) {
  PacketPtr kp = makePacket();
  checkAv(av_new_packet(kp.get(), static_cast<int>(u.data.size())), "ERR_NO_MEMORY", kStep, "cannot allocate KLV packet");
  std::copy(u.data.begin(), u.data.end(), kp->data);
  kp->pts = kp->dts = static_cast<int64_t>(u.seconds * 90000.0 + 0.5);
  kp->stream_index = st->index;
  checkAv(av_interleaved_write_frame(mux, kp.get()), "ERR_MUX", kStep, "cannot write KLV packet");
}

SynthResult writeClip(const SynthOptions& o, const std::string& tmpPath, CancelToken& cancel) {
  SynthResult result;
  AVFormatContext* rawMux = nullptr;
  checkAv(avformat_alloc_output_context2(&rawMux, nullptr, "mpegts", tmpPath.c_str()), "ERR_OUTPUT", kStep, "cannot create MPEG-TS muxer");
  OutputContextPtr mux(rawMux);

  char videoGraph[512];
  std::snprintf(videoGraph, sizeof videoGraph, "testsrc2=size=%dx%d:rate=%d/%d:duration=%.6f,setsar=%d/%d,format=yuv420p", o.width, o.height, o.fpsNum,
                o.fpsDen, o.durationSeconds, o.sarNum, o.sarDen);
  SourceGraph video = makeSourceGraph(videoGraph, false);
  const AVRational frameRate{o.fpsNum, o.fpsDen};

  AVStream* vst = avformat_new_stream(mux.get(), nullptr);
  AVDictionary* vopts = nullptr;
  av_dict_set(&vopts, "preset", o.preset.c_str(), 0);
  if (o.videoBitRate == 0) av_dict_set(&vopts, "crf", "23", 0);
  CodecContextPtr venc = openEncoder("libx264", mux.get(), [&](AVCodecContext* c) {
    c->width = o.width;
    c->height = o.height;
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->time_base = av_inv_q(frameRate);
    c->framerate = frameRate;
    c->sample_aspect_ratio = AVRational{o.sarNum, o.sarDen};
    c->gop_size = o.gopFrames > 0 ? o.gopFrames : static_cast<int>(frameRate.num / frameRate.den + 0.5);
    c->max_b_frames = 2;
    if (o.videoBitRate > 0) c->bit_rate = o.videoBitRate;
    if (o.interlaced) {
      c->flags |= AV_CODEC_FLAG_INTERLACED_DCT | AV_CODEC_FLAG_INTERLACED_ME;
      c->field_order = AV_FIELD_TT;
    }
  }, &vopts);
  av_dict_free(&vopts);
  checkAv(avcodec_parameters_from_context(vst->codecpar, venc.get()), "ERR_OUTPUT", kStep, "cannot set video parameters");
  vst->time_base = venc->time_base;

  SourceGraph audio;
  CodecContextPtr aenc;
  AVStream* ast = nullptr;
  if (o.audio) {
    char audioGraph[256];
    std::snprintf(audioGraph, sizeof audioGraph, "sine=frequency=440:sample_rate=48000:duration=%.6f,aformat=sample_fmts=fltp:channel_layouts=stereo", o.durationSeconds);
    audio = makeSourceGraph(audioGraph, true);
    ast = avformat_new_stream(mux.get(), nullptr);
    aenc = openEncoder("aac", mux.get(), [&](AVCodecContext* c) {
      c->sample_rate = 48000;
      c->sample_fmt = AV_SAMPLE_FMT_FLTP;
      av_channel_layout_default(&c->ch_layout, 2);
      c->bit_rate = 128000;
      c->time_base = AVRational{1, 48000};
    }, nullptr);
    av_buffersink_set_frame_size(audio.sink, static_cast<unsigned>(aenc->frame_size));
    checkAv(avcodec_parameters_from_context(ast->codecpar, aenc.get()), "ERR_OUTPUT", kStep, "cannot set audio parameters");
    ast->time_base = aenc->time_base;
  }

  AVStream* kst = nullptr;
  if (!o.klv.empty()) {
    kst = avformat_new_stream(mux.get(), nullptr);
    kst->codecpar->codec_type = AVMEDIA_TYPE_DATA;
    kst->codecpar->codec_id = AV_CODEC_ID_SMPTE_KLV;
    kst->codecpar->codec_tag = MKTAG('K', 'L', 'V', 'A');
    kst->codecpar->profile = o.klvSync ? 0 /* KLVA sync */ : 1 /* KLVA async */;
    kst->time_base = AVRational{1, 90000};
  }

  checkAv(avio_open2(&mux->pb, tmpPath.c_str(), AVIO_FLAG_WRITE, nullptr, nullptr), "ERR_OUTPUT", kStep, "cannot create " + tmpPath);
  checkAv(avformat_write_header(mux.get(), nullptr), "ERR_MUX", kStep, "cannot write MPEG-TS header");

  FramePtr frame = makeFrame();
  PacketPtr pkt = makePacket();
  size_t nextKlv = 0;
  const AVRational vtb = av_buffersink_get_time_base(video.sink);
  bool videoDone = false;
  bool audioDone = !o.audio;
  int64_t audioSamples = 0;
  while (!videoDone || !audioDone) {
    cancel.throwIfStopped(kStep);
    // Interleave by time: take whichever source is behind.
    const double videoTime = static_cast<double>(result.videoFrames) * frameRate.den / frameRate.num;
    const double audioTime = static_cast<double>(audioSamples) / 48000.0;
    const bool takeVideo = !videoDone && (audioDone || videoTime <= audioTime);
    if (takeVideo) {
      const int ret = av_buffersink_get_frame(video.sink, frame.get());
      if (ret == AVERROR_EOF) {
        videoDone = true;
        checkAv(avcodec_send_frame(venc.get(), nullptr), "ERR_ENCODE", kStep, "cannot flush video encoder");
      } else {
        checkAv(ret, "ERR_FILTER", kStep, "test pattern source failed");
        frame->pts = av_rescale_q(frame->pts, vtb, venc->time_base);
        if (o.interlaced) {
          frame->interlaced_frame = 1;
          frame->top_field_first = 1;
        }
        // KLV units due by this frame's time go out just before it.
        const double t = static_cast<double>(frame->pts) * av_q2d(venc->time_base);
        while (kst && nextKlv < o.klv.size() && o.klv[nextKlv].seconds <= t + 1e-9) {
          writeKlvUnit(mux.get(), kst, o.klv[nextKlv++]);
          ++result.klvUnits;
        }
        checkAv(avcodec_send_frame(venc.get(), frame.get()), "ERR_ENCODE", kStep, "cannot encode video frame");
        av_frame_unref(frame.get());
        ++result.videoFrames;
      }
      int64_t written = 0;
      drainEncoder(venc.get(), vst, mux.get(), pkt.get(), written);
    } else {
      const int ret = av_buffersink_get_frame(audio.sink, frame.get());
      if (ret == AVERROR_EOF) {
        audioDone = true;
        checkAv(avcodec_send_frame(aenc.get(), nullptr), "ERR_ENCODE", kStep, "cannot flush audio encoder");
      } else {
        checkAv(ret, "ERR_FILTER", kStep, "tone source failed");
        frame->pts = audioSamples;
        audioSamples += frame->nb_samples;
        checkAv(avcodec_send_frame(aenc.get(), frame.get()), "ERR_ENCODE", kStep, "cannot encode audio frame");
        av_frame_unref(frame.get());
        ++result.audioFrames;
      }
      int64_t written = 0;
      drainEncoder(aenc.get(), ast, mux.get(), pkt.get(), written);
    }
  }
  // Units timed after the last frame still belong to the clip.
  while (kst && nextKlv < o.klv.size()) {
    writeKlvUnit(mux.get(), kst, o.klv[nextKlv++]);
    ++result.klvUnits;
  }
  checkAv(av_write_trailer(mux.get()), "ERR_MUX", kStep, "cannot finish MPEG-TS");
  checkAv(avio_closep(&mux->pb), "ERR_OUTPUT", kStep, "cannot close " + tmpPath);
  return result;
}

}  // namespace

SynthResult synthesizeClip(const SynthOptions& o, CancelToken& cancel) {
  // An existing target that is not a regular file (a device, a FIFO) is written in place:
  // renaming over it would replace it.
  struct stat existing {};
  if (::stat(o.path.c_str(), &existing) == 0 && !S_ISREG(existing.st_mode)) return writeClip(o, o.path, cancel);

  // Written beside the target and renamed at the end, so a failed run leaves nothing behind.
  const std::string tmpPath = o.path + ".partial";
  SynthResult result;
  try {
    result = writeClip(o, tmpPath, cancel);
  } catch (...) {
    std::remove(tmpPath.c_str());
    throw;
  }
  if (std::rename(tmpPath.c_str(), o.path.c_str()) != 0) {
    std::remove(tmpPath.c_str());
    throw Error("ERR_OUTPUT", kStep, "cannot move " + tmpPath + " to " + o.path);
  }
  struct stat st {};
  if (::stat(o.path.c_str(), &st) == 0) result.bytes = st.st_size;
  return result;
}

}  // namespace fmv
