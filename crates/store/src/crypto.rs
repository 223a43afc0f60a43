//! Field encryption and blind indexes with the national algorithms (GB/T 39786-2021 level 3 expects
//! SM4 and SM3): SM4-GCM with associated data that names the record and field, a key version in
//! every ciphertext for rotation, and HMAC-SM3 blind indexes for exact lookup. Keys live in a file in
//! the data directory (or where `HONGJI_KEY_FILE` points), never in the database.

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::AesGcm;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sm3::{Digest, Sm3};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

#[derive(Clone)]
pub struct Keys {
    /// Encryption keys by version; new values use the highest.
    enc: BTreeMap<u8, [u8; 16]>,
    /// The same keys, scheduled once (key expansion is a measurable part of a bulk import).
    ciphers: BTreeMap<u8, Sm4Gcm>,
    index: [u8; 32],
    /// The HMAC-SM3 key of the audit chain and its checkpoints.
    audit: [u8; 32],
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keys(versions {:?}, redacted)", self.enc.keys().collect::<Vec<_>>())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key file {0}: {1}")]
    Io(String, std::io::Error),
    #[error("key file {0} is malformed: {1}")]
    Malformed(String, &'static str),
}

impl Keys {
    /// Loads the key file, creating it with fresh random keys (mode 0600) if it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Keys, KeyError> {
        let name = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let (keys, had_audit) = Self::parse(&text).map_err(|m| KeyError::Malformed(name.clone(), m))?;
                if !had_audit {
                    // Key files from before the keyed audit chain gain its key once.
                    let line = format!("audit={}\n", hex::encode(keys.audit));
                    crate::private::append(path, line.as_bytes()).map_err(|e| KeyError::Io(name, e))?;
                }
                Ok(keys)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let keys = Self::generate();
                if let Some(dir) = path.parent() {
                    crate::private::create_dir_all(dir).map_err(|e| KeyError::Io(name.clone(), e))?;
                }
                crate::private::create_new(path, keys.to_text().as_bytes()).map_err(|e| KeyError::Io(name, e))?;
                Ok(keys)
            }
            Err(e) => Err(KeyError::Io(name, e)),
        }
    }

    pub fn generate() -> Keys {
        let mut rng = rand::thread_rng();
        let mut enc = [0u8; 16];
        let mut index = [0u8; 32];
        rng.fill_bytes(&mut enc);
        rng.fill_bytes(&mut index);
        Keys::with(BTreeMap::from([(1, enc)]), index, random_key())
    }

    fn with(enc: BTreeMap<u8, [u8; 16]>, index: [u8; 32], audit: [u8; 32]) -> Keys {
        let ciphers = enc.iter().map(|(v, k)| (*v, Sm4Gcm::new(k.into()))).collect();
        Keys {
            enc,
            ciphers,
            index,
            audit,
        }
    }

    /// The keys, and whether the file had an audit key (a new one is made if not).
    fn parse(text: &str) -> Result<(Keys, bool), &'static str> {
        let mut enc = BTreeMap::new();
        let mut index = None;
        let mut audit = None;
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let (k, v) = line.split_once('=').ok_or("a line without '='")?;
            let bytes = hex::decode(v.trim()).map_err(|_| "a value that is not hex")?;
            if k.trim() == "index" {
                index = Some(bytes.try_into().map_err(|_| "index key must be 32 bytes")?);
            } else if k.trim() == "audit" {
                audit = Some(bytes.try_into().map_err(|_| "audit key must be 32 bytes")?);
            } else if let Some(ver) = k.trim().strip_prefix("enc.") {
                let ver: u8 = ver.parse().map_err(|_| "bad key version")?;
                enc.insert(ver, bytes.try_into().map_err(|_| "encryption keys must be 16 bytes")?);
            } else {
                return Err("unknown entry");
            }
        }
        let index = index.ok_or("no index key")?;
        if enc.is_empty() {
            return Err("no encryption key");
        }
        let had_audit = audit.is_some();
        Ok((Keys::with(enc, index, audit.unwrap_or_else(random_key)), had_audit))
    }

    fn to_text(&self) -> String {
        let mut s = String::from(
            "# Hongji keys: SM4 field encryption (enc.N, newest used for new values), the HMAC-SM3\n\
             # blind index key and the HMAC-SM3 audit chain key. Keep this file secret and back it\n\
             # up apart from the database: without it the encrypted fields cannot be read.\n",
        );
        s.push_str(&format!("index={}\n", hex::encode(self.index)));
        s.push_str(&format!("audit={}\n", hex::encode(self.audit)));
        for (v, k) in &self.enc {
            s.push_str(&format!("enc.{v}={}\n", hex::encode(k)));
        }
        s
    }

    /// Encrypts `plain`; `context` (table, field and record id) is bound as associated data, so a
    /// ciphertext copied into another row or field fails to decrypt.
    pub fn encrypt(&self, context: &str, plain: &str) -> Vec<u8> {
        self.seal(context, plain.as_bytes())
    }

    pub fn decrypt(&self, context: &str, data: &[u8]) -> Option<String> {
        String::from_utf8(self.open(context, data)?).ok()
    }

    /// Encrypts bytes (an uploaded file) as `encrypt` does text: key version, nonce, sealed bytes.
    pub fn seal(&self, context: &str, plain: &[u8]) -> Vec<u8> {
        let (&version, cipher) = self.ciphers.iter().next_back().expect("at least one key");
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: plain,
                    aad: context.as_bytes(),
                },
            )
            .expect("SM4-GCM encrypts anything below 64 GiB");
        let mut out = Vec::with_capacity(13 + sealed.len());
        out.push(version);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn open(&self, context: &str, data: &[u8]) -> Option<Vec<u8>> {
        if data.len() < 13 + 16 {
            return None;
        }
        let cipher = self.ciphers.get(&data[0])?;
        cipher
            .decrypt(
                data[1..13].into(),
                Payload {
                    msg: &data[13..],
                    aad: context.as_bytes(),
                },
            )
            .ok()
    }

    /// Keyed blind index of a normalized value, per kind (`id_number`, `phone`), for exact lookup.
    pub fn blind_index(&self, kind: &str, value: &str) -> Vec<u8> {
        let mut mac = <Hmac<Sm3> as Mac>::new_from_slice(&self.index).expect("any key length");
        mac.update(kind.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        mac.finalize().into_bytes()[..16].to_vec()
    }
}

fn random_key() -> [u8; 32] {
    let mut k = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut k);
    k
}

/// The key that seals the audit chain: kept with the other keys, outside the database.
#[derive(Clone)]
pub struct AuditKey([u8; 32]);

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditKey(redacted)")
    }
}

impl AuditKey {
    /// HMAC-SM3 over the parts, separated so that no two lists of parts give the same input.
    pub fn mac(&self, parts: &[&str]) -> String {
        let mut mac = <Hmac<Sm3> as Mac>::new_from_slice(&self.0).expect("any key length");
        for p in parts {
            mac.update(p.as_bytes());
            mac.update(b"\x1f");
        }
        hex::encode(mac.finalize().into_bytes())
    }
}

impl Keys {
    /// Names the key file without revealing it: a backup records it, and a restore refuses a
    /// key file that cannot open the backup's fields.
    pub fn fingerprint(&self) -> String {
        hex::encode(&self.blind_index("key.fingerprint", "hongji")[..8])
    }

    pub fn audit_key(&self) -> AuditKey {
        AuditKey(self.audit)
    }
}

/// The associated data sealing a member's encrypted field to its record: a value copied to another
/// record or field does not open there.
pub fn member_context(field: &str, id: i64) -> String {
    format!("members.{field}:{id}")
}

/// SM3 of a secret token; tokens are stored only as this hash.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sm3::digest(token.as_bytes()).to_vec()
}

/// A new random token for sessions and API tokens, as 64 hex characters.
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

pub fn sm3_hex(data: &[u8]) -> String {
    hex::encode(Sm3::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_context_binding() {
        let k = Keys::generate();
        let c = k.encrypt("members.phone:1", "13800138000");
        assert_eq!(k.decrypt("members.phone:1", &c).as_deref(), Some("13800138000"));
        assert_eq!(k.decrypt("members.phone:2", &c), None);
        let mut tampered = c.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(k.decrypt("members.phone:1", &tampered), None);
        assert_ne!(k.encrypt("x", "same"), k.encrypt("x", "same"), "fresh nonce each time");
    }

    #[test]
    fn blind_index_is_keyed_and_stable() {
        let k = Keys::generate();
        assert_eq!(k.blind_index("phone", "1"), k.blind_index("phone", "1"));
        assert_ne!(k.blind_index("phone", "1"), k.blind_index("id_number", "1"));
        assert_ne!(k.blind_index("phone", "1"), Keys::generate().blind_index("phone", "1"));
    }

    #[test]
    fn key_file_round_trip() {
        let dir = std::env::temp_dir().join(format!("hongji-keys-{}", new_token()));
        let path = dir.join("hongji.keys");
        let a = Keys::load_or_create(&path).unwrap();
        let b = Keys::load_or_create(&path).unwrap();
        assert_eq!(b.decrypt("c", &a.encrypt("c", "v")).as_deref(), Some("v"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
