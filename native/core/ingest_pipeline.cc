#include "core/ingest_pipeline.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "core/ingest_abr.h"
#include "core/ingest_audio.h"
#include "core/ingest_filters.h"
#include "core/ingest_hls.h"
#include "core/input_reader.h"
#include "core/llhls_muxer.h"
#include "core/ingest_hw.h"
#include "core/ingest_klv.h"
#include "core/ingest_ladder.h"
#include "core/ingest_log.h"
#include "core/ingest_output.h"
#include "core/ingest_rung_encoder.h"
#include "core/ingest_timeline.h"
#include "core/ingest_video_decode.h"
#include "core/input.h"
#include "core/live_playlist.h"
#include "core/preview_sink.h"
#include "core/probe.h"

extern "C" {
#include <libavutil/hwcontext.h>
#include <libavutil/pixdesc.h>
}

namespace fmv {
namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

bool isInterlaced(const std::string& fieldOrder) { return fieldOrder == "tt" || fieldOrder == "bb" || fieldOrder == "tb" || fieldOrder == "bt"; }

// The nominal rate of the display frames: the average rate first (r_frame_rate is the field rate
// of interlaced H.264), then the real base rate.
AVRational displayFrameRate(const AVStream* st) {
  if (st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0) return st->avg_frame_rate;
  if (st->r_frame_rate.num > 0 && st->r_frame_rate.den > 0) return st->r_frame_rate;
  return AVRational{0, 1};
}

// A local transport stream whose size is not a whole number of packets was cut short. The packet
// size (188, 192 or 204) and the offset of the first packet come from the first sync bytes.
bool transportStreamCutShort(const std::string& url, int64_t size) {
  const std::string path = url.rfind("file:", 0) == 0 ? url.substr(5) : url;
  std::ifstream in(path, std::ios::binary);
  std::vector<unsigned char> head(4096);
  in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
  const size_t n = static_cast<size_t>(in.gcount());
  for (size_t packet : {188u, 192u, 204u}) {
    const size_t prefix = packet - 188;
    for (size_t offset = 0; offset < packet && offset + prefix + 4 * packet < n; ++offset) {
      bool synced = true;
      for (size_t k = 0; k < 5 && synced; ++k) synced = head[offset + prefix + k * packet] == 0x47;
      if (synced) return size > 0 && (static_cast<size_t>(size) - offset) % packet != 0;
    }
  }
  return false;
}

constexpr size_t kMaxQueuedPackets = 20000;
// Packets a live input's reader may be ahead of the pass: seconds of a feed at any rate.
constexpr size_t kReaderCapacity = 4096;

struct QueuedPacket {
  enum Kind { Audio, Klv } kind;
  size_t klvIndex = 0;
  AVRational timeBase{1, 90000};
  PacketPtr packet;
};

class IngestRun {
 public:
  IngestRun(const IngestJob& job, IngestObserver& observer, CancelToken& cancel)
      : job_(job), observer_(observer), cancel_(cancel), guard_(job.outDir), log_(64), started_(Clock::now()), lastTick_(started_) {}
  // The input watch's report hook points at this run.
  ~IngestRun() { cancel_.onInputStall(nullptr); }

  IngestResult run();
  // The error with FFmpeg's own explanation added when it logged one ("Malformed AAC bitstream").
  Error explained(const Error& e) const;

 private:
  void openInput();
  void plan();
  void makeRungs();
  void makePreviews();
  void pass();
  void drain();
  void finalize();

  void onVideoPacket(const AVPacket* packet);
  void onDecoded(AVFrame* frame);
  void onDisplay(AVFrame* frame);
  void configurePrep(const AVFrame* frame, const VideoFilterInput& in);
  void drainPrep();
  void openMuxer(size_t rung, const AVCodecContext* video);
  void dispatchAudio(const AVPacket* packet);
  void dispatchKlv(size_t klvIndex, const AVPacket* packet, AVRational tb);
  bool allMuxersOpen() const;
  void enqueue(QueuedPacket q);
  void flushQueue();
  void feedPreview(const AVFrame* frame);
  // One read from the input (the reader thread's, live): mended, live telemetry handed on.
  void readInput(InputItem& item, TimelineMender& timeline, VideoClock& clock);
  // Live: the input came back after a silence; the timeline leaves a gap of this much there.
  void onInputResumed();
  double resumeGap() const { return job_.segmentSeconds + 0.5; }
  // Live: how long frames wait between arrival and encoding; warns when it keeps growing.
  void noteLag(double seconds);
  // Live, behind the input: whether to leave this display frame out.
  bool shed(double seconds, double previousSeconds);
  // Live: the input stays silent past its window, or a read failed for good.
  bool inputEnded(int ret);

  std::string prepDescription(const AVFrame* frame) const;
  void warn(const std::string& code, const std::string& message);
  // The first sign of damage is reported at once (a live input may never end); totals come at the end.
  void noteDamage(const std::string& what);
  void tick(bool force);
  void writeMaster(bool measured);
  double secondsOf(int64_t pts, AVRational tb) const { return static_cast<double>(pts) * av_q2d(tb); }

  const IngestJob& job_;
  IngestObserver& observer_;
  CancelToken& cancel_;
  // Declared first so that it is destroyed last, after every file below is closed.
  OutputDirGuard guard_;
  LogCapture log_;
  Clock::time_point started_;
  Clock::time_point lastTick_;
  Clock::time_point passStarted_;

  IngestResult result_;
  std::unique_ptr<MediaInput> input_;
  const AVStream* video_ = nullptr;
  AVRational frameRate_{0, 1};
  double duration_ = -1;
  bool interlaced_ = false;
  HwPlan hw_;
  std::unique_ptr<VideoDecoder> decoder_;
  std::unique_ptr<FilterGraph> prep_;
  VideoFilterInput prepInput_;
  bool prepConfigured_ = false;
  AVRational displayTimeBase_{1, 90000};
  SegmentClock segments_;
  std::vector<std::unique_ptr<RungEncoder>> rungs_;
  std::vector<std::unique_ptr<RenditionOutput>> muxers_;
  std::unique_ptr<AudioPath> audio_;
  std::unique_ptr<KlvPath> klv_;
  std::unique_ptr<KlvPath> telemetry_;  // live: frames KLV for the observer on the reader thread
  std::mutex warnMutex_;                // warnings come from the reader thread too (stalls)
  std::unique_ptr<PreviewSink> previews_;
  bool previewFromTopRung_ = false;
  FramePtr download_;
  FramePtr previewRef_ = makeFrame();
  AVRational previewSar_{0, 1};
  FramePtr display_ = makeFrame();
  std::vector<KlvOutput> klvOutputs_;
  std::deque<QueuedPacket> queue_;
  VideoClock videoClock_;
  double videoStart_ = 0;
  double lastDisplaySeconds_ = 0;
  double frameDuration_ = 0;
  bool warnedDamage_ = false;
  ArrivalClock arrivals_;
  double lagSeconds_ = -1;  // live: arrival → encode delay of the latest display frame
  bool behind_ = false;      // a FALLING_BEHIND warning is standing
  bool shedding_ = false;    // every other display frame is left out (FRAMES_SHED)
  bool keepNext_ = false;
  bool fileInput_ = false;   // a local file: read at the pass's own pace
  int64_t lagFromMs_ = 0;    // frames that arrived before this (held over a stall) do not measure lag
  // Live: display frames after this time follow a break in the input (NaN: none pending).
  double breakAfter_ = std::nan("");
};

IngestResult IngestRun::run() {
  openInput();
  plan();
  passStarted_ = Clock::now();
  pass();
  drain();
  result_.timings.transcodeMs = msSince(passStarted_);
  const auto finalizeStart = Clock::now();
  finalize();
  result_.timings.finalizeMs = msSince(finalizeStart);
  result_.timings.totalMs = msSince(started_);
  result_.files = guard_.newFiles();
  result_.log = log_.lines();
  guard_.commit();
  return std::move(result_);
}

void IngestRun::openInput() {
  cancel_.setTimeoutMs(job_.timeoutMs);
  const auto t = Clock::now();
  if (job_.live.enabled) {
    // A silence of inputTimeoutMs is a stall, reported while it lasts (before the first byte too: a
    // listener waits for its camera); past the reconnect window the open fails (ERR_INPUT_TIMEOUT)
    // or the run ends (INPUT_LOST).
    cancel_.watchInput(job_.live.inputTimeoutMs, job_.live.inputTimeoutMs + job_.live.reconnectWindowMs);
    cancel_.onInputStall([this](int64_t silentMs) {
      const std::string waiting = "; waiting up to " + std::to_string(job_.live.reconnectWindowMs) + " ms more for it";
      if (!cancel_.anyInput()) warn("INPUT_STALLED", "nothing has arrived from the input yet after " + std::to_string(silentMs) + " ms" + waiting);
      else warn("INPUT_STALLED", "nothing arrived from the input for " + std::to_string(silentMs) + " ms" + waiting + " to resume");
    });
  }
  input_ = std::make_unique<MediaInput>(job_.input, job_.inputOptions, cancel_);
  fileInput_ = isLocalPath(job_.input);
  result_.source = describeInput(*input_);
  result_.timings.openMs = msSince(t);
  if (!result_.source.video)
    throw Error("ERR_NO_VIDEO_STREAM", "probe", "input has no video stream: " + job_.input + " (format " + result_.source.format + ")");
  video_ = input_->ctx()->streams[result_.source.video->index];
  frameRate_ = displayFrameRate(video_);
  duration_ = result_.source.duration > 0 ? result_.source.duration : result_.source.video->duration;
  videoStart_ = result_.source.video->startTime;
  result_.sourceStart = videoStart_;
  interlaced_ = isInterlaced(result_.source.video->fieldOrder);
  observer_.onStep("streamInfo");
  observer_.onStep("videoInfo");
}

void IngestRun::plan() {
  const VideoStreamInfo& v = *result_.source.video;
  HwSource hs;
  hs.codec = video_->codecpar->codec_id;
  hs.width = v.width;
  hs.height = v.height;
  hs.pixelFormat = video_->codecpar->format;
  hw_ = planHardware(job_, hs);
  result_.hardware.requested = hw_.requested;
  result_.hardware.used = hw_.used;
  result_.hardware.reason = hw_.reason;
  result_.hardware.fallback = hw_.fallback;
  result_.hardware.device = hw_.device ? hw_.device->device : "";
  result_.hardware.encoder = hw_.encoder;
  if (hw_.fallback) warn("HW_FALLBACK", hw_.reason);

  // A stream NVDEC refuses would fall back inside FFmpeg to a software decode on one thread (the
  // device decoder is opened without frame threads): decode it in software on every core from the
  // start, and say so. The rest of the path stays as planned.
  const HwDevice* decodeDevice = hw_.device ? &*hw_.device : nullptr;
  std::string refusal;
  if (decodeDevice && decodeDevice->type == AV_HWDEVICE_TYPE_CUDA) refusal = nvdecRefusal(hs);
  if (!refusal.empty()) {
    decodeDevice = nullptr;
    const std::string why = refusal + ": decoded in software on all cores";
    result_.hardware.reason += "; " + why;
    result_.hardware.fallback = true;
    warn("HW_FALLBACK", why);
  }
  decoder_ = std::make_unique<VideoDecoder>(video_, decodeDevice, job_.live.enabled);
  result_.hardware.decoder = decoder_->description() + (refusal.empty() ? "" : " (software)");
  result_.deinterlaced = interlaced_;

  // Audio: the best audio stream, copied when AAC, else encoded to AAC once.
  if (job_.audio) {
    const int a = av_find_best_stream(input_->ctx(), AVMEDIA_TYPE_AUDIO, -1, video_->index, nullptr, 0);
    if (a >= 0) {
      try {
        audio_ = std::make_unique<AudioPath>(input_->ctx()->streams[a], job_.audioBitrate, true, job_.segmentFormat == SegmentFormat::Fmp4);
        result_.audio = audio_->copies() ? "copy" : "aac";
      } catch (const Error& e) {
        warn("AUDIO_DROPPED", std::string("audio left out: ") + e.what());
      }
    }
  }
  if (!audio_) result_.audio = "none";

  // Live: the KLV is framed twice, for the telemetry as it arrives and for the muxers in order.
  const bool liveTelemetry = job_.live.enabled && job_.klv;
  klv_ = std::make_unique<KlvPath>(input_->ctx(), result_.source, job_.klv && !liveTelemetry ? &observer_ : nullptr, job_.klvBatchUnits, job_.klvBatchMs);
  if (liveTelemetry) telemetry_ = std::make_unique<KlvPath>(input_->ctx(), result_.source, &observer_, job_.klvBatchUnits, job_.klvBatchMs);
  for (const auto& s : klv_->streams()) klvOutputs_.push_back(KlvOutput{s.inputIndex, s.pid});
  if (klv_->streams().empty()) {
    result_.klv.mode = "none";
  } else if (job_.segmentFormat == SegmentFormat::Fmp4) {
    // The mp4 muxer refuses KLV data streams: the units travel as DASH event messages instead.
    result_.klv.mode = "emsg";
    result_.klv.inSegments = true;
  } else {
    result_.klv.mode = "ts-pes";
    result_.klv.inSegments = true;
  }

  makeRungs();
  makePreviews();

  IngestPlanInfo info;
  info.source = result_.source;
  info.renditions = result_.renditions;
  info.hardware = result_.hardware;
  info.audio = result_.audio;
  info.deinterlace = interlaced_;
  observer_.onPlan(info);
}

void IngestRun::makeRungs() {
  const VideoStreamInfo& v = *result_.source.video;
  if (job_.codec == VideoCodec::Hevc && job_.segmentFormat == SegmentFormat::Ts)
    warn("HEVC_IN_TS", "HEVC in MPEG-TS segments: Apple's players and most browsers play HEVC only from fMP4 (segmentFormat: 'fmp4')");
  LadderSource ls;
  ls.width = v.width;
  ls.height = v.height;
  ls.displayAspect = v.displayAspectRatio.value();
  LadderPlan ladder = planLadder(job_.tier, job_.ladder, ls);
  // Tiers above the source are left out by design; a custom rung left out is worth a warning.
  for (const std::string& note : ladder.notes) {
    if (job_.ladder.empty()) result_.ladderNotes.push_back(note);
    else warn("RUNG_SKIPPED", note);
  }

  segments_.length = job_.segmentSeconds;
  EncoderSettings es;
  es.encoder = hw_.encoder;
  es.codec = job_.codec;
  es.preset = job_.preset;
  es.frameRate = frameRate_;
  es.globalHeader = true;
  es.fmp4 = job_.segmentFormat == SegmentFormat::Fmp4;
  es.takesDeviceFrames = hw_.encoderTakesDeviceFrames;
  es.hwDevice = hw_.device ? hw_.device->ctx.get() : nullptr;
  es.lowDelay = job_.live.enabled;
  HlsSettings hs;
  hs.segmentSeconds = job_.segmentSeconds;
  hs.format = job_.segmentFormat;
  hs.live = job_.live.enabled;
  hs.playlist = job_.live.playlist;
  hs.arrivalMs = [this](double t) { return arrivals_.at(t); };
  // Every name the ladder writes is claimed before anything is written.
  for (const Rung& r : ladder.rungs) guard_.claim(r.name);
  guard_.claim("ABR.m3u8");
  guard_.claim("abr.json");
  for (const Rung& r : ladder.rungs) {
    rungs_.push_back(std::make_unique<RungEncoder>(r, es, segments_));
    if (job_.live.enabled && job_.live.playlist.partTarget > 0) muxers_.push_back(std::make_unique<LowLatencyMuxer>(job_.outDir, r.name, hs, cancel_));
    else muxers_.push_back(std::make_unique<RenditionMuxer>(job_.outDir, r.name, hs, cancel_));
    RenditionResult rr;
    rr.name = r.name;
    rr.width = r.width;
    rr.height = r.height;
    rr.frameRate = frameRate_.num > 0 ? av_q2d(frameRate_) : 0;
    rr.videoEncoder = hw_.encoder;
    rr.videoBitrate = r.videoBitrate;
    rr.maxBitrate = r.maxBitrate;
    rr.audioBitrate = audio_ ? audio_->bitrate() : 0;
    rr.playlist = muxers_.back()->playlistRelative();
    result_.renditions.push_back(rr);
  }
}

void IngestRun::makePreviews() {
  if (!job_.previews) return;
  PreviewOptions po = job_.previewOptions;
  po.outDir = job_.outDir;
  guard_.claim(po.posterName);
  if (po.thumbnails)
    for (const char* name : {"thumbnails.vtt", "sprite.jpg", "sprite_*"}) guard_.claim(name);
  if (po.thumbnails && po.writeThumbnails) guard_.claim("thumbs");
  // The container's pixel aspect, applied to each decoded frame at its own size: a fixed display
  // aspect taken from the opening size would stretch the pictures after a resolution change.
  previewSar_ = av_guess_sample_aspect_ratio(input_->ctx(), const_cast<AVStream*>(video_), nullptr);
  if (po.durationHint < 0) po.durationHint = duration_;
  previews_ = std::make_unique<PreviewSink>(po);
  download_ = makeFrame();
}

std::string IngestRun::prepDescription(const AVFrame* frame) const {
  std::string d;
  auto add = [&d](const std::string& f) { d += (d.empty() ? "" : ",") + f; };
  if (frame->format == AV_PIX_FMT_CUDA) {
    // yadif_cuda passes progressive-flagged frames through as clones from the decoder's pool, so a
    // mixed stream would alternate between two pools (hwdownload accepts only one, and each switch
    // would rebuild the rung graphs): a copy through scale_cuda puts every frame in one pool.
    if (interlaced_) add("yadif_cuda=mode=send_frame:parity=auto:deint=interlaced,scale_cuda=passthrough=0");
    if (!hw_.scaleOnDevice) {
      const auto* fc = reinterpret_cast<const AVHWFramesContext*>(frame->hw_frames_ctx->data);
      add(std::string("hwdownload,format=") + av_get_pix_fmt_name(fc->sw_format));
    }
  } else if (frame->format == AV_PIX_FMT_VAAPI) {
    if (interlaced_) add("deinterlace_vaapi=rate=frame");
  } else if (interlaced_) {
    add("bwdif=mode=send_frame:parity=auto:deint=interlaced");
  }
  return d;
}

void IngestRun::readInput(InputItem& item, TimelineMender& timeline, VideoClock& clock) {
  AVFormatContext* fmt = input_->ctx();
  if (!item.packet) item.packet = makePacket();
  for (;;) {
    if (cancel_.stopRequested() || cancel_.finishingEarly()) {
      item.ret = AVERROR_EOF;
      return;
    }
    item.ret = input_->readFrame(item.packet.get());
    if (item.ret == AVERROR(EAGAIN)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    if (item.ret < 0) return;
    AVPacket* pkt = item.packet.get();
    if (job_.live.enabled) {
      item.arrivedMs = wallClockMs();
      cancel_.inputActivity();  // inputs read without our byte tap (rtsp) are seen here
      if (cancel_.takeResumed()) {
        // The break shows as a gap of more than a segment on the timeline, so that the segment
        // muxer cuts at the first frame after it and the playlists can mark a discontinuity there.
        timeline.breakAfterGap(resumeGap());
        item.resumed = true;
      }
    }
    item.jump = timeline.mend(pkt, fmt->streams[pkt->stream_index]);
    if (telemetry_) {
      // Live telemetry leaves from here, as the unit arrives, not after the frame before it is encoded.
      if (pkt->stream_index == video_->index) {
        const int64_t t = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
        if (t != AV_NOPTS_VALUE) clock.observe(secondsOf(t, video_->time_base));
      } else if (telemetry_->handles(pkt->stream_index)) {
        telemetry_->push(fmt->streams[pkt->stream_index], pkt, clock, videoStart_, [](size_t, const AVPacket*, AVRational) {});
      }
    }
    return;
  }
}

void IngestRun::pass() {
  AVFormatContext* fmt = input_->ctx();
  std::vector<int> references{video_->index};
  if (audio_) references.push_back(audio_->streamIndex());
  TimelineMender timeline(fmt, references);
  VideoClock readerClock;
  int jumps = 0;
  // A live input is read on its own thread; a file inline, one packet at a time.
  std::unique_ptr<InputReader> reader;
  if (job_.live.enabled)
    reader = std::make_unique<InputReader>([this, &timeline, &readerClock](InputItem& item) { readInput(item, timeline, readerClock); }, [this] { cancel_.finishEarly(); },
                                           kReaderCapacity);
  InputItem item;
  for (;;) {
    cancel_.throwIfStopped("transcode");
    // A graceful stop ends the pass now: what the reader holds beyond this is let go with the input.
    if (cancel_.finishingEarly()) break;
    if (reader) {
      item = reader->next();
    } else {
      if (item.packet) av_packet_unref(item.packet.get());  // read into the same packet again
      readInput(item, timeline, readerClock);
    }
    if (item.error) std::rethrow_exception(item.error);
    const int ret = item.ret;
    if (ret == AVERROR_EOF) break;
    if (ret < 0) {
      cancel_.throwIfStopped("transcode");
      if (inputEnded(ret)) break;
      if (fileInput_) warn("INPUT_TRUNCATED", "the input ended early (" + avErrorText(ret) + "); what was read has been ingested");
      else warn("INPUT_ENDED", "the input stopped (" + avErrorText(ret) + "); what was received has been ingested");
      break;
    }
    AVPacket* pkt = item.packet.get();
    ++result_.counts.packetsRead;
    if (item.resumed) onInputResumed();
    if (const double jump = item.jump; jump != 0) {
      // Reported as they come (a live input may never end); after a few, only counted.
      if (++jumps <= 3) {
        char text[160];
        std::snprintf(text, sizeof text, "the input's timestamps jump %s by %.3f s after %.3f s on its clock: joined into one timeline", jump > 0 ? "forward" : "back",
                      std::fabs(jump), lastDisplaySeconds_);
        warn("TIMESTAMP_JUMP", text);
      }
      ++result_.counts.timestampJumps;
    }
    if (pkt->flags & AV_PKT_FLAG_CORRUPT) {
      ++result_.counts.corruptPackets;
      noteDamage("the demuxer found damaged packets (lost or corrupt transport packets)");
    }
    const int index = pkt->stream_index;
    if (index == video_->index) {
      if (job_.live.enabled && pkt->pts != AV_NOPTS_VALUE) arrivals_.note(secondsOf(pkt->pts, video_->time_base), item.arrivedMs);
      onVideoPacket(pkt);
    } else if (audio_ && index == audio_->streamIndex()) {
      audio_->push(pkt, [this](AVPacket* p) { dispatchAudio(p); });
    } else if (klv_->handles(index)) {
      klv_->push(fmt->streams[index], pkt, videoClock_, videoStart_, [this](size_t k, const AVPacket* p, AVRational tb) { dispatchKlv(k, p, tb); });
    }
    tick(false);
  }
  reader.reset();  // joined: the input is ours again
  if (fileInput_ && input_->tables().isTransportStream() && transportStreamCutShort(job_.input, input_->size()))
    warn("INPUT_TRUNCATED", "the transport stream ends inside a packet (" + std::to_string(input_->size()) + " bytes): the file was cut short; what exists has been ingested");
}

void IngestRun::noteLag(double seconds) {
  const int64_t arrived = arrivals_.at(seconds);
  // Frames the decoder held across a silence waited for the input, not for this machine.
  if (arrived < lagFromMs_) return;
  lagSeconds_ = std::max(0.0, static_cast<double>(wallClockMs() - arrived) / 1000.0);
  // Reported once per episode: a ladder too heavy for this machine makes the delay grow.
  constexpr double kBehindSeconds = 2.0;
  if (!behind_ && lagSeconds_ > kBehindSeconds) {
    behind_ = true;
    char text[200];
    std::snprintf(text, sizeof text, "frames wait %.1f s between their arrival and their encoding: this machine is not keeping up with the ladder in real time", lagSeconds_);
    warn("FALLING_BEHIND", text);
  } else if (behind_ && lagSeconds_ < kBehindSeconds / 2) {
    behind_ = false;
  }
}

bool IngestRun::shed(double seconds, double previousSeconds) {
  // Behind a real-time input by more than maxLagSeconds: every other frame is left out (never one
  // that starts a segment, so the cut points stay where they are in every rung) until the delay is
  // under a third of it. A file is read at the pass's pace and never falls behind.
  if (fileInput_ || job_.live.maxLagSeconds <= 0) return false;
  const double shedFrom = job_.live.maxLagSeconds, shedUntil = job_.live.maxLagSeconds / 3;
  if (!shedding_ && lagSeconds_ > shedFrom) {
    shedding_ = true;
    char text[200];
    std::snprintf(text, sizeof text, "frames wait %.1f s between their arrival and their encoding: every other frame is left out until the ladder catches up", lagSeconds_);
    warn("FRAMES_SHED", text);
  } else if (shedding_ && lagSeconds_ < shedUntil) {
    shedding_ = false;
  }
  if (!shedding_ || segments_.segmentOf(seconds) != segments_.segmentOf(previousSeconds)) return false;
  keepNext_ = !keepNext_;
  if (keepNext_) return false;
  ++result_.counts.framesShed;
  return true;
}

bool IngestRun::inputEnded(int ret) {
  if (cancel_.finishingEarly()) return true;
  if (!cancel_.inputLost()) return false;
  warn("INPUT_LOST", "nothing arrived from the input for " + std::to_string(cancel_.silenceMs()) + " ms (inputTimeoutMs + reconnectWindowMs): the live run ends (" +
                         avErrorText(ret) + "); what was received is kept");
  return true;
}

void IngestRun::onInputResumed() {
  breakAfter_ = lastDisplaySeconds_ + resumeGap() / 2;
  lagFromMs_ = wallClockMs();
  warn("INPUT_RESUMED", "the input resumed after " + std::to_string(cancel_.lastStallMs()) + " ms of silence: a discontinuity follows in every rendition");
}

void IngestRun::onVideoPacket(const AVPacket* packet) {
  ++result_.counts.videoPackets;
  const int64_t t = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
  if (t != AV_NOPTS_VALUE) videoClock_.observe(secondsOf(t, video_->time_base));
  const int64_t errorsBefore = decoder_->errors();
  decoder_->decode(packet, [this](AVFrame* f) { onDecoded(f); });
  if (decoder_->errors() > errorsBefore) noteDamage("the video decoder rejected damaged data (" + decoder_->lastError() + ")");
}

void IngestRun::onDecoded(AVFrame* frame) {
  ++result_.counts.framesDecoded;
  if (decoder_->fellBack() && !result_.hardware.decoder.empty() && result_.hardware.decoder.find("software") == std::string::npos) {
    result_.hardware.decoder = decoder_->description() + " (software)";
    result_.hardware.reason += "; " + decoder_->fallbackReason();
    result_.hardware.fallback = true;
    warn("HW_FALLBACK", decoder_->fallbackReason());
  }
  const VideoFilterInput in = describeFrame(frame, decoder_->timeBase(), frameRate_);
  if (!prepConfigured_ || !sameInput(prepInput_, in)) configurePrep(frame, in);
  if (!prep_) {
    onDisplay(frame);
    return;
  }
  prep_->push(frame);
  drainPrep();
}

void IngestRun::drainPrep() {
  while (prep_->pull(display_.get())) {
    onDisplay(display_.get());
    av_frame_unref(display_.get());
  }
}

void IngestRun::configurePrep(const AVFrame* frame, const VideoFilterInput& in) {
  if (prep_) {
    // The stream changed size or format mid-way: drain the old graph before building a new one.
    prep_->push(nullptr);
    drainPrep();
    prep_.reset();
  }
  prepInput_ = in;
  prepInput_.hwFrames = nullptr;  // borrowed from this frame; only the identity is compared later
  prepConfigured_ = true;
  const std::string d = prepDescription(frame);
  if (!d.empty()) prep_ = std::make_unique<FilterGraph>(FilterGraph::video(in, d, hw_.device ? hw_.device->ctx.get() : nullptr, "decode"));
  displayTimeBase_ = prep_ ? prep_->outputTimeBase() : decoder_->timeBase();
}

void IngestRun::onDisplay(AVFrame* frame) {
  if (frame->pts == AV_NOPTS_VALUE) {
    // A frame without a time (some elementary streams) follows the previous one by a frame period.
    const double period = frameRate_.num > 0 ? av_q2d(av_inv_q(frameRate_)) : 1.0 / 25;
    const double t = segments_.started ? lastDisplaySeconds_ + period : videoStart_;
    frame->pts = static_cast<int64_t>(std::llround(t / av_q2d(displayTimeBase_)));
  }
  const double seconds = secondsOf(frame->pts, displayTimeBase_);
  if (!segments_.started) {
    segments_.origin = seconds;
    segments_.started = true;
    lastDisplaySeconds_ = seconds;
    // Device frames cannot go to the preview sink; the top rung's frames (downloaded) stand in.
    previewFromTopRung_ = previews_ && frame->hw_frames_ctx != nullptr;
  } else if (seconds > lastDisplaySeconds_) {
    frameDuration_ = seconds - lastDisplaySeconds_;
  }
  if (!std::isnan(breakAfter_) && seconds > breakAfter_) {
    // The first frame after a break in a live input starts a new segment in every rung.
    segments_.restartAt(seconds, lastDisplaySeconds_);
    for (auto& m : muxers_) m->markDiscontinuity();
    breakAfter_ = std::nan("");
  }
  const double previousSeconds = lastDisplaySeconds_;
  lastDisplaySeconds_ = std::max(lastDisplaySeconds_, seconds);
  if (job_.live.enabled) {
    noteLag(seconds);
    if (shed(seconds, previousSeconds)) return;
  }
  ++result_.counts.framesOut;
  if (previews_ && !previewFromTopRung_) feedPreview(frame);

  const VideoFilterInput in = describeFrame(frame, displayTimeBase_, frameRate_);
  for (size_t i = 0; i < rungs_.size(); ++i) {
    RungEncoder::FrameFn tap;
    if (i == 0 && previewFromTopRung_) tap = [this](const AVFrame* f) { feedPreview(f); };
    rungs_[i]->encode(
        frame, in, [this, i](const AVCodecContext* c) { openMuxer(i, c); },
        [this, i](AVPacket* p) { muxers_[i]->writeVideo(p, rungs_[i]->timeBase()); }, tap);
  }
  if (!queue_.empty() && allMuxersOpen()) flushQueue();
}

void IngestRun::feedPreview(const AVFrame* frame) {
  const AVFrame* soft = frame;
  if (frame->hw_frames_ctx) {
    av_frame_unref(download_.get());
    checkAv(av_hwframe_transfer_data(download_.get(), frame, 0), "ERR_PREVIEWS", "previews", "cannot download a frame for the previews");
    checkAv(av_frame_copy_props(download_.get(), frame), "ERR_PREVIEWS", "previews", "cannot copy frame properties");
    soft = download_.get();
  }
  // Top-rung frames are square-pixel already; decoded ones take the container's pixel aspect.
  if (!previewFromTopRung_ && previewSar_.num > 0 && previewSar_.den > 0 && av_cmp_q(soft->sample_aspect_ratio, previewSar_) != 0) {
    av_frame_unref(previewRef_.get());
    checkAv(av_frame_ref(previewRef_.get(), soft), "ERR_PREVIEWS", "previews", "cannot reference a frame for the previews");
    previewRef_->sample_aspect_ratio = previewSar_;
    soft = previewRef_.get();
  }
  // Scaling keeps the time base: rung frames and display frames share the display clock.
  previews_->onFrame(soft, secondsOf(frame->pts, displayTimeBase_));
  av_frame_unref(previewRef_.get());
  ++result_.counts.previewFrames;
}

void IngestRun::openMuxer(size_t rung, const AVCodecContext* video) {
  muxers_[rung]->open(video, audio_ ? audio_->parameters() : nullptr, audio_ ? audio_->timeBase() : AVRational{1, 90000}, klvOutputs_);
  if (allMuxersOpen() && job_.live.enabled) writeMaster(false);
}

bool IngestRun::allMuxersOpen() const {
  for (const auto& m : muxers_)
    if (!m->isOpen()) return false;
  return true;
}

void IngestRun::dispatchAudio(const AVPacket* packet) {
  ++result_.counts.audioPackets;
  if (allMuxersOpen()) {
    for (auto& m : muxers_) m->writeAudio(packet, audio_->timeBase());
    return;
  }
  // Until the first video frame opens the muxers, audio and KLV wait here.
  QueuedPacket q{QueuedPacket::Audio, 0, audio_->timeBase(), PacketPtr(av_packet_clone(packet))};
  if (!q.packet) throw Error("ERR_NO_MEMORY", "transcode", "out of memory queueing an audio packet");
  enqueue(std::move(q));
}

void IngestRun::enqueue(QueuedPacket q) {
  // Bounded: an input (a live one above all) whose video never decodes must not grow memory
  // without end; this many packets is minutes of audio and KLV.
  if (queue_.size() >= kMaxQueuedPackets) {
    throw Error("ERR_DECODE", "transcode",
                "no video frame decoded while " + std::to_string(kMaxQueuedPackets) + " audio and KLV packets arrived" +
                    (decoder_->errors() ? " (" + std::to_string(decoder_->errors()) + " decode errors: " + decoder_->lastError() + ")" : ""));
  }
  queue_.push_back(std::move(q));
}

void IngestRun::dispatchKlv(size_t klvIndex, const AVPacket* packet, AVRational tb) {
  if (allMuxersOpen()) {
    for (auto& m : muxers_) m->writeKlv(klvIndex, packet, tb);
    return;
  }
  QueuedPacket q{QueuedPacket::Klv, klvIndex, tb, PacketPtr(av_packet_clone(packet))};
  if (!q.packet) throw Error("ERR_NO_MEMORY", "transcode", "out of memory queueing a KLV packet");
  enqueue(std::move(q));
}

void IngestRun::flushQueue() {
  while (!queue_.empty()) {
    QueuedPacket& q = queue_.front();
    for (auto& m : muxers_) {
      if (q.kind == QueuedPacket::Audio) m->writeAudio(q.packet.get(), q.timeBase);
      else m->writeKlv(q.klvIndex, q.packet.get(), q.timeBase);
    }
    queue_.pop_front();
  }
}

void IngestRun::drain() {
  decoder_->decode(nullptr, [this](AVFrame* f) { onDecoded(f); });
  cancel_.throwIfStopped("transcode");
  if (prep_) {
    prep_->push(nullptr);
    drainPrep();
  }
  for (size_t i = 0; i < rungs_.size(); ++i) {
    cancel_.throwIfStopped("transcode");
    RungEncoder::FrameFn tap;
    if (i == 0 && previewFromTopRung_) tap = [this](const AVFrame* f) { feedPreview(f); };
    rungs_[i]->finish([this, i](const AVCodecContext* c) { openMuxer(i, c); }, [this, i](AVPacket* p) { muxers_[i]->writeVideo(p, rungs_[i]->timeBase()); },
                      tap);
  }
  if (audio_) audio_->push(nullptr, [this](AVPacket* p) { dispatchAudio(p); });
  klv_->finish([this](size_t k, const AVPacket* p, AVRational tb) { dispatchKlv(k, p, tb); });
  if (telemetry_) telemetry_->finish([](size_t, const AVPacket*, AVRational) {});

  result_.counts.decodeErrors = decoder_->errors();
  if (!allMuxersOpen() || result_.counts.framesOut == 0) {
    std::string why = std::to_string(result_.counts.videoPackets) + " video packets read, " + std::to_string(decoder_->errors()) + " rejected";
    if (!decoder_->lastError().empty()) why += " (" + decoder_->lastError() + ")";
    throw Error("ERR_DECODE", "decode", "no usable video came out of " + job_.input + ": " + why);
  }
  flushQueue();
  tick(true);
}

void IngestRun::finalize() {
  IngestCounts& c = result_.counts;
  c.bytesRead = input_->bytesRead();
  c.decodeErrors = decoder_->errors();
  c.audioDecodeErrors = audio_ ? audio_->decodeErrors() : 0;
  c.klvPackets = klv_->packets();
  c.klvUnits = klv_->units();
  c.klvBytes = klv_->bytes();
  c.klvPtsInferred = klv_->inferred();
  c.klvGarbageBytes = klv_->garbageBytes();
  c.klvTruncatedUnits = klv_->truncatedUnits();
  if (c.decodeErrors > 0 || decoder_->damagedFrames() > 0 || c.corruptPackets > 0) {
    warn("DECODE_ERRORS", std::to_string(c.decodeErrors) + " video decode errors, " + std::to_string(decoder_->damagedFrames()) +
                              " frames decoded with concealed damage, " + std::to_string(c.corruptPackets) + " damaged packets; " +
                              std::to_string(c.framesDecoded) + " frames decoded");
  }
  if (c.audioDecodeErrors > 0) warn("AUDIO_DECODE_ERRORS", std::to_string(c.audioDecodeErrors) + " audio packets could not be decoded");
  if (c.klvTruncatedUnits > 0) warn("KLV_TRUNCATED", std::to_string(c.klvTruncatedUnits) + " KLV unit(s) cut off at the end of the input were dropped");
  result_.duration = std::max(0.0, lastDisplaySeconds_ - segments_.origin + frameDuration_);
  result_.hardware.scaler = rungs_.front()->filterDescription().find("scale_cuda") != std::string::npos    ? "scale_cuda"
                            : rungs_.front()->filterDescription().find("scale_vaapi") != std::string::npos ? "scale_vaapi"
                                                                                                          : "swscale";
  observer_.onStep("transcode");
  observer_.onStep("klv");

  for (auto& m : muxers_) {
    cancel_.throwIfStopped("hls");
    m->finish();
  }
  for (size_t i = 0; i < muxers_.size(); ++i) {
    RenditionResult& r = result_.renditions[i];
    const std::string playlist = (std::filesystem::path(job_.outDir) / muxers_[i]->playlistRelative()).string();
    const MediaPlaylistStats stats = readMediaPlaylist(playlist);
    // A finished playlist's target duration must cover every segment rounded half up.
    if (!job_.live.enabled && stats.targetDuration > stats.declaredTargetDuration) rewriteTargetDuration(playlist, stats.targetDuration);
    r.segments = stats.segments;
    r.duration = stats.duration;
    r.bytes = stats.bytes;
    r.bandwidth = stats.peakBitrate;
    r.averageBandwidth = stats.averageBitrate;
    r.frames = rungs_[i]->frames();
    r.klvPackets = muxers_[i]->klvPackets();
    r.codecs = videoCodecString(muxers_[i]->videoParameters());
    if (const AVCodecParameters* a = muxers_[i]->audioParameters()) r.codecs += "," + audioCodecString(a);
  }
  observer_.onStep("hls");

  if (previews_) {
    cancel_.throwIfStopped("previews");
    previews_->finish();
    result_.hasPreviews = true;
    result_.previews = previews_->result();
    if (job_.previewOptions.poster) observer_.onStep("poster");
    if (job_.previewOptions.thumbnails) observer_.onStep("previews");
  }

  writeMaster(true);
  AbrInfo info;
  info.master = "ABR.m3u8";
  info.segmentSeconds = job_.segmentSeconds;
  info.segmentFormat = toString(job_.segmentFormat);
  info.codec = toString(job_.codec);
  info.audio = result_.audio;
  info.klv = result_.klv;
  info.duration = result_.duration;
  info.source = &result_.source;
  info.hardware = &result_.hardware;
  info.renditions = &result_.renditions;
  writeAbrInfo((std::filesystem::path(job_.outDir) / "abr.json").string(), info);
  result_.masterPlaylist = "ABR.m3u8";
  result_.abrInfo = "abr.json";
  observer_.onStep("abr");
}

void IngestRun::writeMaster(bool measured) {
  std::vector<RenditionResult> rows = result_.renditions;
  if (!measured) {
    // A live ladder has nothing measured yet: announce the configured peaks.
    for (RenditionResult& r : rows) {
      r.bandwidth = r.maxBitrate + r.audioBitrate;
      r.averageBandwidth = r.videoBitrate + r.audioBitrate;
      for (size_t i = 0; i < muxers_.size(); ++i) {
        if (muxers_[i]->name() != r.name) continue;
        r.codecs = videoCodecString(muxers_[i]->videoParameters());
        if (const AVCodecParameters* a = muxers_[i]->audioParameters()) r.codecs += "," + audioCodecString(a);
      }
    }
  }
  writeMasterPlaylist((std::filesystem::path(job_.outDir) / "ABR.m3u8").string(), rows, job_.segmentFormat == SegmentFormat::Fmp4);
}

void IngestRun::noteDamage(const std::string& what) {
  if (warnedDamage_) return;
  warnedDamage_ = true;
  warn("INPUT_DAMAGED", what + "; the pass goes on and the totals are reported when it ends");
}

void IngestRun::warn(const std::string& code, const std::string& message) {
  std::lock_guard<std::mutex> lock(warnMutex_);
  IngestWarning w{code, redactSecrets(message)};
  result_.warnings.push_back(w);
  observer_.onWarning(w);
}

void IngestRun::tick(bool force) {
  klv_->deliver(false);
  const auto now = Clock::now();
  if (!force && now - lastTick_ < std::chrono::milliseconds(job_.progressIntervalMs)) return;
  lastTick_ = now;
  IngestProgress p;
  p.frames = result_.counts.framesOut;
  p.outTime = segments_.started ? std::max(0.0, lastDisplaySeconds_ - segments_.origin) : 0.0;
  p.elapsedSeconds = std::chrono::duration<double>(now - passStarted_).count();
  p.bytesRead = input_->bytesRead();
  if (p.elapsedSeconds > 0) {
    p.fps = p.frames / p.elapsedSeconds;
    p.speed = p.outTime / p.elapsedSeconds;
  }
  if (duration_ > 0) {
    p.percent = std::min(100.0, 100.0 * p.outTime / duration_);
    if (p.speed > 0) p.etaSeconds = std::max(0.0, (duration_ - p.outTime) / p.speed);
  }
  if (job_.live.enabled) {
    p.lagSeconds = lagSeconds_;
    p.segments = muxers_.empty() ? 0 : muxers_.front()->liveSegments();
  }
  observer_.onProgress(p);
}

}  // namespace

Error IngestRun::explained(const Error& e) const {
  const std::string why = log_.lastError();
  if (why.empty() || e.code() == "ERR_CANCELLED" || e.code() == "ERR_TIMEOUT") return e;
  const std::string message = e.what();
  const auto close = why.find("] ");
  const std::string text = why.compare(0, 1, "[") == 0 && close != std::string::npos ? why.substr(close + 2) : why;
  if (message.find(text) != std::string::npos) return e;
  return Error(e.code(), e.step(), message + " (FFmpeg: " + why + ")", e.averror());
}

IngestResult runIngest(const IngestJob& job, IngestObserver& observer, CancelToken& cancel) {
  IngestRun run(job, observer, cancel);
  try {
    return run.run();
  } catch (const Error& e) {
    throw run.explained(e);
  }
}

}  // namespace fmv
