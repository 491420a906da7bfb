use super::*;

fn web(origin: &str) -> Caller {
    Caller::parse(origin).expect("origin parses")
}

fn creation(extra: Value) -> String {
    let mut options = json!({
        "rp": {"id": "example.org", "name": "Example"},
        "user": {"id": b64url(b"user-1"), "name": "alice@example.org", "displayName": "Alice"},
        "challenge": b64url(b"0123456789abcdef"),
        "pubKeyCredParams": [{"type": "public-key", "alg": -8}, {"type": "public-key", "alg": -7}],
    });
    if let (Value::Object(options), Value::Object(extra)) = (&mut options, extra) {
        options.extend(extra);
    }
    options.to_string()
}

fn field_of(error: PasskeyError) -> String {
    match error {
        PasskeyError::Invalid { field, .. } => field,
        other => panic!("expected an invalid field, got {other:?}"),
    }
}

#[test]
fn a_creation_request_is_read_with_its_user_and_challenge() {
    let request = parse_create(&creation(json!({})), &web("https://example.org")).unwrap();
    assert_eq!(request.rp_id, "example.org");
    assert_eq!(request.rp_name, "Example");
    assert_eq!(request.user_handle, b"user-1");
    assert_eq!(request.user_name, "alice@example.org");
    assert_eq!(request.user_display_name, "Alice");
    assert_eq!(request.challenge, b"0123456789abcdef");
    assert_eq!(request.user_verification, UserVerification::Preferred);
    assert!(request.prf.is_none());
}

#[test]
fn options_wrapped_in_public_key_are_read_too() {
    let wrapped = format!("{{\"publicKey\": {}}}", creation(json!({})));
    assert_eq!(parse_create(&wrapped, &web("https://example.org")).unwrap().rp_id, "example.org");
}

#[test]
fn the_rp_id_defaults_to_the_origin_host() {
    let json = creation(json!({"rp": {"name": "Example"}}));
    assert_eq!(parse_create(&json, &web("https://login.example.org:8443")).unwrap().rp_id, "login.example.org");
}

#[test]
fn an_rp_id_of_another_site_is_refused() {
    let error = parse_create(&creation(json!({})), &web("https://example.com")).unwrap_err();
    assert!(matches!(error, PasskeyError::OriginRefused(_)), "{error:?}");
}

#[test]
fn an_rp_id_that_is_a_registrable_parent_of_the_host_is_accepted() {
    let request = parse_create(&creation(json!({})), &web("https://login.example.org")).unwrap();
    assert_eq!(request.rp_id, "example.org");
}

#[test]
fn a_public_suffix_as_rp_id_is_refused() {
    let json = creation(json!({"rp": {"id": "co.uk"}}));
    assert!(matches!(parse_create(&json, &web("https://shop.example.co.uk")), Err(PasskeyError::OriginRefused(_))));
}

#[test]
fn a_suffix_that_is_not_at_a_label_boundary_is_refused() {
    let json = creation(json!({"rp": {"id": "github.com"}}));
    assert!(matches!(parse_create(&json, &web("https://evilgithub.com")), Err(PasskeyError::OriginRefused(_))));
}

#[test]
fn http_is_refused_except_for_localhost() {
    assert!(matches!(Caller::parse("http://example.org"), Err(PasskeyError::OriginRefused(_))));
    let json = creation(json!({"rp": {"id": "localhost"}}));
    assert_eq!(parse_create(&json, &web("http://localhost:8080")).unwrap().rp_id, "localhost");
}

#[test]
fn malformed_origins_are_refused() {
    for origin in [
        "ftp://example.org",
        "https://",
        "https://exa mple.org",
        "https://example.org/path",
        "https://127.0.0.1",
        "https://-a.org",
        "example.org",
    ] {
        assert!(matches!(Caller::parse(origin), Err(PasskeyError::OriginRefused(_))), "{origin}");
    }
}

#[test]
fn an_android_app_caller_needs_an_rp_id_and_skips_the_host_check() {
    let origin = format!("android:apk-key-hash:{}", b64url(&[7; 32]));
    let app = Caller::parse(&origin).unwrap();
    assert_eq!(app.origin(), Some(origin.as_str()));
    assert_eq!(parse_create(&creation(json!({})), &app).unwrap().rp_id, "example.org");
    let json = creation(json!({"rp": {"name": "x"}}));
    assert_eq!(field_of(parse_create(&json, &app).unwrap_err()), "rp.id");
    assert!(Caller::parse("android:apk-key-hash:AAAA").is_err(), "not 32 bytes");
}

#[test]
fn a_missing_or_bad_challenge_is_named() {
    let caller = web("https://example.org");
    assert_eq!(field_of(parse_create(&creation(json!({"challenge": null})), &caller).unwrap_err()), "challenge");
    assert_eq!(field_of(parse_create(&creation(json!({"challenge": ""})), &caller).unwrap_err()), "challenge");
    assert_eq!(field_of(parse_create(&creation(json!({"challenge": "a+b/"})), &caller).unwrap_err()), "challenge");
}

#[test]
fn the_user_handle_must_be_1_to_64_bytes() {
    let caller = web("https://example.org");
    for id in [String::new(), b64url(&[1; 65])] {
        let json = creation(json!({"user": {"id": id, "name": "a", "displayName": "a"}}));
        assert_eq!(field_of(parse_create(&json, &caller).unwrap_err()), "user.id");
    }
    let json = creation(json!({"user": {"id": b64url(&[1; 64]), "name": "a", "displayName": "a"}}));
    assert_eq!(parse_create(&json, &caller).unwrap().user_handle.len(), 64);
}

#[test]
fn a_request_above_64_kib_is_refused() {
    let json = creation(json!({"padding": "x".repeat(MAX_REQUEST_BYTES)}));
    assert_eq!(field_of(parse_create(&json, &web("https://example.org")).unwrap_err()), "request");
}

#[test]
fn malformed_json_names_the_request() {
    for json in ["", "{", "[]", "null", "{\"rp\": 3}"] {
        let error = parse_create(json, &web("https://example.org")).unwrap_err();
        assert!(matches!(error, PasskeyError::Invalid { .. }), "{json}: {error:?}");
    }
    let error = parse_create("{\"rp\": 3}", &web("https://example.org")).unwrap_err();
    assert_eq!(field_of(error), "rp");
}

#[test]
fn no_es256_is_not_supported() {
    let json = creation(json!({"pubKeyCredParams": [{"type": "public-key", "alg": -257}]}));
    assert!(matches!(parse_create(&json, &web("https://example.org")), Err(PasskeyError::NotSupported(_))));
    let json = creation(json!({"pubKeyCredParams": []}));
    assert!(parse_create(&json, &web("https://example.org")).is_ok(), "an empty list means the defaults");
}

#[test]
fn a_security_key_request_is_not_supported() {
    let json = creation(json!({"authenticatorSelection": {"authenticatorAttachment": "cross-platform"}}));
    assert!(matches!(parse_create(&json, &web("https://example.org")), Err(PasskeyError::NotSupported(_))));
}

#[test]
fn user_verification_and_extensions_are_read_and_unknown_ones_ignored() {
    let json = creation(json!({
        "authenticatorSelection": {"userVerification": "required", "residentKey": "required"},
        "extensions": {"credProps": true, "prf": {"eval": {"first": b64url(b"salt")}}, "largeBlob": {"support": "required"}},
        "excludeCredentials": [{"type": "public-key", "id": b64url(&[9; 16])}, {"type": "other", "id": "!!"}],
    }));
    let request = parse_create(&json, &web("https://example.org")).unwrap();
    assert_eq!(request.user_verification, UserVerification::Required);
    assert!(request.cred_props);
    assert_eq!(request.prf, Some(Some(PrfInputs { first: b"salt".to_vec(), second: None })));
    assert_eq!(request.exclude, vec![vec![9; 16]]);
    assert_eq!(request.user_verification.allows(false), Err(PasskeyError::UserVerificationRequired));
    assert_eq!(UserVerification::Preferred.allows(false), Ok(()));
}

#[test]
fn names_are_cleaned_and_cut() {
    let json =
        creation(json!({"user": {"id": "AQ", "name": format!("a\u{7}b{}", "x".repeat(300)), "displayName": "A"}}));
    let request = parse_create(&json, &web("https://example.org")).unwrap();
    assert!(request.user_name.starts_with("ab"), "{}", request.user_name);
    assert_eq!(request.user_name.chars().count(), MAX_NAME_CHARS);
}

#[test]
fn a_request_for_assertion_is_read_with_its_allow_list_and_prf_inputs() {
    let id = b64url(&[5; 16]);
    let json = json!({
        "challenge": b64url(b"challenge"),
        "rpId": "example.org",
        "allowCredentials": [{"type": "public-key", "id": id}],
        "userVerification": "discouraged",
        "extensions": {"prf": {"eval": {"first": "AA"}, "evalByCredential": {id.clone(): {"first": "AQ", "second": "Ag"}}}},
    })
    .to_string();
    let request = parse_get(&json, &web("https://example.org")).unwrap();
    assert_eq!(request.rp_id, "example.org");
    assert_eq!(request.allow, vec![vec![5; 16]]);
    assert_eq!(request.user_verification, UserVerification::Discouraged);
    assert_eq!(request.prf_for(&[5; 16]).unwrap().second, Some(vec![2]));
    assert_eq!(request.prf_for(&[6; 16]).unwrap().first, vec![0]);
}

#[test]
fn eval_by_credential_must_name_allowed_credentials() {
    let json =
        json!({"challenge": "AQ", "extensions": {"prf": {"evalByCredential": {b64url(&[1; 16]): {"first": "AA"}}}}})
            .to_string();
    let error = parse_get(&json, &web("https://example.org")).unwrap_err();
    assert_eq!(field_of(error), "extensions.prf.evalByCredential");
}

#[test]
fn the_prf_output_follows_hmac_secret() {
    // HMAC-SHA256(key, SHA-256("WebAuthn PRF\0" || input)), computed independently here.
    let secret = [0x42; 32];
    let salt = digest::digest(&digest::SHA256, b"WebAuthn PRF\0hello");
    let expected = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &secret), salt.as_ref());
    assert_eq!(prf_output(&secret, b"hello").as_slice(), expected.as_ref());
    assert_ne!(prf_output(&secret, b"hello"), prf_output(&[0x43; 32], b"hello"));
}

#[test]
fn responses_carry_the_webauthn_json_members() {
    let registration = registration_json(&Registration {
        credential_id: &[1; 16],
        client_data_json: Some(b"{}"),
        attestation_object: &[2],
        authenticator_data: &[3],
        public_key_spki: &[4],
        extensions: json!({"credProps": {"rk": true}}),
    });
    let value: Value = serde_json::from_str(&registration).unwrap();
    assert_eq!(value["id"], b64url(&[1; 16]));
    assert_eq!(value["rawId"], value["id"]);
    assert_eq!(value["type"], "public-key");
    assert_eq!(value["authenticatorAttachment"], "platform");
    assert_eq!(value["response"]["clientDataJSON"], b64url(b"{}"));
    assert_eq!(value["response"]["publicKeyAlgorithm"], -7);
    assert_eq!(value["clientExtensionResults"]["credProps"]["rk"], true);
    let assertion = assertion_json(&Assertion {
        credential_id: &[1; 16],
        client_data_json: None,
        authenticator_data: &[3],
        signature: &[5],
        user_handle: b"u",
        extensions: json!({}),
    });
    let value: Value = serde_json::from_str(&assertion).unwrap();
    assert_eq!(value["response"]["userHandle"], b64url(b"u"));
    assert_eq!(value["response"]["clientDataJSON"], "", "the caller hashed its own client data");
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    /// JSON values of any shape, a few levels deep, with WebAuthn's member names among the keys.
    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "[A-Za-z0-9_+/=-]{0,40}".prop_map(Value::String),
            ".{0,10}".prop_map(Value::String),
        ];
        let keys = prop_oneof![
            Just("rp".to_owned()),
            Just("id".to_owned()),
            Just("user".to_owned()),
            Just("challenge".to_owned()),
            Just("pubKeyCredParams".to_owned()),
            Just("alg".to_owned()),
            Just("allowCredentials".to_owned()),
            Just("excludeCredentials".to_owned()),
            Just("extensions".to_owned()),
            Just("prf".to_owned()),
            Just("eval".to_owned()),
            Just("evalByCredential".to_owned()),
            Just("first".to_owned()),
            Just("authenticatorSelection".to_owned()),
            Just("userVerification".to_owned()),
            Just("rpId".to_owned()),
            "[a-z]{1,6}",
        ];
        leaf.prop_recursive(4, 64, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(keys.clone(), inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_json_gets_an_answer_not_a_panic(value in value()) {
            let text = value.to_string();
            for caller in [web("https://example.org"), Caller::Platform] {
                let _ = parse_create(&text, &caller);
                let _ = parse_get(&text, &caller);
            }
        }

        #[test]
        fn any_text_gets_an_answer_not_a_panic(text in ".{0,200}") {
            let _ = parse_create(&text, &web("https://example.org"));
            let _ = parse_get(&text, &web("https://example.org"));
            let _ = Caller::parse(&text);
        }
    }
}
