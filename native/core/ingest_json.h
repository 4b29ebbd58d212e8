// A small JSON writer (abr.json, the fmv-core tool's output). Values are appended in order; the
// writer inserts commas and escapes strings.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fmv {

class JsonWriter {
 public:
  explicit JsonWriter(bool pretty = true) : pretty_(pretty) {}

  JsonWriter& beginObject();
  JsonWriter& endObject();
  JsonWriter& beginArray();
  JsonWriter& endArray();
  JsonWriter& key(const std::string& k);
  JsonWriter& value(const std::string& s);
  JsonWriter& value(const char* s);
  JsonWriter& value(double d);  // non-finite → null
  JsonWriter& value(int64_t i);
  JsonWriter& value(int i) { return value(static_cast<int64_t>(i)); }
  JsonWriter& value(bool b);
  JsonWriter& null();

  const std::string& str() const { return out_; }

 private:
  void beforeValue();
  void newline();

  bool pretty_;
  std::string out_;
  std::vector<bool> hasItems_;  // per open container
  bool afterKey_ = false;
};

std::string jsonEscape(const std::string& s);

}  // namespace fmv
