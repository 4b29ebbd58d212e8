// ingest(input, options, onEvent) → { cancel() }: a whole ingest on its own native thread,
// reporting through a thread-safe function; capabilities() → Promise of what this machine can run.
#pragma once

#include <napi.h>

#include "core/ingest_hw.h"
#include "core/ingest_options.h"
#include "core/ingest_result.h"

namespace fmv::binding {

Napi::Value Ingest(const Napi::CallbackInfo& info);
Napi::Value Capabilities(const Napi::CallbackInfo& info);

// Plain struct from the options object that TypeScript validated.
fmv::IngestJob readIngestJob(const std::string& input, const Napi::Object& o);
Napi::Value ingestResultToJs(Napi::Env env, const fmv::IngestResult& r);
Napi::Value capabilitiesToJs(Napi::Env env, const fmv::Capabilities& c);

}  // namespace fmv::binding
