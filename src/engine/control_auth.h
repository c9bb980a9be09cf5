// Authentication of eddy's control plane on the API port: the admin API (/admin/v1/), Kafka
// Connect's REST API (/connectors, /connector-plugins) and the DSQL stream API (/stream/).
// One check for all three, with one SigV4 verifier (api/sigv4.h, the code that verifies the
// Kinesis API's signatures):
//
// - `[api] admin_token` (or EDDY_ADMIN_TOKEN): `Authorization: Bearer TOKEN`, or a SigV4
//   signature by access key id kControlAccessKeyId ("eddy-admin") with the token as the secret
//   key (what an AWS SDK sends when given those credentials).
// - `[api] access_key_id` + `[api] secret_access_key` (or EDDY_API_SECRET_ACCESS_KEY): a SigV4
//   signature with those credentials (boto3's SigV4Auth, the AWS CLI, the AWS SDKs). With
//   them the Kinesis and DynamoDB Streams API verifies the same signatures (Verifier()).
//
// With neither configured the control plane is open (loopback by default; the engine warns
// at start when the API listens beyond loopback without authentication).
//
// Thread safety: immutable after Make; Check may be called from any thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/http.h"
#include "api/sigv4.h"
#include "engine/config.h"

namespace eddy::engine {

inline constexpr std::string_view kControlAccessKeyId = "eddy-admin";

class ControlAuth {
 public:
  static std::shared_ptr<const ControlAuth> Make(const ApiConfig& api);
  // No authentication configured: every request passes.
  static std::shared_ptr<const ControlAuth> Open();

  // Whether requests must authenticate.
  bool required() const { return !token_.empty() || !secrets_.empty(); }
  // std::nullopt when `request` may pass; otherwise why it is refused and how to fix it (for
  // a 401/403 body).
  std::optional<std::string> Check(const api::HttpRequest& request) const;
  // The verifier of every configured SigV4 credential; empty when none.
  const api::CredentialVerifier& verifier() const { return verifier_; }
  // The verifier for the Kinesis/DynamoDB Streams API: set only with [api] access_key_id.
  api::CredentialVerifier DataApiVerifier() const;

 private:
  std::string token_;
  std::map<std::string, std::string> secrets_;  // access key id -> secret
  bool data_api_ = false;
  api::CredentialVerifier verifier_;
};

}  // namespace eddy::engine
