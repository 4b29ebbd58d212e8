// MPEG-TS program tables (PAT/PMT) read from the raw bytes of a transport stream.
// libavformat exposes neither the PMT stream_type nor its descriptors, and the KLV carriage
// (0x15 sync metadata vs 0x06 private data with a KLVA registration) is decided there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fmv {

struct PmtDescriptor {
  uint8_t tag = 0;
  std::vector<uint8_t> data;
};

struct PmtStream {
  int pid = 0;
  int programNumber = 0;
  uint8_t streamType = 0;
  std::vector<PmtDescriptor> descriptors;
  // Format identifier of a registration descriptor (tag 0x05), e.g. "KLVA"; empty when absent.
  std::string registration;
  // Format identifier inside a metadata descriptor (tag 0x26), e.g. "KLVA" for sync KLV.
  std::string metadataFormat;
};

// Incremental parser: feed it bytes as they are read (any chunking); it finds the packet size
// (188, 192 or 204), reassembles PSI sections across packets and keeps the latest PMTs.
class TsProgramTables {
 public:
  void feed(const uint8_t* data, size_t size);

  bool isTransportStream() const { return packetSize_ != 0; }
  // True once a PAT was read and every program it lists has a PMT.
  bool complete() const;
  const std::map<int, PmtStream>& streams() const { return streams_; }
  const PmtStream* stream(int pid) const;

 private:
  void detectPacketSize();
  void parsePacket(const uint8_t* p);
  void parseSection(int pid, const std::vector<uint8_t>& section);
  void parsePat(const std::vector<uint8_t>& s);
  void parsePmt(const std::vector<uint8_t>& s);

  std::vector<uint8_t> pending_;
  size_t packetSize_ = 0;
  bool gaveUp_ = false;
  std::map<int, int> pmtPids_;  // PMT PID -> program number
  std::map<int, bool> pmtSeen_;
  std::map<int, std::vector<uint8_t>> sectionBuffers_;
  std::map<int, PmtStream> streams_;
};

}  // namespace fmv
