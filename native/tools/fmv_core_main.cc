// fmv-core: the ingest core without Node, for profiling and GPU checks on machines without Node.
//
//   fmv-core ingest job.json [result.json]   run one ingest; the result (or error) as JSON on stdout
//   fmv-core capabilities                    what this machine can run (each hardware path opened)
//
// job.json is one flat JSON object (no nesting), e.g.
//   {"input": "clip.ts", "outDir": "out", "requestedResolutions": "uhd", "hwaccel": "cuda",
//    "preset": "veryfast", "segmentSeconds": 4, "previews": true, "ladder": "1080:6000000,720:3000000"}
// Keys: input, outDir (created when missing), requestedResolutions (sd|hd|fhd|uhd), hwaccel
// (auto|cpu|cuda|vaapi), hwDevice, codec (h264|hevc), preset, segmentSeconds, segmentFormat (ts|fmp4),
// previews (bool), previewIntervalSeconds, audio (bool), audioBitrate, timeoutMs, liveWindowSegments,
// ladder ("height:bitrate[:width],..."), progress (bool, progress lines on stderr).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "core/cancel.h"
#include "core/error.h"
#include "core/ingest_abr.h"
#include "core/ingest_hw.h"
#include "core/ingest_json.h"
#include "core/ingest_pipeline.h"

extern "C" {
#include <libavutil/log.h>
}

namespace {

// ---- a flat JSON object reader: strings, numbers, booleans and null ----

struct FlatValue {
  enum Kind { String, Number, Bool, Null } kind = Null;
  std::string text;
  double number = 0;
  bool flag = false;
};

class FlatJsonReader {
 public:
  explicit FlatJsonReader(std::string text) : s_(std::move(text)) {}

  std::map<std::string, FlatValue> read() {
    std::map<std::string, FlatValue> out;
    skip();
    expect('{');
    skip();
    if (peek() == '}') return out;
    for (;;) {
      skip();
      const std::string key = string();
      skip();
      expect(':');
      skip();
      out[key] = value();
      skip();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      expect('}');
      return out;
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw fmv::Error("ERR_INVALID_OPTION", "options", "job file: " + what + " at offset " + std::to_string(i_));
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  std::string string() {
    expect('"');
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c == '\\') {
        if (i_ >= s_.size()) fail("unterminated escape");
        const char e = s_[i_++];
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'r': out += '\r'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'u': {
            if (i_ + 4 > s_.size()) fail("short \\u escape");
            const unsigned cp = static_cast<unsigned>(std::stoul(s_.substr(i_, 4), nullptr, 16));
            i_ += 4;
            // Basic multilingual plane only: enough for paths and names.
            if (cp < 0x80) out += static_cast<char>(cp);
            else if (cp < 0x800) {
              out += static_cast<char>(0xC0 | (cp >> 6));
              out += static_cast<char>(0x80 | (cp & 0x3F));
            } else {
              out += static_cast<char>(0xE0 | (cp >> 12));
              out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
              out += static_cast<char>(0x80 | (cp & 0x3F));
            }
            break;
          }
          default: out += e;
        }
      } else {
        out += c;
      }
    }
    expect('"');
    return out;
  }
  FlatValue value() {
    FlatValue v;
    const char c = peek();
    if (c == '"') {
      v.kind = FlatValue::String;
      v.text = string();
    } else if (s_.compare(i_, 4, "true") == 0) {
      v.kind = FlatValue::Bool;
      v.flag = true;
      i_ += 4;
    } else if (s_.compare(i_, 5, "false") == 0) {
      v.kind = FlatValue::Bool;
      i_ += 5;
    } else if (s_.compare(i_, 4, "null") == 0) {
      i_ += 4;
    } else if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
      size_t used = 0;
      v.kind = FlatValue::Number;
      v.number = std::stod(s_.substr(i_), &used);
      i_ += used;
    } else if (c == '{' || c == '[') {
      fail("nested objects and arrays are not supported (the job file is flat)");
    } else {
      fail("unexpected character");
    }
    return v;
  }

  std::string s_;
  size_t i_ = 0;
};

// ---- job file → IngestJob ----

class Job {
 public:
  explicit Job(std::map<std::string, FlatValue> v) : v_(std::move(v)) {}

  std::string str(const std::string& k, const std::string& def = "") {
    auto it = take(k);
    if (!it) return def;
    if (it->kind != FlatValue::String) bad(k, "a string");
    return it->text;
  }
  double num(const std::string& k, double def) {
    auto it = take(k);
    if (!it) return def;
    if (it->kind != FlatValue::Number) bad(k, "a number");
    return it->number;
  }
  bool flag(const std::string& k, bool def) {
    auto it = take(k);
    if (!it) return def;
    if (it->kind != FlatValue::Bool) bad(k, "a boolean");
    return it->flag;
  }
  void rejectUnknown() const {
    for (const auto& [k, v] : v_)
      if (!used_.count(k)) throw fmv::Error("ERR_INVALID_OPTION", "options", "job file: unknown key '" + k + "'");
  }

 private:
  const FlatValue* take(const std::string& k) {
    used_[k] = true;
    auto it = v_.find(k);
    return it == v_.end() || it->second.kind == FlatValue::Null ? nullptr : &it->second;
  }
  [[noreturn]] static void bad(const std::string& k, const char* what) {
    throw fmv::Error("ERR_INVALID_OPTION", "options", std::string("job file: expected ") + what + " for " + k);
  }
  std::map<std::string, FlatValue> v_;
  std::map<std::string, bool> used_;
};

template <typename T>
T pick(const std::string& key, const std::string& value, const std::map<std::string, T>& allowed) {
  auto it = allowed.find(value);
  if (it == allowed.end()) throw fmv::Error("ERR_INVALID_OPTION", "options", "job file: unsupported " + key + " '" + value + "'");
  return it->second;
}

std::vector<fmv::RungSpec> parseLadder(const std::string& text) {
  std::vector<fmv::RungSpec> rungs;
  std::stringstream list(text);
  std::string item;
  while (std::getline(list, item, ',')) {
    fmv::RungSpec r;
    int width = 0;
    long long rate = 0;
    if (std::sscanf(item.c_str(), "%d:%lld:%d", &r.height, &rate, &width) < 1 || r.height <= 0 || r.height % 2)
      throw fmv::Error("ERR_INVALID_OPTION", "options", "job file: ladder entry '" + item + "' is not height:bitrate[:width]");
    r.videoBitrate = rate;
    r.width = width;
    rungs.push_back(r);
  }
  return rungs;
}

fmv::IngestJob readJob(const std::string& path, bool* progress) {
  std::ifstream in(path);
  if (!in) throw fmv::Error("ERR_INPUT_NOT_FOUND", "options", "cannot read the job file " + path);
  std::stringstream text;
  text << in.rdbuf();
  Job j(FlatJsonReader(text.str()).read());
  fmv::IngestJob job;
  job.input = j.str("input");
  if (job.input.empty()) throw fmv::Error("ERR_INVALID_OPTION", "options", "job file: input is required");
  job.outDir = j.str("outDir", "fmv-core-out");
  job.tier = pick<fmv::Tier>("requestedResolutions", j.str("requestedResolutions", "fhd"),
                             {{"sd", fmv::Tier::Sd}, {"hd", fmv::Tier::Hd}, {"fhd", fmv::Tier::Fhd}, {"uhd", fmv::Tier::Uhd}});
  job.hwaccel = pick<fmv::HwAccel>("hwaccel", j.str("hwaccel", "auto"),
                                   {{"auto", fmv::HwAccel::Auto}, {"cpu", fmv::HwAccel::Cpu}, {"cuda", fmv::HwAccel::Cuda}, {"vaapi", fmv::HwAccel::Vaapi}});
  job.hwDevice = j.str("hwDevice");
  job.codec = pick<fmv::VideoCodec>("codec", j.str("codec", "h264"), {{"h264", fmv::VideoCodec::H264}, {"hevc", fmv::VideoCodec::Hevc}});
  job.preset = j.str("preset", job.preset);
  job.segmentSeconds = j.num("segmentSeconds", job.segmentSeconds);
  job.segmentFormat = pick<fmv::SegmentFormat>("segmentFormat", j.str("segmentFormat", "ts"), {{"ts", fmv::SegmentFormat::Ts}, {"fmp4", fmv::SegmentFormat::Fmp4}});
  job.previews = j.flag("previews", true);
  job.previewOptions.thumbnailInterval = j.num("previewIntervalSeconds", job.previewOptions.thumbnailInterval);
  job.audio = j.flag("audio", true);
  job.audioBitrate = static_cast<int64_t>(j.num("audioBitrate", static_cast<double>(job.audioBitrate)));
  job.timeoutMs = static_cast<int64_t>(j.num("timeoutMs", 0));
  if (const int window = static_cast<int>(j.num("liveWindowSegments", 0)); window > 0) {
    job.live.enabled = true;
    job.live.playlist.windowSegments = window;
  }
  job.klv = false;  // units are muxed; nobody here decodes them
  const std::string ladder = j.str("ladder");
  if (!ladder.empty()) job.ladder = parseLadder(ladder);
  *progress = j.flag("progress", true);
  j.rejectUnknown();
  return job;
}

// ---- output ----

class StderrObserver : public fmv::IngestObserver {
 public:
  explicit StderrObserver(bool progress) : progress_(progress) {}
  void onPlan(const fmv::IngestPlanInfo& p) override {
    std::fprintf(stderr, "plan: %s (%s) decoder %s encoder %s; %zu rungs\n", p.hardware.used.c_str(), p.hardware.reason.c_str(), p.hardware.decoder.c_str(),
                 p.hardware.encoder.c_str(), p.renditions.size());
  }
  void onProgress(const fmv::IngestProgress& p) override {
    if (!progress_) return;
    std::fprintf(stderr, "frames %lld  time %.2f s  %.1f fps  %.2fx%s\n", static_cast<long long>(p.frames), p.outTime, p.fps, p.speed,
                 p.percent >= 0 ? (" " + std::to_string(static_cast<int>(p.percent)) + "%").c_str() : "");
  }
  void onWarning(const fmv::IngestWarning& w) override { std::fprintf(stderr, "warning %s: %s\n", w.code.c_str(), w.message.c_str()); }

 private:
  bool progress_;
};

void writeResult(fmv::JsonWriter& j, const fmv::IngestResult& r) {
  j.beginObject();
  j.key("ok").value(true);
  j.key("input").value(r.source.url);
  j.key("duration").value(r.duration);
  j.key("hardware");
  fmv::writeHardwareJson(j, r.hardware);
  j.key("timings").beginObject();
  j.key("openMs").value(r.timings.openMs);
  j.key("transcodeMs").value(r.timings.transcodeMs);
  j.key("finalizeMs").value(r.timings.finalizeMs);
  j.key("totalMs").value(r.timings.totalMs);
  j.endObject();
  const double seconds = r.timings.transcodeMs / 1000.0;
  j.key("fps").value(seconds > 0 ? r.counts.framesOut / seconds : 0.0);
  j.key("speed").value(seconds > 0 ? r.duration / seconds : 0.0);
  j.key("counts").beginObject();
  j.key("framesDecoded").value(r.counts.framesDecoded);
  j.key("framesOut").value(r.counts.framesOut);
  j.key("decodeErrors").value(r.counts.decodeErrors);
  j.key("klvUnits").value(r.counts.klvUnits);
  j.key("audioPackets").value(r.counts.audioPackets);
  j.endObject();
  j.key("renditions").beginArray();
  for (const auto& x : r.renditions) fmv::writeRenditionJson(j, x);
  j.endArray();
  j.key("warnings").beginArray();
  for (const auto& w : r.warnings) {
    j.beginObject();
    j.key("code").value(w.code);
    j.key("message").value(w.message);
    j.endObject();
  }
  j.endArray();
  j.key("files").beginArray();
  for (const auto& f : r.files) j.value(f);
  j.endArray();
  j.endObject();
}

void writeCapabilities(fmv::JsonWriter& j, const fmv::Capabilities& c) {
  j.beginObject();
  j.key("ffmpeg").value(c.ffmpeg);
  j.key("paths").beginObject();
  for (const auto& p : c.paths) {
    j.key(p.name).beginObject();
    j.key("available").value(p.available);
    j.key("device").value(p.device);
    j.key("reason").value(p.reason);
    j.key("decoders").beginArray();
    for (const auto& d : p.decoders) j.value(d);
    j.endArray();
    j.key("scale").value(p.scale);
    j.key("encoders").beginArray();
    for (const auto& e : p.encoders) j.value(e);
    j.endArray();
    j.key("notes").beginArray();
    for (const auto& n : p.notes) j.value(n);
    j.endArray();
    j.endObject();
  }
  j.endObject();
  j.endObject();
}

void writeError(fmv::JsonWriter& j, const fmv::Error& e) {
  j.beginObject();
  j.key("ok").value(false);
  j.key("code").value(e.code());
  j.key("step").value(e.step());
  j.key("message").value(std::string(e.what()));
  if (e.averror()) j.key("averrorText").value(e.averrorText());
  j.endObject();
}

int usage() {
  std::fprintf(stderr, "usage: fmv-core ingest job.json [result.json]\n       fmv-core capabilities\n");
  return 2;
}

void emit(const std::string& json, const char* path) {
  std::cout << json << std::endl;
  if (path) std::ofstream(path) << json << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  av_log_set_level(AV_LOG_ERROR);
  if (argc < 2) return usage();
  const std::string command = argv[1];
  fmv::JsonWriter out;
  try {
    if (command == "capabilities") {
      writeCapabilities(out, fmv::capabilities());
      emit(out.str(), argc > 2 ? argv[2] : nullptr);
      return 0;
    }
    if (command != "ingest" || argc < 3) return usage();
    bool progress = true;
    fmv::IngestJob job = readJob(argv[2], &progress);
    std::filesystem::create_directories(job.outDir);
    StderrObserver observer(progress);
    fmv::CancelToken cancel;
    const fmv::IngestResult result = fmv::runIngest(job, observer, cancel);
    writeResult(out, result);
    emit(out.str(), argc > 3 ? argv[3] : nullptr);
    return 0;
  } catch (const fmv::Error& e) {
    writeError(out, e);
  } catch (const std::exception& e) {
    writeError(out, fmv::Error("ERR_INTERNAL", "fmv-core", e.what()));
  }
  emit(out.str(), command == "ingest" && argc > 3 ? argv[3] : (command == "capabilities" && argc > 2 ? argv[2] : nullptr));
  return 1;
}
