//! Encryption algorithms (RFC 7296 3.3.2, transform type 1): AES-GCM with a 16-byte ICV and
//! ChaCha20-Poly1305 as AEADs in IKEv2 (RFC 5282, RFC 7634), and AES-CBC (RFC 3602) with a
//! separate integrity algorithm.

use aes::{Aes128, Aes192, Aes256};
use cbc::cipher::{
    Block, BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, KeyIvInit,
};
use ring::aead;

use super::Error;
use crate::wire::EncrId;

/// RFC 5282 4 and RFC 7634 2: the salt at the end of an AEAD key.
const SALT_LEN: usize = 4;
/// RFC 5282 3.1: the explicit IV in the SK payload.
const AEAD_IV_LEN: usize = 8;
const AEAD_ICV_LEN: usize = 16;
const AES_BLOCK: usize = 16;

/// A negotiated encryption algorithm with its key size in bytes (salt excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encr {
    AesGcm16 { key_len: usize },
    ChaCha20Poly1305,
    AesCbc { key_len: usize },
}

impl Encr {
    /// The algorithm of an ENCR transform and its Key Length attribute in bits.
    pub fn from_transform(id: EncrId, key_bits: Option<u16>) -> Result<Encr, Error> {
        let bytes = key_bits.map(|bits| usize::from(bits) / 8);
        match (id, bytes) {
            (EncrId::ENCR_AES_GCM_16, Some(16 | 32)) => Ok(Encr::AesGcm16 {
                key_len: bytes.unwrap_or_default(),
            }),
            (EncrId::ENCR_AES_CBC, Some(16 | 24 | 32)) => Ok(Encr::AesCbc {
                key_len: bytes.unwrap_or_default(),
            }),
            // RFC 7634 2: no Key Length attribute.
            (EncrId::ENCR_CHACHA20_POLY1305, None) => Ok(Encr::ChaCha20Poly1305),
            _ => Err(Error::Unsupported("encryption algorithm or key length")),
        }
    }

    pub fn id(self) -> EncrId {
        match self {
            Encr::AesGcm16 { .. } => EncrId::ENCR_AES_GCM_16,
            Encr::ChaCha20Poly1305 => EncrId::ENCR_CHACHA20_POLY1305,
            Encr::AesCbc { .. } => EncrId::ENCR_AES_CBC,
        }
    }

    /// The Key Length attribute this algorithm is negotiated with, in bits.
    pub fn key_bits(self) -> Option<u16> {
        match self {
            Encr::AesGcm16 { key_len } | Encr::AesCbc { key_len } => Some((key_len * 8) as u16),
            Encr::ChaCha20Poly1305 => None,
        }
    }

    pub fn is_aead(self) -> bool {
        !matches!(self, Encr::AesCbc { .. })
    }

    /// The bytes of keying material SK_e takes: the key, and the salt for AEADs.
    pub fn keymat_len(self) -> usize {
        match self {
            Encr::AesGcm16 { key_len } => key_len + SALT_LEN,
            Encr::ChaCha20Poly1305 => 32 + SALT_LEN,
            Encr::AesCbc { key_len } => key_len,
        }
    }

    pub fn iv_len(self) -> usize {
        if self.is_aead() {
            AEAD_IV_LEN
        } else {
            AES_BLOCK
        }
    }

    /// What the plaintext (with its padding and pad-length byte) must be a multiple of.
    pub fn block_len(self) -> usize {
        if self.is_aead() { 1 } else { AES_BLOCK }
    }

    /// The AEAD tag length; 0 for CBC, whose checksum comes from the integrity algorithm.
    pub fn icv_len(self) -> usize {
        if self.is_aead() { AEAD_ICV_LEN } else { 0 }
    }

    fn aead_key(self, keymat: &[u8]) -> Result<(aead::LessSafeKey, [u8; SALT_LEN]), Error> {
        if keymat.len() != self.keymat_len() {
            return Err(Error::KeyLength);
        }
        let algorithm = match self {
            Encr::AesGcm16 { key_len: 16 } => &aead::AES_128_GCM,
            Encr::AesGcm16 { .. } => &aead::AES_256_GCM,
            Encr::ChaCha20Poly1305 => &aead::CHACHA20_POLY1305,
            Encr::AesCbc { .. } => return Err(Error::Unsupported("AEAD with AES-CBC")),
        };
        let (key, salt) = keymat.split_at(keymat.len() - SALT_LEN);
        let key = aead::UnboundKey::new(algorithm, key).map_err(|_| Error::KeyLength)?;
        let mut salt_bytes = [0; SALT_LEN];
        salt_bytes.copy_from_slice(salt);
        Ok((aead::LessSafeKey::new(key), salt_bytes))
    }

    /// AEAD: encrypts `data` in place and returns the tag. RFC 5282 4: nonce = salt | IV.
    pub fn seal(
        self,
        keymat: &[u8],
        iv: &[u8],
        aad: &[u8],
        data: &mut [u8],
    ) -> Result<Vec<u8>, Error> {
        let (key, salt) = self.aead_key(keymat)?;
        let tag = key
            .seal_in_place_separate_tag(nonce(&salt, iv)?, aead::Aad::from(aad), data)
            .map_err(|_| Error::Malformed("AEAD input"))?;
        Ok(tag.as_ref().to_vec())
    }

    /// AEAD: checks the tag at the end of `data` and decrypts in place; returns the plaintext's
    /// length.
    pub fn open(
        self,
        keymat: &[u8],
        iv: &[u8],
        aad: &[u8],
        data: &mut [u8],
    ) -> Result<usize, Error> {
        let (key, salt) = self.aead_key(keymat)?;
        let plain = key
            .open_in_place(nonce(&salt, iv)?, aead::Aad::from(aad), data)
            .map_err(|_| Error::IntegrityCheck)?;
        Ok(plain.len())
    }

    /// CBC: encrypts `data` (a whole number of blocks) in place.
    pub fn cbc_encrypt(self, key: &[u8], iv: &[u8], data: &mut [u8]) -> Result<(), Error> {
        let blocks = blocks_mut(data)?;
        match self {
            Encr::AesCbc { key_len: 16 } => cbc_enc::<Aes128>(key, iv, blocks),
            Encr::AesCbc { key_len: 24 } => cbc_enc::<Aes192>(key, iv, blocks),
            Encr::AesCbc { key_len: 32 } => cbc_enc::<Aes256>(key, iv, blocks),
            _ => Err(Error::Unsupported("CBC with this algorithm")),
        }
    }

    /// CBC: decrypts `data` (a whole number of blocks) in place.
    pub fn cbc_decrypt(self, key: &[u8], iv: &[u8], data: &mut [u8]) -> Result<(), Error> {
        let blocks = blocks_mut(data)?;
        match self {
            Encr::AesCbc { key_len: 16 } => cbc_dec::<Aes128>(key, iv, blocks),
            Encr::AesCbc { key_len: 24 } => cbc_dec::<Aes192>(key, iv, blocks),
            Encr::AesCbc { key_len: 32 } => cbc_dec::<Aes256>(key, iv, blocks),
            _ => Err(Error::Unsupported("CBC with this algorithm")),
        }
    }
}

fn nonce(salt: &[u8; SALT_LEN], iv: &[u8]) -> Result<aead::Nonce, Error> {
    if iv.len() != AEAD_IV_LEN {
        return Err(Error::Malformed("AEAD IV length"));
    }
    let mut nonce = [0u8; aead::NONCE_LEN];
    nonce[..SALT_LEN].copy_from_slice(salt);
    nonce[SALT_LEN..].copy_from_slice(iv);
    Ok(aead::Nonce::assume_unique_for_key(nonce))
}

fn blocks_mut(data: &mut [u8]) -> Result<&mut [Block<Aes128>], Error> {
    let (blocks, rest) = Block::<Aes128>::slice_as_chunks_mut(data);
    if rest.is_empty() {
        Ok(blocks)
    } else {
        Err(Error::Malformed("CBC data not a whole number of blocks"))
    }
}

fn cbc_enc<C>(key: &[u8], iv: &[u8], blocks: &mut [Block<Aes128>]) -> Result<(), Error>
where
    C: BlockCipherEncrypt
        + cbc::cipher::KeyInit
        + cbc::cipher::BlockSizeUser<BlockSize = <Aes128 as cbc::cipher::BlockSizeUser>::BlockSize>,
{
    let mut mode = cbc::Encryptor::<C>::new_from_slices(key, iv).map_err(|_| Error::KeyLength)?;
    mode.encrypt_blocks(blocks);
    Ok(())
}

fn cbc_dec<C>(key: &[u8], iv: &[u8], blocks: &mut [Block<Aes128>]) -> Result<(), Error>
where
    C: BlockCipherDecrypt
        + cbc::cipher::KeyInit
        + cbc::cipher::BlockSizeUser<BlockSize = <Aes128 as cbc::cipher::BlockSizeUser>::BlockSize>,
{
    let mut mode = cbc::Decryptor::<C>::new_from_slices(key, iv).map_err(|_| Error::KeyLength)?;
    mode.decrypt_blocks(blocks);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::testing::hex;

    // RFC 3602 4, case #2: AES-128-CBC, two blocks.
    #[test]
    fn rfc3602_case2() {
        let encr = Encr::AesCbc { key_len: 16 };
        let key = hex("c286696d887c9aa0611bbb3e2025a45a");
        let iv = hex("562e17996d093d28ddb3ba695a2e6f58");
        let plain = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        let mut data = plain.clone();
        encr.cbc_encrypt(&key, &iv, &mut data).unwrap();
        assert_eq!(
            data,
            hex("d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1")
        );
        encr.cbc_decrypt(&key, &iv, &mut data).unwrap();
        assert_eq!(data, plain);
        let mut partial = vec![0; 17];
        assert!(encr.cbc_encrypt(&key, &iv, &mut partial).is_err());
    }

    // RFC 8439 2.8.2: ChaCha20-Poly1305 AEAD. In IKEv2 terms the 12-byte nonce is a 4-byte salt
    // (the last 4 bytes of SK_e) followed by the 8-byte IV.
    #[test]
    fn rfc8439_aead() {
        let mut keymat = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
        keymat.extend(hex("07000000"));
        let iv = hex("4041424344454647");
        let aad = hex("50515253c0c1c2c3c4c5c6c7");
        let plain = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let mut data = plain.to_vec();
        let tag = Encr::ChaCha20Poly1305
            .seal(&keymat, &iv, &aad, &mut data)
            .unwrap();
        assert_eq!(&data[..16], &hex("d31a8d34648e60db7b86afbc53ef7ec2")[..]);
        assert_eq!(tag, hex("1ae10b594f09e26a7e902ecbd0600691"));
        data.extend(&tag);
        let len = Encr::ChaCha20Poly1305
            .open(&keymat, &iv, &aad, &mut data)
            .unwrap();
        assert_eq!(&data[..len], plain);
        data[0] ^= 1;
        assert_eq!(
            Encr::ChaCha20Poly1305.open(&keymat, &iv, &aad, &mut data),
            Err(Error::IntegrityCheck)
        );
    }

    #[test]
    fn gcm_round_trip_and_tamper() {
        for key_len in [16, 32] {
            let encr = Encr::AesGcm16 { key_len };
            let keymat = vec![3; encr.keymat_len()];
            let mut data = b"IKE payloads".to_vec();
            let tag = encr.seal(&keymat, &[1; 8], b"header", &mut data).unwrap();
            data.extend(tag);
            let mut copy = data.clone();
            assert_eq!(encr.open(&keymat, &[1; 8], b"header", &mut copy), Ok(12));
            assert_eq!(&copy[..12], b"IKE payloads");
            let mut copy = data.clone();
            assert_eq!(
                encr.open(&keymat, &[1; 8], b"HEADER", &mut copy),
                Err(Error::IntegrityCheck)
            );
            assert_eq!(
                encr.open(&keymat[1..], &[1; 8], b"", &mut data),
                Err(Error::KeyLength)
            );
        }
    }

    #[test]
    fn transforms() {
        assert_eq!(
            Encr::from_transform(EncrId::ENCR_AES_GCM_16, Some(256)),
            Ok(Encr::AesGcm16 { key_len: 32 })
        );
        assert!(Encr::from_transform(EncrId::ENCR_AES_GCM_16, None).is_err());
        assert!(Encr::from_transform(EncrId::ENCR_AES_GCM_16, Some(192)).is_err());
        assert!(Encr::from_transform(EncrId::ENCR_CHACHA20_POLY1305, Some(256)).is_err());
        assert_eq!(Encr::AesCbc { key_len: 24 }.key_bits(), Some(192));
        assert_eq!(Encr::ChaCha20Poly1305.keymat_len(), 36);
    }
}
