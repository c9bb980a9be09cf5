#include "objstore/store_url.h"

#include "objstore/s3_object_store.h"

namespace eddy::objstore {

Result<StoreUrl> ParseStoreUrl(std::string_view url, const StoreUrlForm& form) {
  std::string_view shown = url.substr(0, url.find('?'));
  auto invalid = [&](std::string_view what) {
    return InvalidArgument("sink URL '" + std::string(shown.substr(0, 200)) +
                           "': " + std::string(what) + "; write " + std::string(form.usage));
  };
  std::string_view rest = url.substr(0, url.find_first_of("?#"));
  for (char c : rest) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return invalid("it contains control characters");
  }
  StoreUrl parsed;
  if (rest.starts_with(form.file_scheme)) {
    parsed.local = true;
    std::string_view path = rest.substr(form.file_scheme.size());
    if (path.empty() || path.front() != '/') {
      return invalid("it needs an absolute directory (three slashes: " +
                     std::string(form.file_scheme) + "/DIR)");
    }
    std::string directory(path);
    while (directory.size() > 1 && directory.back() == '/') directory.pop_back();
    if (directory.find("/../") != std::string::npos || directory.ends_with("/..")) {
      return invalid("the directory contains '..'; give it without");
    }
    parsed.directory = std::move(directory);
    return parsed;
  }
  if (rest.starts_with(form.s3_scheme)) {
    std::string_view after = rest.substr(form.s3_scheme.size());
    size_t slash = after.find('/');
    std::string_view bucket = after.substr(0, slash);
    if (bucket.empty()) return invalid("the bucket is missing");
    Status valid = ValidateBucketName(bucket);
    if (!valid.ok()) return invalid(valid.message());
    parsed.bucket = std::string(bucket);
    std::string path(slash == std::string_view::npos ? std::string_view()
                                                     : after.substr(slash + 1));
    while (!path.empty() && path.back() == '/') path.pop_back();
    if (path.starts_with("/") || path.find("//") != std::string::npos) {
      return invalid("the " + std::string(form.path_name) + " has an empty segment ('//')");
    }
    parsed.path = std::move(path);
    return parsed;
  }
  return invalid("the scheme is not " + std::string(form.s3_scheme) + " or " +
                 std::string(form.file_scheme));
}

bool IsRegionName(std::string_view value) {
  return !value.empty() && value.size() <= 32 &&
         value.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos;
}

Result<std::string> ParseEndpointUrl(std::string_view value) {
  std::string endpoint(value);
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  bool valid = endpoint.starts_with("http://") || endpoint.starts_with("https://");
  std::string_view authority =
      valid ? std::string_view(endpoint).substr(endpoint.find("//") + 2) : std::string_view();
  if (!valid || authority.empty() || authority.find_first_of("/?#@ ") != std::string_view::npos) {
    return InvalidArgument("use the server's base URL without a path, like http://127.0.0.1:4568");
  }
  return endpoint;
}

}  // namespace eddy::objstore
