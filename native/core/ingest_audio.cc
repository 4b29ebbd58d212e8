#include "core/ingest_audio.h"

#include <algorithm>

#include "core/error.h"

extern "C" {
#include <libavutil/channel_layout.h>
}

namespace fmv {
namespace {

constexpr const char* kStep = "audio";

// Sample rates AAC has a sampling-frequency index for, in index order.
constexpr int kAacRates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350};

int aacRateIndex(int rate) {
  for (int i = 0; i < 13; ++i)
    if (kAacRates[i] == rate) return i;
  return -1;
}

int aacSampleRate(int in) { return aacRateIndex(in) >= 0 ? in : 48000; }

}  // namespace

AudioPath::AudioPath(const AVStream* stream, int64_t bitrate, bool globalHeader, bool rawAac)
    : streamIndex_(stream->index), inputTimeBase_(stream->time_base), packet_(makePacket()) {
  params_.reset(avcodec_parameters_alloc());
  if (!params_) throw Error("ERR_NO_MEMORY", kStep, "out of memory");
  const AVCodecParameters* in = stream->codecpar;
  if (in->codec_id == AV_CODEC_ID_AAC) {
    checkAv(avcodec_parameters_copy(params_.get(), in), "ERR_NO_MEMORY", kStep, "cannot copy the audio parameters");
    params_->codec_tag = 0;
    timeBase_ = stream->time_base;
    if (rawAac) setUpAdtsToAsc();
    return;
  }

  const AVCodec* dec = avcodec_find_decoder(in->codec_id);
  if (!dec) throw Error("ERR_DECODER_NOT_FOUND", kStep, std::string("no decoder for audio codec ") + avcodec_get_name(in->codec_id));
  decoder_ = makeCodecContext(dec, kStep, "the audio decoder");
  checkAv(avcodec_parameters_to_context(decoder_.get(), in), "ERR_DECODE", kStep, "cannot configure the audio decoder");
  decoder_->pkt_timebase = stream->time_base;
  checkAv(avcodec_open2(decoder_.get(), dec, nullptr), "ERR_DECODE", kStep, std::string("cannot open the ") + dec->name + " decoder");

  const AVCodec* enc = avcodec_find_encoder(AV_CODEC_ID_AAC);
  if (!enc) throw Error("ERR_ENCODER_NOT_FOUND", kStep, "this FFmpeg has no AAC encoder");
  encoder_ = makeCodecContext(enc, kStep, "the AAC encoder");
  const int rate = aacSampleRate(decoder_->sample_rate > 0 ? decoder_->sample_rate : 48000);
  encoder_->sample_rate = rate;
  encoder_->sample_fmt = AV_SAMPLE_FMT_FLTP;
  // Browsers play mono and stereo AAC everywhere; more channels are folded down to stereo.
  const int channels = decoder_->ch_layout.nb_channels == 1 ? 1 : 2;
  av_channel_layout_default(&encoder_->ch_layout, channels);
  encoder_->bit_rate = bitrate;
  encoder_->time_base = AVRational{1, rate};
  if (globalHeader) encoder_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  checkAv(avcodec_open2(encoder_.get(), enc, nullptr), "ERR_ENCODE", kStep, "cannot open the AAC encoder");
  checkAv(avcodec_parameters_from_context(params_.get(), encoder_.get()), "ERR_ENCODE", kStep, "cannot read the AAC encoder parameters");
  timeBase_ = encoder_->time_base;
  decoded_ = makeFrame();
  filtered_ = makeFrame();
}

void AudioPath::setUpAdtsToAsc() {
  if (!params_->extradata) {
    // The MP4 sample entry is written before the first packet, so the AudioSpecificConfig is built
    // from what the parser found: object type (profile + 1), sampling index, channel configuration.
    const int index = aacRateIndex(params_->sample_rate);
    const int channels = params_->ch_layout.nb_channels;
    if (index < 0 || channels < 1 || channels > 8 || channels == 7)
      throw Error("ERR_MUX", kStep, "cannot describe this AAC stream for fMP4 (" + std::to_string(params_->sample_rate) + " Hz, " + std::to_string(channels) + " channels)");
    const int objectType = params_->profile >= 0 ? params_->profile + 1 : 2;
    const int channelConfig = channels == 8 ? 7 : channels;
    params_->extradata = static_cast<uint8_t*>(av_mallocz(2 + AV_INPUT_BUFFER_PADDING_SIZE));
    if (!params_->extradata) throw Error("ERR_NO_MEMORY", kStep, "out of memory");
    params_->extradata_size = 2;
    params_->extradata[0] = static_cast<uint8_t>((objectType << 3) | (index >> 1));
    params_->extradata[1] = static_cast<uint8_t>(((index & 1) << 7) | (channelConfig << 3));
  }
  const AVBitStreamFilter* filter = av_bsf_get_by_name("aac_adtstoasc");
  if (!filter) throw Error("ERR_MUX", kStep, "this FFmpeg was built without the aac_adtstoasc bitstream filter");
  AVBSFContext* bsf = nullptr;
  checkAv(av_bsf_alloc(filter, &bsf), "ERR_NO_MEMORY", kStep, "cannot allocate aac_adtstoasc");
  adtsToAsc_.reset(bsf);
  checkAv(avcodec_parameters_copy(bsf->par_in, params_.get()), "ERR_NO_MEMORY", kStep, "cannot configure aac_adtstoasc");
  bsf->time_base_in = timeBase_;
  checkAv(av_bsf_init(bsf), "ERR_MUX", kStep, "cannot start aac_adtstoasc");
}

void AudioPath::copy(const AVPacket* packet, const PacketFn& onPacket) {
  checkAv(av_packet_ref(packet_.get(), packet), "ERR_NO_MEMORY", kStep, "cannot reference an audio packet");
  if (!adtsToAsc_) {
    onPacket(packet_.get());
    av_packet_unref(packet_.get());
    return;
  }
  int ret = av_bsf_send_packet(adtsToAsc_.get(), packet_.get());  // takes the reference
  if (ret < 0) {
    av_packet_unref(packet_.get());
    ++decodeErrors_;  // a damaged ADTS header: the frame is left out
    return;
  }
  while ((ret = av_bsf_receive_packet(adtsToAsc_.get(), packet_.get())) >= 0) {
    onPacket(packet_.get());
    av_packet_unref(packet_.get());
  }
  if (ret != AVERROR(EAGAIN) && ret != AVERROR_EOF) ++decodeErrors_;
}

int64_t AudioPath::bitrate() const {
  if (encoder_) return encoder_->bit_rate;
  return params_->bit_rate;
}

std::string AudioPath::description() const {
  if (!decoder_) return "copy aac";
  return std::string(decoder_->codec->name) + " -> aac " + std::to_string(encoder_->bit_rate / 1000) + " kb/s";
}

void AudioPath::push(const AVPacket* packet, const PacketFn& onPacket) {
  if (!decoder_) {
    if (!packet) return;
    // Copied packets keep their timestamps; a repeated or missing DTS (damaged input) is dropped.
    if (packet->dts == AV_NOPTS_VALUE && packet->pts == AV_NOPTS_VALUE) return;
    const int64_t dts = packet->dts != AV_NOPTS_VALUE ? packet->dts : packet->pts;
    if (lastDts_ != AV_NOPTS_VALUE && dts <= lastDts_) return;
    lastDts_ = dts;
    copy(packet, onPacket);
    return;
  }
  int ret = avcodec_send_packet(decoder_.get(), packet);
  if (ret < 0 && ret != AVERROR_EOF && ret != AVERROR(EAGAIN)) ++decodeErrors_;
  for (;;) {
    ret = avcodec_receive_frame(decoder_.get(), decoded_.get());
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) break;
    if (ret < 0) {
      ++decodeErrors_;
      if (packet) break;
      continue;
    }
    decoded_->pts = decoded_->best_effort_timestamp;
    filterAndEncode(decoded_.get(), onPacket);
    av_frame_unref(decoded_.get());
  }
  if (!packet) {
    if (graph_) filterAndEncode(nullptr, onPacket);
    encode(nullptr, onPacket);
  }
}

void AudioPath::filterAndEncode(const AVFrame* frame, const PacketFn& onPacket) {
  if (!graph_) {
    if (!frame) return;
    AudioFilterInput in;
    struct LayoutFree {
      AVChannelLayout* layout;
      ~LayoutFree() { av_channel_layout_uninit(layout); }
    } layoutFree{&in.layout};
    in.sampleRate = frame->sample_rate;
    in.format = frame->format;
    in.timeBase = inputTimeBase_;
    if (frame->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || frame->ch_layout.nb_channels == 0)
      av_channel_layout_default(&in.layout, std::max(1, frame->ch_layout.nb_channels));
    else
      checkAv(av_channel_layout_copy(&in.layout, &frame->ch_layout), "ERR_NO_MEMORY", kStep, "cannot copy a channel layout");
    char layout[64] = {0};
    av_channel_layout_describe(&encoder_->ch_layout, layout, sizeof layout);
    const std::string rate = std::to_string(encoder_->sample_rate);
    const std::string desc = "aresample=" + rate + ",aformat=sample_fmts=fltp:sample_rates=" + rate + ":channel_layouts=" + layout;
    graph_ = std::make_unique<FilterGraph>(FilterGraph::audio(in, desc, encoder_->frame_size, kStep));
  }
  graph_->push(frame);
  while (graph_->pull(filtered_.get())) {
    if (filtered_->pts != AV_NOPTS_VALUE) filtered_->pts = av_rescale_q(filtered_->pts, graph_->outputTimeBase(), encoder_->time_base);
    encode(filtered_.get(), onPacket);
    av_frame_unref(filtered_.get());
  }
}

void AudioPath::encode(AVFrame* frame, const PacketFn& onPacket) {
  int ret = avcodec_send_frame(encoder_.get(), frame);
  if (ret == AVERROR_EOF) return;
  checkAv(ret, "ERR_ENCODE", kStep, "the AAC encoder refused a frame");
  for (;;) {
    ret = avcodec_receive_packet(encoder_.get(), packet_.get());
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return;
    checkAv(ret, "ERR_ENCODE", kStep, "the AAC encoder failed");
    onPacket(packet_.get());
    av_packet_unref(packet_.get());
  }
}

}  // namespace fmv
