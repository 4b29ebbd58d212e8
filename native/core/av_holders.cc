#include "core/av_holders.h"

#include "core/error.h"
#include "core/ingest_log.h"

namespace fmv {

FramePtr makeFrame() {
  FramePtr f(av_frame_alloc());
  if (!f) throw Error("ERR_NO_MEMORY", "alloc", "out of memory allocating a frame");
  return f;
}
PacketPtr makePacket() {
  PacketPtr p(av_packet_alloc());
  if (!p) throw Error("ERR_NO_MEMORY", "alloc", "out of memory allocating a packet");
  return p;
}
CodecContextPtr makeCodecContext(const AVCodec* codec, const char* step, const std::string& what) {
  CodecContextPtr ctx(avcodec_alloc_context3(codec));
  if (!ctx) throw Error("ERR_NO_MEMORY", step, "out of memory allocating " + what);
  // Frame-threading copies of the context keep its opaque pointer: that is how their lines are
  // routed. A caller that needs opaque for itself claims its own pointer (LogClaim).
  ctx->opaque = ctx.get();
  claimLogsOf(ctx.get());
  return ctx;
}
FilterGraphPtr makeFilterGraph(const char* step) {
  FilterGraphPtr g(avfilter_graph_alloc());
  if (!g) throw Error("ERR_NO_MEMORY", step, "out of memory allocating a filter graph");
  claimLogsOf(g.get());
  return g;
}

}  // namespace fmv
