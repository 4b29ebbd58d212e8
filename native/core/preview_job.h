// previews over a file or URL on its own: demux, decode the best video stream in software,
// deinterlace when the stream is interlaced, and feed a PreviewSink.
#pragma once

#include <string>

#include "core/cancel.h"
#include "core/input.h"
#include "core/preview_sink.h"

namespace fmv {

struct PreviewJobOptions {
  InputOptions input;
  // outDir and the image settings; startTime, durationHint and an unset displayAspectRatio are
  // filled from the input.
  PreviewOptions previews;
  // Stop after this many seconds of video (for live inputs); < 0: read to the end.
  double durationLimit = -1;
};

struct PreviewJobResult {
  PreviewResult previews;
  int64_t framesDecoded = 0;
  int64_t decodeErrors = 0;   // packets or frames the decoder rejected; the run goes on past them
  int64_t damagedFrames = 0;  // frames decoded with concealed errors (still used)
  std::string lastDecodeError;
  bool deinterlaced = false;
  bool stoppedAtLimit = false;
};

// Throws Error: from opening (step "open"/"probe"), ERR_NO_VIDEO_STREAM, ERR_DECODER_NOT_FOUND /
// ERR_DECODE (step "decode") when no frame decodes at all, ERR_POSTER / ERR_PREVIEWS, and
// ERR_CANCELLED / ERR_TIMEOUT (step "previews"). Files of a failed run are removed.
PreviewJobResult runPreviewJob(const std::string& url, const PreviewJobOptions& options, CancelToken& cancel);

}  // namespace fmv
