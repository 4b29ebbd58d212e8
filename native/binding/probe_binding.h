#pragma once

#include <napi.h>

#include "core/input.h"
#include "core/probe.h"

namespace fmv::binding {

Napi::Value Probe(const Napi::CallbackInfo& info);
Napi::Value probeResultToJs(Napi::Env env, const fmv::ProbeResult& r);
fmv::InputOptions readInputOptions(const Napi::Object& o);

}  // namespace fmv::binding
