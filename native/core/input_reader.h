// A live input read on its own thread: packets are taken from the demuxer the moment they arrive
// (and KLV handed on as telemetry at once) however long the pass spends decoding and encoding the
// frame before; the pass takes them from a bounded queue, in order. A file needs none of this and
// is read inline.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

#include "core/av_holders.h"

namespace fmv {

// One read from the input, with what the reader noticed around it.
struct InputItem {
  PacketPtr packet;           // allocated by the first read into this item
  int ret = 0;                // av_read_frame's answer; < 0 ends the stream of items
  int64_t arrivedMs = 0;      // wall clock when the demuxer handed the packet over
  double jump = 0;            // the timeline mender joined a timestamp jump of this size here
  bool resumed = false;       // the input came back after a stall just before this packet
  std::exception_ptr error;   // the reader failed (ret < 0 too)
};

class InputReader {
 public:
  using ReadFn = std::function<void(InputItem&)>;
  // read fills one item (blocking on the input); stop() makes a blocked read return.
  InputReader(ReadFn read, std::function<void()> stop, size_t capacity);
  ~InputReader();
  InputReader(const InputReader&) = delete;
  InputReader& operator=(const InputReader&) = delete;

  // The next item, waiting for it; after the last (ret < 0) there are none.
  InputItem next();

 private:
  void loop();

  ReadFn read_;
  std::function<void()> stop_;
  size_t capacity_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<InputItem> items_;
  bool closed_ = false;  // the pass is done with the reader
  bool done_ = false;    // the reader handed over its last item
  std::thread thread_;
};

}  // namespace fmv
