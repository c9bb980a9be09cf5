#include "engine/control_auth.h"

#include <fmt/format.h>
#include <strings.h>

#include "engine/admin_api.h"

namespace eddy::engine {

std::shared_ptr<const ControlAuth> ControlAuth::Make(const ApiConfig& api) {
  auto auth = std::make_shared<ControlAuth>();
  auth->token_ = api.admin_token;
  if (!api.admin_token.empty()) auth->secrets_[std::string(kControlAccessKeyId)] = api.admin_token;
  if (!api.access_key_id.empty()) {
    auth->secrets_[api.access_key_id] = api.secret_access_key;
    auth->data_api_ = true;
  }
  if (!auth->secrets_.empty()) auth->verifier_ = api::MakeStaticCredentialVerifier(auth->secrets_);
  return auth;
}

std::shared_ptr<const ControlAuth> ControlAuth::Open() { return std::make_shared<ControlAuth>(); }

api::CredentialVerifier ControlAuth::DataApiVerifier() const {
  return data_api_ ? verifier_ : api::CredentialVerifier();
}

std::optional<std::string> ControlAuth::Check(const api::HttpRequest& request) const {
  if (!required()) return std::nullopt;
  const std::string* authorization = request.Header("authorization");
  if (authorization != nullptr) {
    if (!token_.empty() && AdminAuthorized(*authorization, token_)) return std::nullopt;
    api::SigV4Outcome outcome = api::ParseSigV4(request);
    // The verifier also refuses an unsigned payload and an x-amz-content-sha256 that is not
    // the body's hash (api::CheckSignedPayload): a control-plane body is always signed.
    if (outcome.authorization) {
      auto rejected = verifier_(*outcome.authorization, request);
      if (!rejected) return std::nullopt;
      return fmt::format("the SigV4 signature of access key id '{}' was refused: {}",
                         outcome.authorization->access_key_id, rejected->message);
    }
  }
  std::string how;
  if (!token_.empty()) {
    how = fmt::format(
        "send Authorization: Bearer TOKEN ([api] admin_token or EDDY_ADMIN_TOKEN), or sign "
        "with SigV4 as access key id {} with the token as the secret key",
        kControlAccessKeyId);
  }
  for (const auto& [key, secret] : secrets_) {
    if (key == kControlAccessKeyId) continue;
    how += fmt::format(
        "{}sign with SigV4 as access key id {} ([api] access_key_id and "
        "secret_access_key)",
        how.empty() ? "" : ", or ", key);
  }
  if (authorization == nullptr) return "this eddy's control plane needs authentication: " + how;
  if (authorization->size() >= 7 && strncasecmp(authorization->c_str(), "Bearer ", 7) == 0) {
    if (token_.empty()) return "this eddy has no admin token to match a bearer token: " + how;
    return "the bearer token does not match this eddy's [api] admin_token (or "
           "EDDY_ADMIN_TOKEN); " +
           how;
  }
  return "the Authorization header was not accepted: " + how;
}

}  // namespace eddy::engine
