//! The codecs only importers need, beside them: Android shared-preferences XML (other apps'
//! internal files), Java serialization of a map of strings (FreeOTP's backup), ZIP archives (one
//! file taken out) and ZipCrypto (Authenticator Plus's encrypted ZIP). The generic codecs are
//! the domain's (`domain::codec`).

pub mod javaser;
pub mod prefs;
pub mod zip;
pub mod zipcrypto;
