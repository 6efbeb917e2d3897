//! rpm-md repositories, OpenPGP keys and signatures, `.repo` files and modulemd.
