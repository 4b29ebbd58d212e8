// The ingest's read side on an in-memory input: MediaInput demux and the software VideoDecoder
// (as the single pass runs them), with KLV packets framed on the way. Bounded per input so a
// long valid stream is not decoded to its end on every run.
#include "core/error.h"
#include "core/ingest_video_decode.h"
#include "core/input.h"
#include "core/klv_framing.h"
#include "core/probe.h"
#include "memfile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::MemFile file;
  if (size < 1) return 0;
  const std::string& path = file.set(data, size);
  fmv::InputOptions options;
  options.probeSize = 64 * 1024;
  fmv::CancelToken cancel;
  try {
    fmv::MediaInput input(path, options, cancel);
    AVFormatContext* fmt = input.ctx();
    const int videoIndex = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (videoIndex < 0) return 0;
    fmv::VideoDecoder decoder(fmt->streams[videoIndex], nullptr);
    fmv::KlvFramer framer;
    std::vector<fmv::KlvUnit> units;
    fmv::PacketPtr pkt = fmv::makePacket();
    int frames = 0;
    const auto onFrame = [&](AVFrame* f) {
      FUZZ_CHECK(f->width > 0 && f->height > 0);
      ++frames;
    };
    for (int packets = 0; packets < 400; ++packets) {
      const int ret = input.readFrame(pkt.get());
      if (ret < 0) break;
      if (pkt->stream_index == videoIndex) decoder.decode(pkt.get(), onFrame);
      else if (fmv::isKlvStream(fmt->streams[pkt->stream_index]))
        framer.push(fmv::KlvPacketInfo{}, pkt->data, static_cast<size_t>(pkt->size), units);
      av_packet_unref(pkt.get());
    }
    decoder.decode(nullptr, onFrame);
    framer.flush(units);
  } catch (const fmv::Error& e) {
    FUZZ_CHECK(!e.code().empty() && !e.step().empty());
  }
  return 0;
}
