#include "binding/convert.h"

#include "binding/addon_state.h"

#include <algorithm>
#include <cmath>

namespace fmv::binding {

Napi::Value orNull(Napi::Env env, double value, bool known) { return known ? Napi::Number::New(env, value) : env.Null(); }

Napi::Value stringOrNull(Napi::Env env, const std::string& s) { return s.empty() ? env.Null() : Napi::Value(Napi::String::New(env, s)); }

constexpr int kMetaFields = 7;  // stream, pid, sync, pts (NaN when none), ptsInferred, byteOffset, length

Napi::Object klvBatchToJs(Napi::Env env, const std::vector<fmv::KlvUnit>& units) {
  size_t total = 0;
  for (const auto& u : units) total += u.data.size();
  Napi::Buffer<uint8_t> data = Napi::Buffer<uint8_t>::New(env, total);
  Napi::Float64Array meta = Napi::Float64Array::New(env, units.size() * kMetaFields);
  double* m = meta.Data();
  uint8_t* d = data.Data();
  for (const auto& u : units) {
    m[0] = u.stream;
    m[1] = u.pid;
    m[2] = u.pid < 0 ? -1 : (u.sync ? 1 : 0);
    m[3] = u.hasPts ? u.pts : std::nan("");
    m[4] = u.ptsInferred ? 1 : 0;
    m[5] = static_cast<double>(u.byteOffset);
    m[6] = static_cast<double>(u.data.size());
    m += kMetaFields;
    std::copy(u.data.begin(), u.data.end(), d);
    d += u.data.size();
  }
  Napi::Object batch = Napi::Object::New(env);
  batch.Set("data", data);
  batch.Set("meta", meta);
  return batch;
}

Napi::Object previewsToJs(Napi::Env env, const fmv::PreviewResult& r) {
  Napi::Object o = Napi::Object::New(env);
  if (r.posterPath.empty()) {
    o.Set("poster", env.Null());
  } else {
    Napi::Object poster = Napi::Object::New(env);
    poster.Set("path", r.posterPath);
    poster.Set("width", r.posterWidth);
    poster.Set("height", r.posterHeight);
    poster.Set("bytes", static_cast<double>(r.posterBytes));
    poster.Set("time", r.posterTime);
    poster.Set("interesting", r.posterInteresting);
    o.Set("poster", poster);
  }
  Napi::Object thumbs = Napi::Object::New(env);
  thumbs.Set("count", r.thumbnails);
  thumbs.Set("width", r.thumbnailWidth);
  thumbs.Set("height", r.thumbnailHeight);
  thumbs.Set("directory", stringOrNull(env, r.thumbnailDir));
  o.Set("thumbnails", thumbs);
  Napi::Array sprites = Napi::Array::New(env, r.sprites.size());
  for (size_t i = 0; i < r.sprites.size(); ++i) {
    const fmv::SpriteSheet& s = r.sprites[i];
    Napi::Object sheet = Napi::Object::New(env);
    sheet.Set("path", s.path);
    sheet.Set("tiles", s.tiles);
    sheet.Set("firstTile", s.firstTile);
    sheet.Set("columns", s.columns);
    sheet.Set("rows", s.rows);
    sheet.Set("width", s.width);
    sheet.Set("height", s.height);
    sprites.Set(i, sheet);
  }
  o.Set("sprites", sprites);
  o.Set("vtt", stringOrNull(env, r.vttPath));
  o.Set("skippedDarkFrames", static_cast<double>(r.skippedDarkFrames));
  o.Set("startTime", r.startTime);
  o.Set("duration", r.duration);
  o.Set("frames", static_cast<double>(r.frames));
  return o;
}

void readPreviewOptions(const Napi::Object& o, fmv::PreviewOptions& s) {
  s.poster = optBool(o, "poster", s.poster);
  s.posterName = optString(o, "posterName", s.posterName);
  s.posterMaxWidth = static_cast<int>(optInt(o, "posterMaxWidth", s.posterMaxWidth));
  s.posterTime = optNumber(o, "posterTime", s.posterTime);
  s.posterSearchSeconds = optNumber(o, "posterSearchSeconds", s.posterSearchSeconds);
  s.thumbnails = optBool(o, "thumbnails", s.thumbnails);
  s.thumbnailInterval = optNumber(o, "thumbnailInterval", s.thumbnailInterval);
  s.thumbnailWidth = static_cast<int>(optInt(o, "thumbnailWidth", s.thumbnailWidth));
  s.spriteColumns = static_cast<int>(optInt(o, "spriteColumns", s.spriteColumns));
  s.spriteMaxTiles = static_cast<int>(optInt(o, "spriteMaxTiles", s.spriteMaxTiles));
  s.writeThumbnails = optBool(o, "writeThumbnails", s.writeThumbnails);
  s.quality = static_cast<int>(optInt(o, "quality", s.quality));
  Napi::Value dar = o.Get("displayAspectRatio");
  if (dar.IsObject()) {
    const Napi::Object r = dar.As<Napi::Object>();
    s.displayAspectRatio = AVRational{static_cast<int>(optInt(r, "num", 0)), static_cast<int>(optInt(r, "den", 1))};
  }
}

}  // namespace fmv::binding
