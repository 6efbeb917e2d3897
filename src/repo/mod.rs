//! rpm-md repositories, OpenPGP keys and signatures, `.repo` files and modulemd.
//!
//! - [`createrepo::createrepo`] writes repodata (primary, filelists, other, optional modules)
//!   for a directory of RPMs, incrementally and atomically, optionally signing `repomd.xml`.
//! - [`keys::SigningKey`] generates and loads keys rpm 4.18 and GnuPG accept;
//!   [`keys::KeyStore`] keeps one key per project.
//! - [`rpmsign::sign_rpm`] adds RPM header signatures in place, like `rpmsign --addsign`.
//! - [`repofile::render`] writes dnf `.repo` files in Copr's form.
//! - [`publish::publish_chroot`] does all of it for one build result directory.

pub mod bench;
pub mod cache;
pub mod createrepo;
pub mod header;
pub mod keys;
pub mod package;
pub mod publish;
pub mod repofile;
pub mod rpmsign;
pub mod xml;
