#include "core/klv_scan.h"

#include <cstdio>
#include <map>
#include <memory>

#include "core/error.h"
#include "core/probe.h"

namespace fmv {
namespace {

bool hasRawKlvExtension(const std::string& url) {
  const auto dot = url.find_last_of('.');
  if (dot == std::string::npos) return false;
  std::string ext = url.substr(dot + 1);
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == "klv" || ext == "bin";
}

struct FileClose {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};

bool startsWithKlvKey(const std::string& path) {
  std::unique_ptr<std::FILE, FileClose> f(std::fopen(path.c_str(), "rb"));
  if (!f) return false;
  unsigned char b[4] = {0};
  return std::fread(b, 1, 4, f.get()) == 4 && b[0] == 0x06 && b[1] == 0x0E && b[2] == 0x2B && b[3] == 0x34;
}

void emitFull(std::vector<KlvUnit>& pending, size_t batchSize, const KlvBatchHandler& onBatch, KlvScanStats& stats, bool force) {
  if (pending.empty() || (!force && pending.size() < batchSize)) return;
  stats.units += pending.size();
  std::vector<KlvUnit> batch;
  batch.swap(pending);
  onBatch(std::move(batch));
}

KlvScanStats scanRaw(const std::string& url, const KlvScanOptions& options, CancelToken& cancel, const KlvBatchHandler& onBatch) {
  const std::string path = url.rfind("file:", 0) == 0 ? url.substr(5) : url;
  std::unique_ptr<std::FILE, FileClose> f(std::fopen(path.c_str(), "rb"));
  if (!f) throw Error("ERR_INPUT_OPEN", "klv", "cannot open raw KLV input " + path);
  KlvScanStats stats;
  stats.rawInput = true;
  KlvFramer framer;
  std::vector<KlvUnit> pending;
  std::vector<uint8_t> chunk(1 << 16);
  KlvPacketInfo info;
  info.stream = 0;
  int64_t offset = 0;
  for (;;) {
    cancel.throwIfStopped("klv");
    const size_t n = std::fread(chunk.data(), 1, chunk.size(), f.get());
    if (n == 0) break;
    info.byteOffset = offset;
    framer.push(info, chunk.data(), n, pending);
    offset += static_cast<int64_t>(n);
    stats.bytes += n;
    emitFull(pending, options.batchSize, onBatch, stats, false);
  }
  if (std::ferror(f.get())) throw Error("ERR_INPUT_READ", "klv", "read error on raw KLV input " + path);
  framer.flush(pending);
  emitFull(pending, options.batchSize, onBatch, stats, true);
  stats.garbageBytes = framer.garbageBytes();
  stats.truncatedUnits = framer.truncatedUnits();
  stats.klvStreams = 1;
  return stats;
}

}  // namespace

KlvPacketInfo klvPacketInfo(const AVStream* stream, const AVPacket* packet, bool sync, const VideoClock& clock) {
  KlvPacketInfo info;
  info.stream = stream->index;
  info.pid = stream->id;
  info.sync = sync;
  info.byteOffset = packet->pos;
  if (packet->pts != AV_NOPTS_VALUE) {
    info.hasPts = true;
    info.pts = static_cast<double>(packet->pts) * av_q2d(stream->time_base);
  } else if (clock.known()) {
    info.hasPts = true;
    info.pts = clock.latest();
    info.ptsInferred = true;
  }
  return info;
}

KlvScanStats scanKlv(const std::string& url, const KlvScanOptions& options, CancelToken& cancel, const KlvBatchHandler& onBatch) {
  const bool local = isLocalPath(url);
  if (options.raw || (local && hasRawKlvExtension(url))) return scanRaw(url, options, cancel, onBatch);

  std::unique_ptr<MediaInput> input;
  try {
    input = std::make_unique<MediaInput>(url, options.input, cancel);
  } catch (const Error& e) {
    // A headerless KLV byte stream is not a format libavformat knows.
    if (e.code() == "ERR_INPUT_FORMAT" && local && startsWithKlvKey(url.rfind("file:", 0) == 0 ? url.substr(5) : url)) {
      return scanRaw(url, options, cancel, onBatch);
    }
    throw;
  }
  AVFormatContext* fmt = input->ctx();
  const int videoIndex = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);

  std::map<int, bool> klvSync;  // stream index -> sync carriage
  for (unsigned i = 0; i < fmt->nb_streams; ++i) {
    AVStream* st = fmt->streams[i];
    if (isKlvStream(st)) {
      klvSync[st->index] = describeKlvStream(*input, st).carriage == "sync";
    } else if (static_cast<int>(i) != videoIndex) {
      st->discard = AVDISCARD_ALL;  // nothing else is needed for KLV
    }
  }

  KlvScanStats stats;
  stats.klvStreams = static_cast<int>(klvSync.size());
  if (klvSync.empty()) return stats;

  std::map<int, KlvFramer> framers;
  std::vector<KlvUnit> pending;
  VideoClock clock;
  PacketPtr pkt = makePacket();
  for (;;) {
    cancel.throwIfStopped("klv");
    const int ret = input->readFrame(pkt.get());
    if (ret == AVERROR_EOF) break;
    if (ret < 0) {
      cancel.throwIfStopped("klv");
      // A damaged or cut tail: keep what was read, and say so.
      stats.damagedTail = true;
      stats.damagedTailText = avErrorText(ret);
      break;
    }
    if (pkt->stream_index == videoIndex) {
      const AVStream* vs = fmt->streams[videoIndex];
      const int64_t t = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
      if (t != AV_NOPTS_VALUE) clock.observe(static_cast<double>(t) * av_q2d(vs->time_base));
    } else if (auto it = klvSync.find(pkt->stream_index); it != klvSync.end()) {
      const AVStream* st = fmt->streams[pkt->stream_index];
      const KlvPacketInfo info = klvPacketInfo(st, pkt.get(), it->second, clock);
      const size_t before = pending.size();
      framers[pkt->stream_index].push(info, pkt->data, static_cast<size_t>(pkt->size), pending);
      for (size_t i = before; i < pending.size(); ++i) stats.inferredPts += pending[i].ptsInferred ? 1 : 0;
      ++stats.packets;
      stats.bytes += static_cast<uint64_t>(pkt->size);
      emitFull(pending, options.batchSize, onBatch, stats, false);
    }
    av_packet_unref(pkt.get());
  }
  for (auto& [index, framer] : framers) {
    framer.flush(pending);
    stats.garbageBytes += framer.garbageBytes();
    stats.truncatedUnits += framer.truncatedUnits();
  }
  emitFull(pending, options.batchSize, onBatch, stats, true);
  return stats;
}

}  // namespace fmv
