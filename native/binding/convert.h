// Conversions between JS values and core structs that more than one binding uses.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "core/klv_framing.h"
#include "core/preview_sink.h"

namespace fmv::binding {

Napi::Value orNull(Napi::Env env, double value, bool known);
Napi::Value stringOrNull(Napi::Env env, const std::string& s);

// A batch of KLV units as { data: Buffer (units back to back), meta: Float64Array (7 numbers per
// unit: stream, pid, carriage, pts or NaN, ptsInferred, byteOffset, length) }: two JS objects per
// batch instead of several per unit; src/klv-extract.ts unpacks it.
Napi::Object klvBatchToJs(Napi::Env env, const std::vector<fmv::KlvUnit>& units);

// Reads the poster and thumbnail settings (as src/previews.ts validates them) over the defaults in s.
void readPreviewOptions(const Napi::Object& o, fmv::PreviewOptions& s);

// Poster, thumbnails and sprite sheets, as src/previews.ts describes them.
Napi::Object previewsToJs(Napi::Env env, const fmv::PreviewResult& r);

}  // namespace fmv::binding
