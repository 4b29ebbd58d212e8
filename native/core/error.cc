#include "core/error.h"

#include <regex>

extern "C" {
#include <libavutil/error.h>
}

namespace fmv {

std::string avErrorText(int averror) {
  if (averror == 0) return {};
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  if (av_strerror(averror, buf, sizeof buf) < 0) return "FFmpeg error " + std::to_string(averror);
  return buf;
}

std::string redactSecrets(const std::string& text) {
  // Addresses in messages keep their shape but not their credentials (user:password@, and the
  // passphrase-like query parameters SRT, RIST and RTMP take).
  static const std::regex userinfo(R"(//[^/@\s]*@)");
  static const std::regex secrets(R"(([?&](?:passphrase|password|pass|pwd|key|token|secret)=)[^&#\s]*)", std::regex::icase);
  if (text.find('@') == std::string::npos && text.find('=') == std::string::npos) return text;
  return std::regex_replace(std::regex_replace(text, userinfo, "//<redacted>@"), secrets, "$1<redacted>");
}

Error::Error(std::string code, std::string step, const std::string& message, int averror)
    : std::runtime_error(redactSecrets(message)),
      code_(std::move(code)),
      step_(std::move(step)),
      averror_(averror),
      averrorText_(avErrorText(averror)) {}

int checkAv(int ret, const char* code, const char* step, const std::string& what) {
  if (ret >= 0) return ret;
  throw Error(code, step, what + ": " + avErrorText(ret), ret);
}

}  // namespace fmv
