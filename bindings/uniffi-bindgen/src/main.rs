//! `uniffi-bindgen`, built from the same uniffi version as the library (a mismatch between the
//! two produces bindings that fail their checksums at load time).

fn main() {
    uniffi::uniffi_bindgen_main()
}
