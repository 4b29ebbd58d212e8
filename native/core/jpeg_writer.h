// JPEG encoding with FFmpeg's mjpeg encoder, and files that appear complete or not at all.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

extern "C" {
#include <libavutil/frame.h>
}

namespace fmv {

// Encodes one full-range 4:2:0 frame (AV_PIX_FMT_YUVJ420P) as a baseline JPEG. quality is 1..100
// (100 best). Failures throw Error(code, step, ...).
std::vector<uint8_t> encodeJpeg(const AVFrame* frame, int quality, const char* code, const char* step);

// Writes data to path + ".tmp" and renames it over path, so readers never see a partial file.
void writeFileAtomically(const std::string& path, const std::vector<uint8_t>& data, const char* code, const char* step);

}  // namespace fmv
