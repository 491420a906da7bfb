//! The Public Suffix List: which domains are registrable, so a passkey's rpId can be checked
//! against the caller's origin (WebAuthn: the rpId is the origin's host or a registrable domain
//! suffix of it), and a site matched to an account (issue 24).
//!
//! In progress (issue 23): the list and the matcher are being added.

/// Whether `rp_id` may be used by a page on `host`: `rp_id` equals `host`, or `host` ends with
/// `"." + rp_id` and `rp_id` is not itself a public suffix (`co.uk`, `github.io`, `com`).
/// Both are lower-case ASCII host names (no port, no trailing dot); anything else is `false`.
pub fn is_registrable_suffix(rp_id: &str, host: &str) -> bool {
    let _ = (rp_id, host);
    unimplemented!("issue 23: Public Suffix List")
}

/// The registrable domain of `host` (its public suffix plus one label: `login.github.com` ->
/// `github.com`), or None when `host` is itself a public suffix or not a host name.
pub fn registrable_domain(host: &str) -> Option<&str> {
    let _ = host;
    unimplemented!("issue 23: Public Suffix List")
}
