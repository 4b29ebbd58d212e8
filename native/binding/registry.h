// Each binding file registers its own exported functions, so adding a native call touches one file.
#pragma once

#include <napi.h>

#include <vector>

namespace fmv::binding {

using NativeFunction = Napi::Value (*)(const Napi::CallbackInfo&);

struct ExportedFunction {
  const char* name;
  NativeFunction fn;
};

std::vector<ExportedFunction>& exportedFunctions();

// Use at namespace scope in a binding file: `static const ExportFunction kProbe("probe", Probe);`
struct ExportFunction {
  ExportFunction(const char* name, NativeFunction fn) { exportedFunctions().push_back({name, fn}); }
};

}  // namespace fmv::binding
