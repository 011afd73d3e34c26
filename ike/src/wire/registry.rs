//! IANA registries of IKEv2 (<https://www.iana.org/assignments/ikev2-parameters>) as open
//! newtypes: every value survives a parse/emit round trip, and `Debug` prints the IANA name
//! where we know one and the number where we do not.

use core::fmt;

/// Defines an open registry newtype with named constants.
macro_rules! registry {
    (
        $(#[$meta:meta])*
        $name:ident($repr:ty) {
            $( $(#[$cmeta:meta])* $constant:ident = $value:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub $repr);

        impl $name {
            $( $(#[$cmeta])* pub const $constant: $name = $name($value); )*

            /// The IANA name of this value, when it is one this crate knows.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some(stringify!($constant)), )*
                    _ => None,
                }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(name) => f.write_str(name),
                    None => write!(f, "{}({})", stringify!($name), self.0),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self, f)
            }
        }

        impl From<$repr> for $name {
            fn from(value: $repr) -> Self {
                $name(value)
            }
        }

        impl From<$name> for $repr {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    };
}

registry! {
    /// IKEv2 Exchange Types (RFC 7296 3.1).
    ExchangeType(u8) {
        IKE_SA_INIT = 34,
        IKE_AUTH = 35,
        CREATE_CHILD_SA = 36,
        INFORMATIONAL = 37,
        IKE_SESSION_RESUME = 38,
        /// RFC 9242.
        IKE_INTERMEDIATE = 43,
        /// RFC 9370.
        IKE_FOLLOWUP_KE = 44,
    }
}

registry! {
    /// IKEv2 Payload Types (RFC 7296 3.2), the values of every "Next Payload" field.
    PayloadType(u8) {
        /// No Next Payload: the end of a chain.
        NONE = 0,
        SA = 33,
        KE = 34,
        IDI = 35,
        IDR = 36,
        CERT = 37,
        CERTREQ = 38,
        AUTH = 39,
        NONCE = 40,
        NOTIFY = 41,
        DELETE = 42,
        VENDOR_ID = 43,
        TSI = 44,
        TSR = 45,
        /// Encrypted and Authenticated (SK).
        SK = 46,
        CP = 47,
        EAP = 48,
        /// Generic Secure Password Methods (RFC 6467).
        GSPM = 49,
        /// Encrypted and Authenticated Fragment (RFC 7383).
        SKF = 53,
        /// Puzzle Solution (RFC 8019).
        PS = 54,
    }
}

registry! {
    /// Transform Type Values (RFC 7296 3.3.2).
    TransformType(u8) {
        ENCR = 1,
        PRF = 2,
        INTEG = 3,
        /// Key Exchange Method, "D-H" in RFC 7296 (renamed by RFC 9370).
        KE = 4,
        /// Sequence Numbers, "ESN" in RFC 7296 (renamed by RFC 9827).
        ESN = 5,
        /// Additional Key Exchange 1..7 (RFC 9370).
        ADDKE1 = 6,
        ADDKE2 = 7,
        ADDKE3 = 8,
        ADDKE4 = 9,
        ADDKE5 = 10,
        ADDKE6 = 11,
        ADDKE7 = 12,
    }
}

registry! {
    /// IKEv2 Transform Attribute Types (RFC 7296 3.3.5).
    TransformAttributeType(u16) {
        KEY_LENGTH = 14,
    }
}

registry! {
    /// Transform Type 1, Encryption Algorithm Transform IDs.
    EncrId(u16) {
        ENCR_DES_IV64 = 1,
        ENCR_DES = 2,
        ENCR_3DES = 3,
        ENCR_RC5 = 4,
        ENCR_IDEA = 5,
        ENCR_CAST = 6,
        ENCR_BLOWFISH = 7,
        ENCR_3IDEA = 8,
        ENCR_DES_IV32 = 9,
        ENCR_NULL = 11,
        ENCR_AES_CBC = 12,
        ENCR_AES_CTR = 13,
        ENCR_AES_CCM_8 = 14,
        ENCR_AES_CCM_12 = 15,
        ENCR_AES_CCM_16 = 16,
        ENCR_AES_GCM_8 = 18,
        ENCR_AES_GCM_12 = 19,
        ENCR_AES_GCM_16 = 20,
        ENCR_NULL_AUTH_AES_GMAC = 21,
        ENCR_CAMELLIA_CBC = 23,
        ENCR_CAMELLIA_CTR = 24,
        ENCR_CAMELLIA_CCM_8 = 25,
        ENCR_CAMELLIA_CCM_12 = 26,
        ENCR_CAMELLIA_CCM_16 = 27,
        ENCR_CHACHA20_POLY1305 = 28,
        ENCR_AES_CCM_8_IIV = 29,
        ENCR_AES_GCM_16_IIV = 30,
        ENCR_CHACHA20_POLY1305_IIV = 31,
    }
}

registry! {
    /// Transform Type 2, Pseudorandom Function Transform IDs.
    PrfId(u16) {
        PRF_HMAC_MD5 = 1,
        PRF_HMAC_SHA1 = 2,
        PRF_HMAC_TIGER = 3,
        PRF_AES128_XCBC = 4,
        PRF_HMAC_SHA2_256 = 5,
        PRF_HMAC_SHA2_384 = 6,
        PRF_HMAC_SHA2_512 = 7,
        PRF_AES128_CMAC = 8,
    }
}

registry! {
    /// Transform Type 3, Integrity Algorithm Transform IDs.
    IntegId(u16) {
        NONE = 0,
        AUTH_HMAC_MD5_96 = 1,
        AUTH_HMAC_SHA1_96 = 2,
        AUTH_DES_MAC = 3,
        AUTH_KPDK_MD5 = 4,
        AUTH_AES_XCBC_96 = 5,
        AUTH_HMAC_MD5_128 = 6,
        AUTH_HMAC_SHA1_160 = 7,
        AUTH_AES_CMAC_96 = 8,
        AUTH_AES_128_GMAC = 9,
        AUTH_AES_192_GMAC = 10,
        AUTH_AES_256_GMAC = 11,
        AUTH_HMAC_SHA2_256_128 = 12,
        AUTH_HMAC_SHA2_384_192 = 13,
        AUTH_HMAC_SHA2_512_256 = 14,
    }
}

registry! {
    /// Transform Type 4, Key Exchange Method Transform IDs ("Diffie-Hellman groups").
    KeId(u16) {
        NONE = 0,
        MODP_768 = 1,
        MODP_1024 = 2,
        MODP_1536 = 5,
        MODP_2048 = 14,
        MODP_3072 = 15,
        MODP_4096 = 16,
        MODP_6144 = 17,
        MODP_8192 = 18,
        ECP_256 = 19,
        ECP_384 = 20,
        ECP_521 = 21,
        MODP_1024_160 = 22,
        MODP_2048_224 = 23,
        MODP_2048_256 = 24,
        ECP_192 = 25,
        ECP_224 = 26,
        BRAINPOOLP224R1 = 27,
        BRAINPOOLP256R1 = 28,
        BRAINPOOLP384R1 = 29,
        BRAINPOOLP512R1 = 30,
        CURVE25519 = 31,
        CURVE448 = 32,
        GOST3410_2012_256 = 33,
        GOST3410_2012_512 = 34,
        /// FIPS 203 ML-KEM (draft-ietf-ipsecme-ikev2-mlkem), used with RFC 9370.
        ML_KEM_512 = 35,
        ML_KEM_768 = 36,
        ML_KEM_1024 = 37,
    }
}

registry! {
    /// Transform Type 5, Sequence Numbers Transform IDs.
    EsnId(u16) {
        NO_ESN = 0,
        ESN = 1,
    }
}

registry! {
    /// IKEv2 Security Protocol Identifiers (RFC 7296 3.3.1).
    ProtocolId(u8) {
        NONE = 0,
        IKE = 1,
        AH = 2,
        ESP = 3,
    }
}

registry! {
    /// IKEv2 Identification Payload ID Types (RFC 7296 3.5).
    IdType(u8) {
        ID_IPV4_ADDR = 1,
        ID_FQDN = 2,
        ID_RFC822_ADDR = 3,
        ID_IPV6_ADDR = 5,
        ID_DER_ASN1_DN = 9,
        ID_DER_ASN1_GN = 10,
        ID_KEY_ID = 11,
        /// RFC 7619.
        ID_NULL = 13,
    }
}

registry! {
    /// IKEv2 Certificate Encodings (RFC 7296 3.6).
    CertEncoding(u8) {
        PKCS7_WRAPPED_X509 = 1,
        PGP = 2,
        DNS_SIGNED_KEY = 3,
        X509_SIGNATURE = 4,
        KERBEROS_TOKEN = 6,
        CRL = 7,
        ARL = 8,
        SPKI = 9,
        X509_ATTRIBUTE = 10,
        RAW_RSA_KEY = 11,
        HASH_AND_URL_X509 = 12,
        HASH_AND_URL_X509_BUNDLE = 13,
        OCSP_CONTENT = 14,
        RAW_PUBLIC_KEY = 15,
    }
}

registry! {
    /// IKEv2 Authentication Method (RFC 7296 3.8).
    AuthMethod(u8) {
        RSA_SIG = 1,
        SHARED_KEY_MIC = 2,
        DSS_SIG = 3,
        ECDSA_SHA256_P256 = 9,
        ECDSA_SHA384_P384 = 10,
        ECDSA_SHA512_P521 = 11,
        GSPAM = 12,
        NULL_AUTH = 13,
        /// RFC 7427: the AUTH data names its signature algorithm.
        DIGITAL_SIGNATURE = 14,
    }
}

registry! {
    /// IKEv2 Traffic Selector Types (RFC 7296 3.13.1).
    TsType(u8) {
        TS_IPV4_ADDR_RANGE = 7,
        TS_IPV6_ADDR_RANGE = 8,
        TS_FC_ADDR_RANGE = 9,
        TS_SECLABEL = 10,
    }
}

registry! {
    /// IKEv2 Configuration Payload CFG Types (RFC 7296 3.15).
    CfgType(u8) {
        CFG_REQUEST = 1,
        CFG_REPLY = 2,
        CFG_SET = 3,
        CFG_ACK = 4,
    }
}

registry! {
    /// IKEv2 Configuration Payload Attribute Types (RFC 7296 3.15.1).
    CfgAttributeType(u16) {
        INTERNAL_IP4_ADDRESS = 1,
        INTERNAL_IP4_NETMASK = 2,
        INTERNAL_IP4_DNS = 3,
        INTERNAL_IP4_NBNS = 4,
        INTERNAL_IP4_DHCP = 6,
        APPLICATION_VERSION = 7,
        INTERNAL_IP6_ADDRESS = 8,
        INTERNAL_IP6_DNS = 10,
        INTERNAL_IP6_DHCP = 12,
        INTERNAL_IP4_SUBNET = 13,
        SUPPORTED_ATTRIBUTES = 14,
        INTERNAL_IP6_SUBNET = 15,
        MIP6_HOME_PREFIX = 16,
        INTERNAL_IP6_LINK = 17,
        INTERNAL_IP6_PREFIX = 18,
        HOME_AGENT_ADDRESS = 19,
        P_CSCF_IP4_ADDRESS = 20,
        P_CSCF_IP6_ADDRESS = 21,
        FTT_KAT = 22,
        EXTERNAL_SOURCE_IP4_NAT_INFO = 23,
        TIMEOUT_PERIOD_FOR_LIVENESS_CHECK = 24,
        INTERNAL_DNS_DOMAIN = 25,
        INTERNAL_DNSSEC_TA = 26,
        /// RFC 9464.
        ENCDNS_IP4 = 27,
        ENCDNS_IP6 = 28,
        ENCDNS_DIGEST_INFO = 29,
    }
}

registry! {
    /// IKEv2 Notify Message Types (RFC 7296 3.10.1): error types below 16384, status types from
    /// 16384.
    NotifyType(u16) {
        UNSUPPORTED_CRITICAL_PAYLOAD = 1,
        INVALID_IKE_SPI = 4,
        INVALID_MAJOR_VERSION = 5,
        INVALID_SYNTAX = 7,
        INVALID_MESSAGE_ID = 9,
        INVALID_SPI = 11,
        NO_PROPOSAL_CHOSEN = 14,
        INVALID_KE_PAYLOAD = 17,
        AUTHENTICATION_FAILED = 24,
        SINGLE_PAIR_REQUIRED = 34,
        NO_ADDITIONAL_SAS = 35,
        INTERNAL_ADDRESS_FAILURE = 36,
        FAILED_CP_REQUIRED = 37,
        TS_UNACCEPTABLE = 38,
        INVALID_SELECTORS = 39,
        UNACCEPTABLE_ADDRESSES = 40,
        UNEXPECTED_NAT_DETECTED = 41,
        USE_ASSIGNED_HOA = 42,
        TEMPORARY_FAILURE = 43,
        CHILD_SA_NOT_FOUND = 44,
        INVALID_GROUP_ID = 45,
        AUTHORIZATION_FAILED = 46,
        STATE_NOT_FOUND = 47,
        TS_MAX_QUEUE = 48,
        REGISTRATION_FAILED = 49,

        INITIAL_CONTACT = 16384,
        SET_WINDOW_SIZE = 16385,
        ADDITIONAL_TS_POSSIBLE = 16386,
        IPCOMP_SUPPORTED = 16387,
        NAT_DETECTION_SOURCE_IP = 16388,
        NAT_DETECTION_DESTINATION_IP = 16389,
        COOKIE = 16390,
        USE_TRANSPORT_MODE = 16391,
        HTTP_CERT_LOOKUP_SUPPORTED = 16392,
        REKEY_SA = 16393,
        ESP_TFC_PADDING_NOT_SUPPORTED = 16394,
        NON_FIRST_FRAGMENTS_ALSO = 16395,
        MOBIKE_SUPPORTED = 16396,
        ADDITIONAL_IP4_ADDRESS = 16397,
        ADDITIONAL_IP6_ADDRESS = 16398,
        NO_ADDITIONAL_ADDRESSES = 16399,
        UPDATE_SA_ADDRESSES = 16400,
        COOKIE2 = 16401,
        NO_NATS_ALLOWED = 16402,
        AUTH_LIFETIME = 16403,
        MULTIPLE_AUTH_SUPPORTED = 16404,
        ANOTHER_AUTH_FOLLOWS = 16405,
        REDIRECT_SUPPORTED = 16406,
        REDIRECT = 16407,
        REDIRECTED_FROM = 16408,
        TICKET_LT_OPAQUE = 16409,
        TICKET_REQUEST = 16410,
        TICKET_ACK = 16411,
        TICKET_NACK = 16412,
        TICKET_OPAQUE = 16413,
        LINK_ID = 16414,
        USE_WESP_MODE = 16415,
        ROHC_SUPPORTED = 16416,
        EAP_ONLY_AUTHENTICATION = 16417,
        CHILDLESS_IKEV2_SUPPORTED = 16418,
        QUICK_CRASH_DETECTION = 16419,
        IKEV2_MESSAGE_ID_SYNC_SUPPORTED = 16420,
        IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED = 16421,
        IKEV2_MESSAGE_ID_SYNC = 16422,
        IPSEC_REPLAY_COUNTER_SYNC = 16423,
        SECURE_PASSWORD_METHODS = 16424,
        PSK_PERSIST = 16425,
        PSK_CONFIRM = 16426,
        ERX_SUPPORTED = 16427,
        IFOM_CAPABILITY = 16428,
        /// SENDER_REQUEST_ID before RFC 9838.
        GROUP_SENDER = 16429,
        IKEV2_FRAGMENTATION_SUPPORTED = 16430,
        SIGNATURE_HASH_ALGORITHMS = 16431,
        CLONE_IKE_SA_SUPPORTED = 16432,
        CLONE_IKE_SA = 16433,
        PUZZLE = 16434,
        USE_PPK = 16435,
        PPK_IDENTITY = 16436,
        NO_PPK_AUTH = 16437,
        INTERMEDIATE_EXCHANGE_SUPPORTED = 16438,
        IP4_ALLOWED = 16439,
        IP6_ALLOWED = 16440,
        ADDITIONAL_KEY_EXCHANGE = 16441,
        USE_AGGFRAG = 16442,
        SUPPORTED_AUTH_METHODS = 16443,
        SA_RESOURCE_INFO = 16444,
        USE_PPK_INT = 16445,
        PPK_IDENTITY_KEY = 16446,
    }
}

impl NotifyType {
    /// RFC 7296 3.10.1: types below 16384 report errors.
    pub fn is_error(self) -> bool {
        self.0 < 16384
    }
}

registry! {
    /// IKEv2 Hash Algorithms (RFC 7427 4), as listed in SIGNATURE_HASH_ALGORITHMS.
    HashAlgorithm(u16) {
        SHA1 = 1,
        SHA2_256 = 2,
        SHA2_384 = 3,
        SHA2_512 = 4,
        IDENTITY = 5,
        STREEBOG_256 = 6,
        STREEBOG_512 = 7,
    }
}

registry! {
    /// IKEv2 Notification IPCOMP Transform IDs (RFC 7296 3.10.1, in IPCOMP_SUPPORTED).
    IpcompId(u8) {
        IPCOMP_OUI = 1,
        IPCOMP_DEFLATE = 2,
        IPCOMP_LZS = 3,
        IPCOMP_LZJH = 4,
    }
}

registry! {
    /// IKEv2 Gateway Identity Types (RFC 5685 9.1, in REDIRECT and REDIRECTED_FROM).
    GatewayIdType(u8) {
        IPV4 = 1,
        IPV6 = 2,
        FQDN = 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_print_their_iana_name() {
        assert_eq!(format!("{:?}", NotifyType::COOKIE), "COOKIE");
        assert_eq!(format!("{}", ExchangeType::IKE_AUTH), "IKE_AUTH");
        assert_eq!(KeId(31).name(), Some("CURVE25519"));
    }

    #[test]
    fn unknown_values_survive_and_print_their_number() {
        let unknown = NotifyType(40000);
        assert_eq!(unknown.name(), None);
        assert_eq!(format!("{unknown:?}"), "NotifyType(40000)");
        assert_eq!(u16::from(unknown), 40000);
    }

    #[test]
    fn notify_error_range() {
        assert!(NotifyType::AUTHENTICATION_FAILED.is_error());
        assert!(!NotifyType::INITIAL_CONTACT.is_error());
    }
}
