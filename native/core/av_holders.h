// RAII holders for FFmpeg objects: every object has exactly one owner and one matching free function.
#pragma once

#include <memory>
#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavformat/avformat.h>
#include <libavutil/buffer.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

namespace fmv {

// Ends a log claim (core/ingest_log.h) before the object's address can be reused.
void releaseLogsOf(const void* owner) noexcept;

struct InputContextFree {
  void operator()(AVFormatContext* ctx) const { avformat_close_input(&ctx); }
};
// An output context owns its AVIOContext when the muxer needs a file (closed before the context is freed).
struct OutputContextFree {
  void operator()(AVFormatContext* ctx) const {
    if (ctx && ctx->oformat && !(ctx->oformat->flags & AVFMT_NOFILE) && !(ctx->flags & AVFMT_FLAG_CUSTOM_IO)) avio_closep(&ctx->pb);
    avformat_free_context(ctx);
  }
};
struct CodecContextFree {
  void operator()(AVCodecContext* ctx) const {
    releaseLogsOf(ctx);
    avcodec_free_context(&ctx);
  }
};
struct FrameFree {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FilterGraphFree {
  void operator()(AVFilterGraph* g) const {
    releaseLogsOf(g);
    avfilter_graph_free(&g);
  }
};
struct FilterInOutFree {
  void operator()(AVFilterInOut* io) const { avfilter_inout_free(&io); }
};
struct BufferRefFree {
  void operator()(AVBufferRef* b) const { av_buffer_unref(&b); }
};
struct SwsFree {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
// A custom AVIOContext owns the buffer it was given (which FFmpeg may have reallocated).
struct IoContextFree {
  void operator()(AVIOContext* io) const {
    if (!io) return;
    av_freep(&io->buffer);
    avio_context_free(&io);
  }
};

using InputContextPtr = std::unique_ptr<AVFormatContext, InputContextFree>;
using OutputContextPtr = std::unique_ptr<AVFormatContext, OutputContextFree>;
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextFree>;
using FramePtr = std::unique_ptr<AVFrame, FrameFree>;
using PacketPtr = std::unique_ptr<AVPacket, PacketFree>;
using FilterGraphPtr = std::unique_ptr<AVFilterGraph, FilterGraphFree>;
using FilterInOutPtr = std::unique_ptr<AVFilterInOut, FilterInOutFree>;
using BufferRefPtr = std::unique_ptr<AVBufferRef, BufferRefFree>;
using SwsPtr = std::unique_ptr<SwsContext, SwsFree>;
using IoContextPtr = std::unique_ptr<AVIOContext, IoContextFree>;

FramePtr makeFrame();
PacketPtr makePacket();
// Both claim the log lines their worker threads write for the capture active on this thread.
// Throw ERR_NO_MEMORY at step when allocation fails.
CodecContextPtr makeCodecContext(const AVCodec* codec, const char* step, const std::string& what);
FilterGraphPtr makeFilterGraph(const char* step);

}  // namespace fmv
