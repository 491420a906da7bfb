//! Passkeys on the [`Authenticator`]: one-line delegations to `services::passkey`
//! (docs/passkeys.md). The shell calls `passkey_create` / `passkey_get` only after the user
//! confirmed, and says `user_verified` only when the platform really verified the user
//! (biometrics or device credential).

use domain::passkey::PasskeyInfo;
use services::passkey::{self, PasskeyAssertion, PasskeyRegistration, User};

use crate::authenticator::Authenticator;
use crate::errors::FfiResult;

#[uniffi::export]
impl Authenticator {
    /// Creates a passkey for `request_json` (`PublicKeyCredentialCreationOptionsJSON`, what
    /// Credential Manager hands a provider as `requestJson`) from `origin`: a web origin
    /// (`https://…`) or an Android app's (`android:apk-key-hash:…`). `client_data_hash`: when a
    /// browser built its own client data (then `response.clientDataJSON` is empty). Returns the
    /// `RegistrationResponseJSON` and its parts. Refused with a `Passkey…` error or
    /// `UserVerificationRequired`, and then nothing is stored.
    #[uniffi::method(default(client_data_hash = None))]
    pub fn passkey_create(
        &self,
        request_json: String,
        origin: String,
        client_data_hash: Option<Vec<u8>>,
        user_verified: bool,
    ) -> FfiResult<PasskeyRegistration> {
        let user = User { verified: user_verified };
        self.changing(|v| passkey::create(v, &request_json, &origin, client_data_hash.as_deref(), user))
    }

    /// The stored passkeys that can answer `request_json` (`PublicKeyCredentialRequestOptionsJSON`)
    /// from `origin`, for the shell to offer (several: the user chooses). No key is opened.
    pub fn passkey_candidates(&self, request_json: String, origin: String) -> FfiResult<Vec<PasskeyInfo>> {
        self.with(|v| passkey::candidates(v, &request_json, &origin))
    }

    /// Signs `request_json` from `origin` with the passkey `credential_id` (one of the
    /// candidates). Returns the `AuthenticationResponseJSON` and its parts.
    #[uniffi::method(default(client_data_hash = None))]
    pub fn passkey_get(
        &self,
        request_json: String,
        origin: String,
        client_data_hash: Option<Vec<u8>>,
        credential_id: Vec<u8>,
        user_verified: bool,
    ) -> FfiResult<PasskeyAssertion> {
        let user = User { verified: user_verified };
        self.with(|v| passkey::get(v, &request_json, &origin, client_data_hash.as_deref(), &credential_id, user))
    }

    /// Creates a passkey from the parts iOS hands (`ASPasskeyCredentialRequest`: the system
    /// checked the rpId and hashed its client data). `uv_required`: the request's user
    /// verification preference is `required`. `excluded_credentials`: the relying party's
    /// excluded credential ids (iOS 18), empty when none.
    #[allow(clippy::too_many_arguments)]
    pub fn passkey_register_parts(
        &self,
        rp_id: String,
        user_name: String,
        user_display_name: String,
        user_handle: Vec<u8>,
        client_data_hash: Vec<u8>,
        user_verified: bool,
        uv_required: bool,
        excluded_credentials: Vec<Vec<u8>>,
    ) -> FfiResult<PasskeyRegistration> {
        let user = User { verified: user_verified };
        self.changing(|v| {
            passkey::create_parts(
                v,
                &rp_id,
                &user_name,
                &user_display_name,
                &user_handle,
                &client_data_hash,
                user,
                uv_required,
                excluded_credentials,
            )
        })
    }

    /// Signs with the passkey `credential_id` for `rp_id` from iOS's parts (the system hashed
    /// its client data).
    pub fn passkey_assert_parts(
        &self,
        rp_id: String,
        credential_id: Vec<u8>,
        client_data_hash: Vec<u8>,
        user_verified: bool,
        uv_required: bool,
    ) -> FfiResult<PasskeyAssertion> {
        let user = User { verified: user_verified };
        self.with(|v| passkey::get_parts(v, &rp_id, &credential_id, &client_data_hash, user, uv_required))
    }

    /// The stored passkeys, of `rp_id` or all (`None`), oldest first. Never a key.
    #[uniffi::method(default(rp_id = None))]
    pub fn passkeys(&self, rp_id: Option<String>) -> FfiResult<Vec<PasskeyInfo>> {
        self.with(|v| passkey::list(v, rp_id.as_deref()))
    }

    /// Gives passkey `id` the user's own name (empty: none).
    pub fn rename_passkey(&self, id: i64, name: String) -> FfiResult<()> {
        self.changing(|v| Ok(v.rename_passkey(id, &name)?))
    }

    /// Removes passkey `id` for good. The relying party still lists it until the user removes
    /// it there too.
    pub fn remove_passkey(&self, id: i64) -> FfiResult<()> {
        self.changing(|v| Ok(v.remove_passkey(id)?))
    }
}
