#include "core/probe.h"

#include <map>

#include "core/error.h"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/dict.h>
#include <libavutil/pixdesc.h>
}

namespace fmv {
namespace {

double toSeconds(int64_t ts, AVRational tb) {
  return ts == AV_NOPTS_VALUE ? -1.0 : static_cast<double>(ts) * av_q2d(tb);
}

Rational toRational(AVRational r) { return Rational{r.num, r.den}; }

std::string fieldOrderName(AVFieldOrder order) {
  switch (order) {
    case AV_FIELD_PROGRESSIVE: return "progressive";
    case AV_FIELD_TT: return "tt";
    case AV_FIELD_BB: return "bb";
    case AV_FIELD_TB: return "tb";
    case AV_FIELD_BT: return "bt";
    default: return "unknown";
  }
}

std::string profileName(const AVCodecParameters* par) {
  const char* name = avcodec_profile_name(par->codec_id, par->profile);
  return name ? name : "";
}

constexpr int kPesStreamIdMetadata = 0xFC;

}  // namespace

bool isKlvStream(const AVStream* stream) {
  return stream->codecpar->codec_type == AVMEDIA_TYPE_DATA && stream->codecpar->codec_id == AV_CODEC_ID_SMPTE_KLV;
}

int pidOf(const AVStream* st, bool transportStream) { return transportStream ? st->id : -1; }

VideoStreamInfo describeVideoStream(const AVStream* st, bool transportStream) {
  const AVCodecParameters* par = st->codecpar;
  VideoStreamInfo v;
  v.index = st->index;
  v.pid = pidOf(st, transportStream);
  const AVCodecDescriptor* desc = avcodec_descriptor_get(par->codec_id);
  v.codec = desc ? desc->name : "unknown";
  v.codecLongName = desc && desc->long_name ? desc->long_name : "";
  v.profile = profileName(par);
  v.level = par->level;
  v.width = par->width;
  v.height = par->height;
  const char* pix = av_get_pix_fmt_name(static_cast<AVPixelFormat>(par->format));
  v.pixelFormat = pix ? pix : "unknown";
  v.frameRate = toRational(st->avg_frame_rate);
  v.realFrameRate = toRational(st->r_frame_rate);
  AVRational sar = par->sample_aspect_ratio.num ? par->sample_aspect_ratio : st->sample_aspect_ratio;
  if (!sar.num) sar = AVRational{1, 1};
  v.sampleAspectRatio = toRational(sar);
  AVRational dar{0, 1};
  if (par->width && par->height) av_reduce(&dar.num, &dar.den, static_cast<int64_t>(par->width) * sar.num, static_cast<int64_t>(par->height) * sar.den, 1 << 30);
  v.displayAspectRatio = toRational(dar);
  v.fieldOrder = fieldOrderName(par->field_order);
  v.bitRate = par->bit_rate;
  v.duration = toSeconds(st->duration, st->time_base);
  v.startTime = toSeconds(st->start_time, st->time_base);
  if (v.startTime < 0) v.startTime = 0;
  v.frames = st->nb_frames;
  v.timeBase = toRational(st->time_base);
  return v;
}

AudioStreamInfo describeAudioStream(const AVStream* st, bool transportStream) {
  const AVCodecParameters* par = st->codecpar;
  AudioStreamInfo a;
  a.index = st->index;
  a.pid = pidOf(st, transportStream);
  const AVCodecDescriptor* desc = avcodec_descriptor_get(par->codec_id);
  a.codec = desc ? desc->name : "unknown";
  a.profile = profileName(par);
  a.channels = par->ch_layout.nb_channels;
  char layout[128] = {0};
  if (av_channel_layout_describe(&par->ch_layout, layout, sizeof layout) > 0) a.channelLayout = layout;
  a.sampleRate = par->sample_rate;
  const char* fmt = av_get_sample_fmt_name(static_cast<AVSampleFormat>(par->format));
  a.sampleFormat = fmt ? fmt : "";
  a.bitRate = par->bit_rate;
  if (const AVDictionaryEntry* lang = av_dict_get(st->metadata, "language", nullptr, 0)) a.language = lang->value;
  return a;
}

KlvStreamInfo describeKlvStream(const MediaInput& input, const AVStream* st) {
  KlvStreamInfo k;
  k.index = st->index;
  k.pid = pidOf(st, input.isTransportStream());
  if (const PmtStream* pmt = input.tables().stream(st->id)) {
    k.streamType = pmt->streamType;
    k.registration = pmt->registration.empty() ? pmt->metadataFormat : pmt->registration;
    if (pmt->streamType == 0x15) k.carriage = "sync";
    else if (pmt->streamType == 0x06) k.carriage = "async";
  }
  return k;
}

ProbeResult describeInput(const MediaInput& input) {
  const AVFormatContext* fmt = input.ctx();
  ProbeResult r;
  r.url = input.url();
  r.format = fmt->iformat->name;
  r.formatLongName = fmt->iformat->long_name ? fmt->iformat->long_name : "";
  r.duration = fmt->duration == AV_NOPTS_VALUE ? -1.0 : fmt->duration / static_cast<double>(AV_TIME_BASE);
  r.startTime = fmt->start_time == AV_NOPTS_VALUE ? 0.0 : fmt->start_time / static_cast<double>(AV_TIME_BASE);
  r.bitRate = fmt->bit_rate;
  r.size = input.size();
  r.isTransportStream = input.isTransportStream();

  const int best = av_find_best_stream(const_cast<AVFormatContext*>(fmt), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  for (unsigned i = 0; i < fmt->nb_streams; ++i) {
    const AVStream* st = fmt->streams[i];
    switch (st->codecpar->codec_type) {
      case AVMEDIA_TYPE_VIDEO:
        if (st->disposition & AV_DISPOSITION_ATTACHED_PIC) break;
        if (static_cast<int>(i) == best) r.video = describeVideoStream(st, r.isTransportStream);
        else r.otherVideo.push_back(describeVideoStream(st, r.isTransportStream));
        break;
      case AVMEDIA_TYPE_AUDIO:
        r.audio.push_back(describeAudioStream(st, r.isTransportStream));
        break;
      case AVMEDIA_TYPE_DATA:
        if (isKlvStream(st)) r.klv.push_back(describeKlvStream(input, st));
        break;
      default:
        break;
    }
  }
  return r;
}

ProbeResult probe(const std::string& url, const ProbeOptions& options, CancelToken& cancel) {
  MediaInput input(url, options.input, cancel);
  ProbeResult result = describeInput(input);
  if (!result.video && options.requireVideo) {
    throw Error("ERR_NO_VIDEO_STREAM", "probe", "input has no video stream: " + url + " (format " + result.format + ")");
  }

  // Read packets to learn what the KLV streams really carry (PES stream id, PTS presence).
  if (!result.klv.empty()) {
    std::map<int, KlvStreamInfo*> byIndex;
    for (auto& k : result.klv) byIndex[k.index] = &k;
    PacketPtr pkt = makePacket();
    const int64_t startBytes = input.bytesRead();
    size_t streamsSeen = 0;
    while (input.bytesRead() - startBytes < options.klvScanBytes) {
      cancel.throwIfStopped("probe");
      const int ret = input.readFrame(pkt.get());
      if (ret < 0) break;  // end of input or a damaged tail: report what was seen
      auto it = byIndex.find(pkt->stream_index);
      if (it != byIndex.end()) {
        KlvStreamInfo& k = *it->second;
        if (k.packets == 0) {
          ++streamsSeen;
          size_t sideSize = 0;
          if (const uint8_t* sid = av_packet_get_side_data(pkt.get(), AV_PKT_DATA_MPEGTS_STREAM_ID, &sideSize); sid && sideSize >= 1) k.pesStreamId = sid[0];
        }
        const bool hasPts = pkt->pts != AV_NOPTS_VALUE;
        const std::string seen = hasPts ? "present" : "absent";
        k.pts = k.packets == 0 ? seen : (k.pts == seen ? seen : "mixed");
        ++k.packets;
        k.bytes += pkt->size;
      }
      av_packet_unref(pkt.get());
      // Enough to characterise every stream: a few packets each.
      if (streamsSeen == result.klv.size()) {
        bool enough = true;
        for (const auto& k : result.klv) enough = enough && k.packets >= 4;
        if (enough) break;
      }
    }
    for (auto& k : result.klv) k.hybrid = k.streamType == 0x06 && k.pesStreamId == kPesStreamIdMetadata;
  }
  return result;
}

}  // namespace fmv
