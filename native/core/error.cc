#include "core/error.h"

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

Error::Error(std::string code, std::string step, const std::string& message, int averror)
    : std::runtime_error(message),
      code_(std::move(code)),
      step_(std::move(step)),
      averror_(averror),
      averrorText_(avErrorText(averror)) {}

int checkAv(int ret, const char* code, const char* step, const std::string& what) {
  if (ret >= 0) return ret;
  throw Error(code, step, what + ": " + avErrorText(ret), ret);
}

}  // namespace fmv
