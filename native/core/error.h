// Typed errors of the core. The binding turns them into the JS MediaError class.
#pragma once

#include <stdexcept>
#include <string>

namespace fmv {

// The text with credentials in addresses replaced by <redacted> (messages reach logs and clients).
std::string redactSecrets(const std::string& text);

// A failure with a stable machine code (ERR_*), the step it happened in, and FFmpeg's error when
// there is one. Credentials in the message are redacted.
class Error : public std::runtime_error {
 public:
  Error(std::string code, std::string step, const std::string& message, int averror = 0);

  const std::string& code() const noexcept { return code_; }
  const std::string& step() const noexcept { return step_; }
  int averror() const noexcept { return averror_; }
  // FFmpeg's text for averror ("" when averror is 0).
  const std::string& averrorText() const noexcept { return averrorText_; }

 private:
  std::string code_;
  std::string step_;
  int averror_;
  std::string averrorText_;
};

// FFmpeg's av_strerror text for a negative return code.
std::string avErrorText(int averror);

// Returns ret when it is not negative; otherwise throws Error(code, step, what + ": " + FFmpeg text).
int checkAv(int ret, const char* code, const char* step, const std::string& what);

}  // namespace fmv
