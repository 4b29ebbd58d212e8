// The single-pass ingest: one demux pass over the input; video decoded once (on the device when
// chosen), deinterlaced once, scaled and encoded per rung; audio copied or encoded once; KLV muxed
// unchanged into every rendition and handed out in batches; poster and previews taken from the
// same decoded frames. No second read of the input and no full-size intermediate file.
#pragma once

#include "core/cancel.h"
#include "core/ingest_options.h"
#include "core/ingest_result.h"

namespace fmv {

// Runs the whole job on the calling thread and reports through observer (on the same thread).
// Throws fmv::Error with a stable code and step; a failed or cancelled job removes every file it
// wrote in job.outDir. Damaged input is not an error while usable video comes out: decode errors
// and a cut-short input become warnings.
IngestResult runIngest(const IngestJob& job, IngestObserver& observer, CancelToken& cancel);

}  // namespace fmv
