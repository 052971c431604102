// --counter file:PATH, the default: the high-water mark in a small file on this machine.
//
// The file is three 64-byte lines of text: a header, then two records
//   next=00000000000000012001 seq=00000000000000000013 crc=1a2b3c4d
// each the first number not yet reserved, a sequence number and a CRC-32 of the line
// before " crc=". A reservation writes the record not holding the newest sequence and
// fdatasyncs it before a number of it is used; a crash mid-write leaves the other,
// complete record, whose mark is at or above every number handed out. A graceful stop
// writes the exact next number. An flock keeps a second live hiserve off the file.
#pragma once
#include <memory>

#include "counter_store.hpp"

namespace hiserve {

class FileStore final : public CounterStore {
 public:
  // Opens (creating it at 1 if missing, atomically), locks and reads the file; nullptr
  // and a one-line *error if it cannot, is locked, or is not a whole counter file.
  static std::unique_ptr<FileStore> open(const std::string& path, std::string* error);
  // The same, on the open file an upgrading hiserve handed over (its lock comes with it).
  static std::unique_ptr<FileStore> adopt(int fd, const std::string& path, std::string* error);
  ~FileStore() override;

  const std::string& name() const noexcept override { return name_; }
  bool synchronous() const noexcept override { return true; }
  void reserve(std::uint64_t size, Done done, void* ctx) override;
  void release(std::uint64_t next) noexcept override;
  int handover_fd() const noexcept override { return fd_; }
  void resync(std::uint64_t next) noexcept override;

 private:
  FileStore(int fd, std::string name) noexcept : fd_(fd), name_(std::move(name)) {}
  // Locks and reads the open file; nullptr and a one-line *error if it cannot.
  static std::unique_ptr<FileStore> load(int fd, const std::string& name, std::string* error);
  // Reads the newest whole record into next_, seq_ and newest_slot_; "" or why not.
  std::string read_newest() noexcept;
  // Writes `next` as the newest record and makes it durable; errno-style code or 0.
  int write_record(std::uint64_t next) noexcept;

  int fd_;
  std::string name_;
  std::uint64_t next_ = 1;  // the first number not reserved
  std::uint64_t seq_ = 0;   // of the newest record
  int newest_slot_ = 0;
};

}  // namespace hiserve
