//! authn's behaviour tests, one module per part, in one binary: each test binary links actix,
//! aws-lc and SQLite again, so one binary builds and links once. The tests that need a binary of
//! their own stay beside this folder: `validate` (its routes are wrong on purpose, and
//! `validate()` reads the whole binary), `events` (a global tracing subscriber) and the linker
//! tests.

use authn_tests as _;

mod adapter;
mod api_key;
mod basic;
mod body;
mod group;
mod group_bypass;
mod group_properties;
mod handlers;
mod jwt;
mod jwt_attacks;
mod jwt_config;
mod jwt_limits;
mod jwt_properties;
mod jwt_store;
mod no_credential_echo;
mod oauth2;
mod openapi;
mod over_tcp;
mod parity;
mod password_hashing;
mod readme_tables;
mod throttle;
