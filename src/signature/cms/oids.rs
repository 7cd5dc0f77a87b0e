//! Object identifiers of CMS (RFC 5652), ESS (RFC 2634, RFC 5035), time-stamps (RFC 3161),
//! CAdES (ETSI EN 319 122-1) and the algorithms (RFC 3370, RFC 4055, RFC 5754, RFC 8419), as
//! DER content bytes to compare with [`crate::signature::der::Tlv::content`].

/// id-signedData (RFC 5652 §5.1): 1.2.840.113549.1.7.2.
pub const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
/// id-data (RFC 5652 §4): 1.2.840.113549.1.7.1.
pub const DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
/// id-ct-TSTInfo (RFC 3161 §2.4.2): 1.2.840.113549.1.9.16.1.4.
pub const TST_INFO: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04,
];
/// id-contentType (RFC 5652 §11.1): 1.2.840.113549.1.9.3.
pub const CONTENT_TYPE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
/// id-messageDigest (RFC 5652 §11.2): 1.2.840.113549.1.9.4.
pub const MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
/// id-signingTime (RFC 5652 §11.3): 1.2.840.113549.1.9.5.
pub const SIGNING_TIME: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05];
/// id-countersignature (RFC 5652 §11.4): 1.2.840.113549.1.9.6.
pub const COUNTER_SIGNATURE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x06];
/// id-aa-signingCertificate (RFC 2634 §5.4): 1.2.840.113549.1.9.16.2.12.
pub const SIGNING_CERTIFICATE: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0c,
];
/// id-aa-signingCertificateV2 (RFC 5035 §3): 1.2.840.113549.1.9.16.2.47.
pub const SIGNING_CERTIFICATE_V2: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f,
];
/// id-aa-signatureTimeStampToken (RFC 3161 App. A): 1.2.840.113549.1.9.16.2.14.
pub const SIGNATURE_TIME_STAMP: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0e,
];
/// id-aa-ets-contentTimestamp (EN 319 122-1 §5.2.8): 1.2.840.113549.1.9.16.2.20.
pub const CONTENT_TIME_STAMP: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x14,
];
/// id-aa-ets-certValues (EN 319 122-1 §5.5.1): 1.2.840.113549.1.9.16.2.23.
pub const CERTIFICATE_VALUES: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x17,
];
/// id-aa-ets-revocationValues (EN 319 122-1 §5.5.2): 1.2.840.113549.1.9.16.2.24.
pub const REVOCATION_VALUES: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x18,
];
/// id-aa-ets-archiveTimestampV2 (EN 319 122-1 annex): 1.2.840.113549.1.9.16.2.48.
pub const ARCHIVE_TIME_STAMP_V2: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x30,
];
/// id-aa-ets-archiveTimestampV3 (EN 319 122-1 §5.5.3): 0.4.0.1733.2.4.
pub const ARCHIVE_TIME_STAMP_V3: &[u8] = &[0x04, 0x00, 0x8d, 0x45, 0x02, 0x04];
/// id-aa-ATSHashIndex-v3 (EN 319 122-1 §5.5.2), in an archive time-stamp's own unsigned
/// attributes: 0.4.0.19122.1.5.
pub const ATS_HASH_INDEX_V3: &[u8] = &[0x04, 0x00, 0x81, 0x95, 0x32, 0x01, 0x05];
/// id-aa-ATSHashIndex (ETSI TS 101 733 V2.2.1 §6.4.2), the index of archive time-stamps made
/// before EN 319 122-1: 0.4.0.1733.2.5.
pub const ATS_HASH_INDEX: &[u8] = &[0x04, 0x00, 0x8d, 0x45, 0x02, 0x05];
/// adbe-revocationInfoArchival (ISO 32000-1 §12.8.3.3.2): 1.2.840.113583.1.1.8.
pub const ADBE_REVOCATION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x2f, 0x01, 0x01, 0x08];
/// id-sha1: 1.3.14.3.2.26.
pub const SHA1: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];
/// id-sha224: 2.16.840.1.101.3.4.2.4.
pub const SHA224: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04];
/// id-sha256: 2.16.840.1.101.3.4.2.1.
pub const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
/// id-sha384: 2.16.840.1.101.3.4.2.2.
pub const SHA384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
/// id-sha512: 2.16.840.1.101.3.4.2.3.
pub const SHA512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];
/// id-sha3-224: 2.16.840.1.101.3.4.2.7.
pub const SHA3_224: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x07];
/// id-sha3-256: 2.16.840.1.101.3.4.2.8.
pub const SHA3_256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x08];
/// id-sha3-384: 2.16.840.1.101.3.4.2.9.
pub const SHA3_384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x09];
/// id-sha3-512: 2.16.840.1.101.3.4.2.10.
pub const SHA3_512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x0a];
/// rsaEncryption: 1.2.840.113549.1.1.1.
pub const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// sha1WithRSAEncryption: 1.2.840.113549.1.1.5.
pub const RSA_SHA1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05];
/// sha256WithRSAEncryption: 1.2.840.113549.1.1.11.
pub const RSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
/// sha384WithRSAEncryption: 1.2.840.113549.1.1.12.
pub const RSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
/// sha512WithRSAEncryption: 1.2.840.113549.1.1.13.
pub const RSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
/// sha224WithRSAEncryption: 1.2.840.113549.1.1.14.
pub const RSA_SHA224: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0e];
/// id-RSASSA-PSS (RFC 4055 §3.1): 1.2.840.113549.1.1.10.
pub const RSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
/// id-mgf1 (RFC 4055 §2.2): 1.2.840.113549.1.1.8.
pub const MGF1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08];
/// id-rsassa-pkcs1-v1_5-with-sha3-224: 2.16.840.1.101.3.4.3.13.
pub const RSA_SHA3_224: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x0d];
/// id-rsassa-pkcs1-v1_5-with-sha3-256: 2.16.840.1.101.3.4.3.14.
pub const RSA_SHA3_256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x0e];
/// id-rsassa-pkcs1-v1_5-with-sha3-384: 2.16.840.1.101.3.4.3.15.
pub const RSA_SHA3_384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x0f];
/// id-rsassa-pkcs1-v1_5-with-sha3-512: 2.16.840.1.101.3.4.3.16.
pub const RSA_SHA3_512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x10];
/// id-ecPublicKey: 1.2.840.10045.2.1.
pub const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// ecdsa-with-SHA1: 1.2.840.10045.4.1.
pub const ECDSA_SHA1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01];
/// ecdsa-with-SHA224: 1.2.840.10045.4.3.1.
pub const ECDSA_SHA224: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x01];
/// ecdsa-with-SHA256: 1.2.840.10045.4.3.2.
pub const ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
/// ecdsa-with-SHA384: 1.2.840.10045.4.3.3.
pub const ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
/// ecdsa-with-SHA512: 1.2.840.10045.4.3.4.
pub const ECDSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
/// id-ecdsa-with-sha3-224: 2.16.840.1.101.3.4.3.9.
pub const ECDSA_SHA3_224: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x09];
/// id-ecdsa-with-sha3-256: 2.16.840.1.101.3.4.3.10.
pub const ECDSA_SHA3_256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x0a];
/// id-ecdsa-with-sha3-384: 2.16.840.1.101.3.4.3.11.
pub const ECDSA_SHA3_384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x0b];
/// id-ecdsa-with-sha3-512: 2.16.840.1.101.3.4.3.12.
pub const ECDSA_SHA3_512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x0c];
/// id-Ed25519 (RFC 8419): 1.3.101.112.
pub const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
/// id-Ed448 (RFC 8419): 1.3.101.113.
pub const ED448: &[u8] = &[0x2b, 0x65, 0x71];
/// id-dsa-with-sha1: 1.2.840.10040.4.3.
pub const DSA_SHA1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x03];
/// id-dsa-with-sha256: 2.16.840.1.101.3.4.3.2.
pub const DSA_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x02];
/// id-ce-subjectKeyIdentifier (RFC 5280 §4.2.1.2): 2.5.29.14.
pub const SUBJECT_KEY_ID: &[u8] = &[0x55, 0x1d, 0x0e];

/// ecdsa-plain-sha1 (BSI TR-03111 §5.2.1, plain r || s): 0.4.0.127.0.7.1.1.4.1.1.
pub const ECDSA_PLAIN_SHA1: &[u8] = &[0x04, 0x00, 0x7f, 0x00, 0x07, 0x01, 0x01, 0x04, 0x01, 0x01];
/// ecdsa-plain-sha224 (BSI TR-03111 §5.2.1, plain r || s): 0.4.0.127.0.7.1.1.4.1.2.
pub const ECDSA_PLAIN_SHA224: &[u8] = &[0x04, 0x00, 0x7f, 0x00, 0x07, 0x01, 0x01, 0x04, 0x01, 0x02];
/// ecdsa-plain-sha256 (BSI TR-03111 §5.2.1, plain r || s): 0.4.0.127.0.7.1.1.4.1.3.
pub const ECDSA_PLAIN_SHA256: &[u8] = &[0x04, 0x00, 0x7f, 0x00, 0x07, 0x01, 0x01, 0x04, 0x01, 0x03];
/// ecdsa-plain-sha384 (BSI TR-03111 §5.2.1, plain r || s): 0.4.0.127.0.7.1.1.4.1.4.
pub const ECDSA_PLAIN_SHA384: &[u8] = &[0x04, 0x00, 0x7f, 0x00, 0x07, 0x01, 0x01, 0x04, 0x01, 0x04];
/// ecdsa-plain-sha512 (BSI TR-03111 §5.2.1, plain r || s): 0.4.0.127.0.7.1.1.4.1.5.
pub const ECDSA_PLAIN_SHA512: &[u8] = &[0x04, 0x00, 0x7f, 0x00, 0x07, 0x01, 0x01, 0x04, 0x01, 0x05];

/// id-shake256-len (RFC 8419 §2.3): 2.16.840.1.101.3.4.2.18.
pub const SHAKE256_LEN: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x12];

#[cfg(test)]
mod tests {
    use crate::signature::der::oid_bytes;

    #[test]
    fn constants_match_their_dotted_forms() {
        assert_eq!(
            super::SIGNED_DATA,
            oid_bytes("1.2.840.113549.1.7.2").unwrap().as_slice()
        );
        assert_eq!(
            super::DATA,
            oid_bytes("1.2.840.113549.1.7.1").unwrap().as_slice()
        );
        assert_eq!(
            super::TST_INFO,
            oid_bytes("1.2.840.113549.1.9.16.1.4").unwrap().as_slice()
        );
        assert_eq!(
            super::CONTENT_TYPE,
            oid_bytes("1.2.840.113549.1.9.3").unwrap().as_slice()
        );
        assert_eq!(
            super::MESSAGE_DIGEST,
            oid_bytes("1.2.840.113549.1.9.4").unwrap().as_slice()
        );
        assert_eq!(
            super::SIGNING_TIME,
            oid_bytes("1.2.840.113549.1.9.5").unwrap().as_slice()
        );
        assert_eq!(
            super::COUNTER_SIGNATURE,
            oid_bytes("1.2.840.113549.1.9.6").unwrap().as_slice()
        );
        assert_eq!(
            super::SIGNING_CERTIFICATE,
            oid_bytes("1.2.840.113549.1.9.16.2.12").unwrap().as_slice()
        );
        assert_eq!(
            super::SIGNING_CERTIFICATE_V2,
            oid_bytes("1.2.840.113549.1.9.16.2.47").unwrap().as_slice()
        );
        assert_eq!(
            super::SIGNATURE_TIME_STAMP,
            oid_bytes("1.2.840.113549.1.9.16.2.14").unwrap().as_slice()
        );
        assert_eq!(
            super::CONTENT_TIME_STAMP,
            oid_bytes("1.2.840.113549.1.9.16.2.20").unwrap().as_slice()
        );
        assert_eq!(
            super::CERTIFICATE_VALUES,
            oid_bytes("1.2.840.113549.1.9.16.2.23").unwrap().as_slice()
        );
        assert_eq!(
            super::REVOCATION_VALUES,
            oid_bytes("1.2.840.113549.1.9.16.2.24").unwrap().as_slice()
        );
        assert_eq!(
            super::ARCHIVE_TIME_STAMP_V2,
            oid_bytes("1.2.840.113549.1.9.16.2.48").unwrap().as_slice()
        );
        assert_eq!(
            super::ARCHIVE_TIME_STAMP_V3,
            oid_bytes("0.4.0.1733.2.4").unwrap().as_slice()
        );
        assert_eq!(
            super::ATS_HASH_INDEX,
            oid_bytes("0.4.0.1733.2.5").unwrap().as_slice()
        );
        assert_eq!(
            super::ATS_HASH_INDEX_V3,
            oid_bytes("0.4.0.19122.1.5").unwrap().as_slice()
        );
        assert_eq!(
            super::ADBE_REVOCATION,
            oid_bytes("1.2.840.113583.1.1.8").unwrap().as_slice()
        );
        assert_eq!(super::SHA1, oid_bytes("1.3.14.3.2.26").unwrap().as_slice());
        assert_eq!(
            super::SHA224,
            oid_bytes("2.16.840.1.101.3.4.2.4").unwrap().as_slice()
        );
        assert_eq!(
            super::SHA256,
            oid_bytes("2.16.840.1.101.3.4.2.1").unwrap().as_slice()
        );
        assert_eq!(
            super::SHA384,
            oid_bytes("2.16.840.1.101.3.4.2.2").unwrap().as_slice()
        );
        assert_eq!(
            super::SHA512,
            oid_bytes("2.16.840.1.101.3.4.2.3").unwrap().as_slice()
        );
        assert_eq!(
            super::SHA3_224,
            oid_bytes("2.16.840.1.101.3.4.2.7").unwrap().as_slice()
        );
        assert_eq!(
            super::SHA3_256,
            oid_bytes("2.16.840.1.101.3.4.2.8").unwrap().as_slice()
        );
        assert_eq!(
            super::SHA3_384,
            oid_bytes("2.16.840.1.101.3.4.2.9").unwrap().as_slice()
        );
        assert_eq!(
            super::SHA3_512,
            oid_bytes("2.16.840.1.101.3.4.2.10").unwrap().as_slice()
        );
        assert_eq!(
            super::RSA,
            oid_bytes("1.2.840.113549.1.1.1").unwrap().as_slice()
        );
        assert_eq!(
            super::RSA_SHA1,
            oid_bytes("1.2.840.113549.1.1.5").unwrap().as_slice()
        );
        assert_eq!(
            super::RSA_SHA256,
            oid_bytes("1.2.840.113549.1.1.11").unwrap().as_slice()
        );
        assert_eq!(
            super::RSA_SHA384,
            oid_bytes("1.2.840.113549.1.1.12").unwrap().as_slice()
        );
        assert_eq!(
            super::RSA_SHA512,
            oid_bytes("1.2.840.113549.1.1.13").unwrap().as_slice()
        );
        assert_eq!(
            super::RSA_SHA224,
            oid_bytes("1.2.840.113549.1.1.14").unwrap().as_slice()
        );
        assert_eq!(
            super::RSA_PSS,
            oid_bytes("1.2.840.113549.1.1.10").unwrap().as_slice()
        );
        assert_eq!(
            super::MGF1,
            oid_bytes("1.2.840.113549.1.1.8").unwrap().as_slice()
        );
        assert_eq!(
            super::RSA_SHA3_224,
            oid_bytes("2.16.840.1.101.3.4.3.13").unwrap().as_slice()
        );
        assert_eq!(
            super::RSA_SHA3_256,
            oid_bytes("2.16.840.1.101.3.4.3.14").unwrap().as_slice()
        );
        assert_eq!(
            super::RSA_SHA3_384,
            oid_bytes("2.16.840.1.101.3.4.3.15").unwrap().as_slice()
        );
        assert_eq!(
            super::RSA_SHA3_512,
            oid_bytes("2.16.840.1.101.3.4.3.16").unwrap().as_slice()
        );
        assert_eq!(
            super::EC_PUBLIC_KEY,
            oid_bytes("1.2.840.10045.2.1").unwrap().as_slice()
        );
        assert_eq!(
            super::ECDSA_SHA1,
            oid_bytes("1.2.840.10045.4.1").unwrap().as_slice()
        );
        assert_eq!(
            super::ECDSA_SHA224,
            oid_bytes("1.2.840.10045.4.3.1").unwrap().as_slice()
        );
        assert_eq!(
            super::ECDSA_SHA256,
            oid_bytes("1.2.840.10045.4.3.2").unwrap().as_slice()
        );
        assert_eq!(
            super::ECDSA_SHA384,
            oid_bytes("1.2.840.10045.4.3.3").unwrap().as_slice()
        );
        assert_eq!(
            super::ECDSA_SHA512,
            oid_bytes("1.2.840.10045.4.3.4").unwrap().as_slice()
        );
        assert_eq!(
            super::ECDSA_SHA3_224,
            oid_bytes("2.16.840.1.101.3.4.3.9").unwrap().as_slice()
        );
        assert_eq!(
            super::ECDSA_SHA3_256,
            oid_bytes("2.16.840.1.101.3.4.3.10").unwrap().as_slice()
        );
        assert_eq!(
            super::ECDSA_SHA3_384,
            oid_bytes("2.16.840.1.101.3.4.3.11").unwrap().as_slice()
        );
        assert_eq!(
            super::ECDSA_SHA3_512,
            oid_bytes("2.16.840.1.101.3.4.3.12").unwrap().as_slice()
        );
        assert_eq!(super::ED25519, oid_bytes("1.3.101.112").unwrap().as_slice());
        assert_eq!(super::ED448, oid_bytes("1.3.101.113").unwrap().as_slice());
        assert_eq!(
            super::DSA_SHA1,
            oid_bytes("1.2.840.10040.4.3").unwrap().as_slice()
        );
        assert_eq!(
            super::DSA_SHA256,
            oid_bytes("2.16.840.1.101.3.4.3.2").unwrap().as_slice()
        );
        assert_eq!(
            super::SUBJECT_KEY_ID,
            oid_bytes("2.5.29.14").unwrap().as_slice()
        );
        assert_eq!(
            super::ECDSA_PLAIN_SHA1,
            oid_bytes("0.4.0.127.0.7.1.1.4.1.1").unwrap().as_slice()
        );
        assert_eq!(
            super::ECDSA_PLAIN_SHA224,
            oid_bytes("0.4.0.127.0.7.1.1.4.1.2").unwrap().as_slice()
        );
        assert_eq!(
            super::ECDSA_PLAIN_SHA256,
            oid_bytes("0.4.0.127.0.7.1.1.4.1.3").unwrap().as_slice()
        );
        assert_eq!(
            super::ECDSA_PLAIN_SHA384,
            oid_bytes("0.4.0.127.0.7.1.1.4.1.4").unwrap().as_slice()
        );
        assert_eq!(
            super::ECDSA_PLAIN_SHA512,
            oid_bytes("0.4.0.127.0.7.1.1.4.1.5").unwrap().as_slice()
        );
        assert_eq!(
            super::SHAKE256_LEN,
            oid_bytes("2.16.840.1.101.3.4.2.18").unwrap().as_slice()
        );
    }
}
