// The local-files backend of ObjectStore (`file:///DIR`): an object is the file DIR/KEY, with
// the key's '/' segments as directories. Everything goes through io::FileSystem, so tests
// inject crashes and faults.
//
// Put writes DIR/.../.NAME.tmp-N, fsyncs it, renames it onto DIR/.../NAME and fsyncs the
// directory: after a crash the key holds the previous object or the new one, whole (temp files
// a crash leaves behind are dot-files that listings skip, and the next Put of the key replaces
// them). if_none_match is honoured (checked under a process-wide lock, so concurrent Puts of
// one key in this process cannot both win).
//
// List walks the tree and returns keys in byte order, as S3 does; names starting with '.'
// (temp files) are not objects.
//
// Thread safety: as ObjectStore.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "io/file_system.h"
#include "objstore/object_store.h"

namespace eddy::objstore {

class LocalObjectStore final : public ObjectStore {
 public:
  // `root` is an absolute directory path; `file_system` null means io::DefaultFileSystem().
  LocalObjectStore(std::string root, io::FileSystem* file_system = nullptr);

  Status Check() override;
  Status Put(std::string_view key, std::string_view bytes, const PutOptions& options) override;
  Result<std::string> Get(std::string_view key) override;
  Result<std::optional<ObjectInfo>> Head(std::string_view key) override;
  Status Delete(std::string_view key) override;
  Result<ListPage> List(std::string_view prefix, std::string_view start_after,
                        std::string_view continuation, size_t max_keys) override;
  bool HonoursIfNoneMatch() const override { return true; }
  std::string Describe(std::string_view key) const override;
  void Close() override {}

  const std::string& root() const { return root_; }

 private:
  Status Walk(const std::string& directory, const std::string& key_prefix, std::string_view prefix,
              std::vector<ObjectInfo>* out);

  std::string root_;  // without a trailing slash
  io::FileSystem* const file_system_;
};

}  // namespace eddy::objstore
