//! OpenPGP signing keys (sequoia-openpgp): generation in a form rpm 4.18 imports, loading,
//! binary and armored detached signatures, and a per-project key store.
//!
//! rpm 4.18 rejects any *critical* hashed subpacket other than creation time, issuer and key
//! flags, and sequoia's `CertBuilder` marks key expiry, primary user id and embedded
//! back-signatures critical. Keys are therefore built by hand: one v4 primary key (RSA or
//! Ed25519) with certify+sign flags, a non-critical expiry, and no subkeys. GnuPG (dnf's
//! repo_gpgcheck) accepts the same key.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sequoia_openpgp as openpgp;

use openpgp::Packet;
use openpgp::cert::Cert;
use openpgp::crypto::KeyPair;
use openpgp::packet::UserID;
use openpgp::packet::key::{Key4, PrimaryRole, SecretParts};
use openpgp::packet::signature::SignatureBuilder;
use openpgp::packet::signature::subpacket::{Subpacket, SubpacketValue};
use openpgp::parse::Parse;
use openpgp::serialize::Serialize as _;
use openpgp::serialize::SerializeInto as _;
use openpgp::types::{
    Curve, HashAlgorithm, KeyFlags, PublicKeyAlgorithm, SignatureType, SymmetricAlgorithm,
};

/// Key algorithm for new keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyAlgorithm {
    /// RSA 4096 — what every rpm and GnuPG version verifies.
    #[default]
    Rsa4096,
    /// RSA 3072.
    Rsa3072,
    /// Ed25519 — small and fast; needs rpm ≥ 4.16 (EL 9, Fedora 33+, Debian 12).
    Ed25519,
}

/// Errors about keys. Messages never contain key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not an OpenPGP secret key (expected the armored secret.asc written by `copr key generate`)", .0.display())]
    Malformed(PathBuf),
    #[error("{}: the file holds only a public key; signing needs the secret key", .0.display())]
    NoSecret(PathBuf),
    #[error("{}: the secret key is password-protected, which is not supported", .0.display())]
    Encrypted(PathBuf),
    #[error("{}: no valid signing-capable key in the certificate (expired or revoked?)", .0.display())]
    NoSigningKey(PathBuf),
    #[error("key generation failed: {0}")]
    Generate(String),
    #[error("signing failed: {0}")]
    Sign(String),
}

/// A loaded secret key able to sign. `Debug` shows only the fingerprint.
#[derive(Clone)]
pub struct SigningKey {
    cert: Cert,
    keypair_key: openpgp::packet::Key<SecretParts, openpgp::packet::key::UnspecifiedRole>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

fn gen_err(e: impl std::fmt::Display) -> KeyError {
    KeyError::Generate(e.to_string())
}

impl SigningKey {
    /// Generate a new key for `user_id` (e.g. `owner_project (copr) <owner#project@copr>`),
    /// valid for `validity` (None: no expiry).
    pub fn generate(
        user_id: &str,
        algorithm: KeyAlgorithm,
        validity: Option<Duration>,
    ) -> Result<SigningKey, KeyError> {
        // Back-date creation by a minute so clocks slightly behind still accept the key.
        let created = SystemTime::now() - Duration::from_secs(60);
        let mut key: Key4<SecretParts, PrimaryRole> = match algorithm {
            KeyAlgorithm::Rsa4096 => Key4::generate_rsa(4096),
            KeyAlgorithm::Rsa3072 => Key4::generate_rsa(3072),
            KeyAlgorithm::Ed25519 => Key4::generate_ecc(true, Curve::Ed25519),
        }
        .map_err(gen_err)?;
        key.set_creation_time(created).map_err(gen_err)?;
        let key: openpgp::packet::Key<SecretParts, PrimaryRole> = key.into();
        let mut keypair = key.clone().into_keypair().map_err(gen_err)?;
        let cert = Cert::try_from(vec![Packet::from(key.clone())]).map_err(gen_err)?;
        let uid = UserID::from(user_id);
        let mut builder = SignatureBuilder::new(SignatureType::PositiveCertification)
            .set_signature_creation_time(created)
            .map_err(gen_err)?
            .set_hash_algo(HashAlgorithm::SHA256)
            .set_key_flags(KeyFlags::empty().set_certification().set_signing())
            .map_err(gen_err)?
            .set_preferred_hash_algorithms(vec![HashAlgorithm::SHA256, HashAlgorithm::SHA512])
            .map_err(gen_err)?
            .set_preferred_symmetric_algorithms(vec![SymmetricAlgorithm::AES256])
            .map_err(gen_err)?;
        if let Some(d) = validity {
            let d: openpgp::types::Duration = d.try_into().map_err(gen_err)?;
            builder = builder
                .modify_hashed_area(|mut a| {
                    a.replace(Subpacket::new(SubpacketValue::KeyExpirationTime(d), false)?)?;
                    Ok(a)
                })
                .map_err(gen_err)?;
        }
        // Critical flags rpm 4.18 does not know make it reject the key; clear them.
        builder = builder
            .modify_hashed_area(|mut a| {
                let tags: Vec<_> = a.iter().filter(|p| p.critical()).map(|p| p.tag()).collect();
                for t in tags {
                    use openpgp::packet::signature::subpacket::SubpacketTag as T;
                    if !matches!(t, T::SignatureCreationTime | T::Issuer | T::KeyFlags) {
                        let packets: Vec<Subpacket> = a.subpackets(t).cloned().collect();
                        a.remove_all(t);
                        for p in packets {
                            a.add(Subpacket::new(p.value().clone(), false)?)?;
                        }
                    }
                }
                Ok(a)
            })
            .map_err(gen_err)?;
        let sig = uid.bind(&mut keypair, &cert, builder).map_err(gen_err)?;
        let cert = cert
            .insert_packets(vec![Packet::from(uid), sig.into()])
            .map_err(gen_err)?
            .0;
        Self::from_cert(cert, Path::new("<generated>"))
    }

    fn from_cert(cert: Cert, path: &Path) -> Result<SigningKey, KeyError> {
        if !cert.is_tsk() {
            return Err(KeyError::NoSecret(path.to_path_buf()));
        }
        let policy = openpgp::policy::StandardPolicy::new();
        let ka = cert
            .keys()
            .with_policy(&policy, None)
            .supported()
            .alive()
            .revoked(false)
            .for_signing()
            .secret()
            .next()
            .ok_or_else(|| KeyError::NoSigningKey(path.to_path_buf()))?;
        let key = ka.key().clone();
        if !key.has_unencrypted_secret() {
            return Err(KeyError::Encrypted(path.to_path_buf()));
        }
        let keypair_key = key.role_into_unspecified();
        Ok(SigningKey { cert, keypair_key })
    }

    /// Load a secret key file (armored or binary).
    pub fn load(path: &Path) -> Result<SigningKey, KeyError> {
        let bytes = std::fs::read(path).map_err(|source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let cert = Cert::from_bytes(&bytes).map_err(|_| KeyError::Malformed(path.to_path_buf()))?;
        Self::from_cert(cert, path)
    }

    fn keypair(&self) -> Result<KeyPair, KeyError> {
        self.keypair_key
            .clone()
            .into_keypair()
            .map_err(|e| KeyError::Sign(e.to_string()))
    }

    /// Upper-case hex fingerprint of the primary key.
    pub fn fingerprint(&self) -> String {
        self.cert.fingerprint().to_hex()
    }

    /// The 16-hex-digit key id of the signing key (as `rpmkeys -Kv` and gpg print it).
    pub fn key_id(&self) -> String {
        self.keypair_key.keyid().to_hex()
    }

    /// Name under which `rpm --import` stores the key: `gpg-pubkey-<keyid8>-<ctime hex>`.
    pub fn rpm_pubkey_name(&self) -> String {
        let id = self.key_id().to_lowercase();
        let ctime = self
            .cert
            .primary_key()
            .key()
            .creation_time()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        format!("gpg-pubkey-{}-{ctime:08x}", &id[id.len() - 8..])
    }

    /// First user id, as text.
    pub fn user_id(&self) -> String {
        self.cert
            .userids()
            .next()
            .map(|u| String::from_utf8_lossy(u.userid().value()).into_owned())
            .unwrap_or_default()
    }

    /// Whether header signatures go into RSAHEADER (268) rather than DSAHEADER (267).
    pub fn is_rsa(&self) -> bool {
        #[allow(deprecated)]
        let rsa_sign = PublicKeyAlgorithm::RSASign;
        let algo = self.keypair_key.pk_algo();
        algo == PublicKeyAlgorithm::RSAEncryptSign || algo == rsa_sign
    }

    /// Armored public key (`pubkey.gpg`).
    pub fn public_armored(&self) -> Result<Vec<u8>, KeyError> {
        self.cert
            .armored()
            .to_vec()
            .map_err(|e| KeyError::Sign(e.to_string()))
    }

    /// Armored secret key (`secret.asc`).
    pub fn secret_armored(&self) -> Result<Vec<u8>, KeyError> {
        self.cert
            .as_tsk()
            .armored()
            .to_vec()
            .map_err(|e| KeyError::Sign(e.to_string()))
    }

    /// A binary-document signature over `data`, SHA-256, made now.
    fn signature(&self, data: &[u8]) -> Result<Packet, KeyError> {
        let mut kp = self.keypair()?;
        SignatureBuilder::new(SignatureType::Binary)
            .set_hash_algo(HashAlgorithm::SHA256)
            .set_signature_creation_time(SystemTime::now())
            .and_then(|b| b.sign_message(&mut kp, data))
            .map(Packet::from)
            .map_err(|e| KeyError::Sign(e.to_string()))
    }

    /// One binary OpenPGP signature packet over `data` (an RPM header), SHA-256.
    pub fn sign_binary(&self, data: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.signature(data)?
            .to_vec()
            .map_err(|e| KeyError::Sign(e.to_string()))
    }

    /// Armored detached signature over `data` (`repomd.xml.asc`).
    pub fn sign_detached_armored(&self, data: &[u8]) -> Result<Vec<u8>, KeyError> {
        let sig = self.signature(data)?;
        let mut out = Vec::new();
        {
            let mut w = openpgp::armor::Writer::new(&mut out, openpgp::armor::Kind::Signature)
                .map_err(|e| KeyError::Sign(e.to_string()))?;
            sig.serialize(&mut w)
                .map_err(|e| KeyError::Sign(e.to_string()))?;
            w.finalize().map_err(|e| KeyError::Sign(e.to_string()))?;
        }
        Ok(out)
    }

    /// Whether a binary signature packet was issued by this key.
    pub fn issued(&self, signature_packet: &[u8]) -> bool {
        let Ok(Packet::Signature(sig)) = Packet::from_bytes(signature_packet) else {
            return false;
        };
        let mine = openpgp::KeyHandle::from(self.keypair_key.fingerprint());
        sig.get_issuers().iter().any(|h| h.aliases(&mine))
    }

    /// Write `pubkey.gpg` (0644) and `secret.asc` (0600) into `dir`.
    pub fn write_files(&self, dir: &Path) -> Result<(PathBuf, PathBuf), KeyError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| KeyError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let public = dir.join("pubkey.gpg");
        let secret = dir.join("secret.asc");
        super::cache::write_atomic(&public, &self.public_armored()?).map_err(io(&public))?;
        write_secret(&secret, &self.secret_armored()?).map_err(io(&secret))?;
        Ok((public, secret))
    }
}

/// Write a secret file created with mode 0600 (never world-readable, not even briefly).
pub fn write_secret(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-key-")
        .tempfile_in(dir)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    let (file, tmp_path) = tmp.into_parts();
    let mut file = file;
    file.write_all(bytes)?;
    file.sync_all()?;
    tmp_path.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Per-project keys kept in a directory: `<root>/<owner>/<project>/secret.asc` (0600, in 0700
/// directories). A key is created on first use and reused afterwards.
#[derive(Debug, Clone)]
pub struct KeyStore {
    root: PathBuf,
    /// Algorithm of keys this store creates.
    pub algorithm: KeyAlgorithm,
    /// Validity of keys this store creates (Copr: 5 years).
    pub validity: Option<Duration>,
}

impl KeyStore {
    /// A store whose new keys are RSA 3072: verified by every rpm and GnuPG in use (EL 8
    /// included), with signatures about half the CPU of RSA 4096 — every build signs each
    /// package and `repomd.xml`, so this is on every build's path.
    pub fn new(root: impl Into<PathBuf>) -> KeyStore {
        KeyStore {
            root: root.into(),
            algorithm: KeyAlgorithm::Rsa3072,
            validity: Some(Duration::from_secs(5 * 365 * 86400)),
        }
    }

    /// Directory holding one project's key.
    pub fn project_dir(&self, owner: &str, project: &str) -> PathBuf {
        self.root.join(sanitize(owner)).join(sanitize(project))
    }

    /// The project's key, generated (and stored) the first time it is asked for.
    pub fn get_or_create(&self, owner: &str, project: &str) -> Result<SigningKey, KeyError> {
        let dir = self.project_dir(owner, project);
        let secret = dir.join("secret.asc");
        if secret.exists() {
            return SigningKey::load(&secret);
        }
        use std::os::unix::fs::DirBuilderExt;
        for d in [
            &self.root,
            &dir.parent().unwrap_or(&dir).to_path_buf(),
            &dir,
        ] {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(d)
                .map_err(|source| KeyError::Io {
                    path: d.to_path_buf(),
                    source,
                })?;
        }
        // Concurrent first builds of a project must end up with one key.
        let lock_path = dir.join(".lock");
        let _lock =
            super::createrepo::lock_exclusive(&lock_path).map_err(|source| KeyError::Io {
                path: lock_path.clone(),
                source,
            })?;
        if secret.exists() {
            return SigningKey::load(&secret);
        }
        let key = SigningKey::generate(
            &default_user_id(owner, project),
            self.algorithm,
            self.validity,
        )?;
        key.write_files(&dir)?;
        Ok(key)
    }
}

/// Copr's user id form: `owner_project (copr) <owner#project@copr.local>`.
pub fn default_user_id(owner: &str, project: &str) -> String {
    format!("{owner}_{project} (copr) <{owner}#{project}@copr.local>")
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | '+') {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .trim_start_matches('.')
        .to_string()
}
