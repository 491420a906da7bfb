//! Shared by the two push end-to-end suites (`push.rs`, `edumfa.rs`): the real servers and the
//! scenario runner ([`harness`]), and the phone and the terminal app that drive them ([`phone`]).

#![allow(dead_code)] // each suite uses its own subset

pub mod harness;
pub mod phone;
