//! Keeping sessions alive: the SSO session kept between sign-ins (`state`) and the renewal that
//! makes a scope ready to run (`renew`), under one lock per project. I/O on top of read and
//! write; the commands `sso-login`, `refresh`, `exec` and `credential-process` wire it.

pub mod renew;
pub mod state;
